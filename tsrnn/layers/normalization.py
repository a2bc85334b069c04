"""Normalisation layers (BatchNormalization, LayerNormalization) and the Activation layer.

Both normalisations act on the last (feature, channel) axis of ``(batch, n_steps,
features)`` sequences or ``(batch, features)`` vectors, like Keras' layers with
``axis=-1``.
"""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_parameter_constraints

from tsrnn.kernels.scalar import LINEAR
from tsrnn.layers.base import Layer, check_activation

_NORMALIZATION_CONSTRAINTS = {
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "center": ["boolean"],
    "scale": ["boolean"],
}


class _Normalization(Layer):
    supports_mask = True
    _parameter_constraints = _NORMALIZATION_CONSTRAINTS

    def __init__(self, epsilon, center, scale, **more):
        """Validate every constructor argument (``more``: a subclass's own ones)."""
        validate_parameter_constraints(
            self._parameter_constraints,
            {"epsilon": epsilon, "center": center, "scale": scale, **more},
            caller_name=type(self).__name__,
        )
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)

    def get_config(self):
        return {"epsilon": self.epsilon, "center": self.center, "scale": self.scale}

    @property
    def n_features(self):
        return self.input_shape[-1]

    def _affine_specs(self):
        specs = [("gamma", (self.n_features,))] if self.scale else []
        return specs + ([("beta", (self.n_features,))] if self.center else [])

    def init_params(self, params, rng):
        # Constants (Keras' initialisers): nothing is drawn from rng, so adding the layer
        # leaves the other layers' initial weights unchanged.
        for name, value in (("gamma", 1), ("beta", 0), ("moving_mean", 0), ("moving_variance", 1)):
            if name in params:
                params[name][...] = value

    def _affine(self, params):
        """``(gamma, beta)``: the parameters, or ones and zeros where scale or center is off."""
        arrays = self.backend.arrays
        gamma = (
            params["gamma"]
            if self.scale
            else arrays.to_device(np.ones(self.n_features, self.dtype))
        )
        beta = params["beta"] if self.center else arrays.zeros((self.n_features,), self.dtype)
        return gamma, beta

    def _affine_grads(self, grads):
        arrays = self.backend.arrays
        scratch = (self.n_features,)
        return (
            grads["gamma"] if self.scale else arrays.empty(scratch, self.dtype),
            grads["beta"] if self.center else arrays.empty(scratch, self.dtype),
        )

    def _rows(self, x):
        # tuple(): the CUDA simulator's shapes refuse negative indexes.
        return x.reshape(-1, tuple(x.shape)[-1])


class BatchNormalization(_Normalization):
    """Normalise each feature over the batch (and the steps), then scale and shift.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` per feature. In training
    (the forward context's ``training`` flag) ``mean`` and ``var`` are the statistics
    of the batch over its samples and steps, padded steps excluded, and the moving
    statistics are updated; at inference they are the moving statistics.

    Parameters
    ----------
    momentum : float in [0, 1], default=0.99
        ``moving = momentum * moving + (1 - momentum) * batch statistic`` (Keras'
        convention). PyTorch's ``BatchNorm1d(momentum=m)`` is ``momentum = 1 - m``
        here: its default 0.1 is ``momentum=0.9``.
    epsilon : float > 0, default=1e-3
        Added to the variance (PyTorch's ``eps``, whose default is 1e-5).
    center : bool, default=True
        Learn the shift ``beta``; without it ``beta = 0``.
    scale : bool, default=True
        Learn the scale ``gamma``; without it ``gamma = 1``.
    activation : {'linear', 'relu', 'tanh', 'sigmoid'} or None, default='linear'
        Applied to the normalised output, in the same pass: ``BatchNormalization(
        activation='relu')`` computes exactly what ``BatchNormalization()`` followed
        by ``Activation('relu')`` does, with one pass less over the data each way
        (the conv presets of :mod:`tsrnn.architectures` use it).

    Notes
    -----
    The moving statistics are parameters of the network's flat buffer
    (``moving_mean`` initialised to 0, ``moving_variance`` to 1), so model files,
    checkpoints and device moves carry them; their gradient is always zero, and
    :attr:`non_trainable_params` names them so that the training step undoes any
    change an optimizer's weight decay would make to them. The moving variance
    is updated with the unbiased batch variance (``n / (n - 1)`` times the one
    used to normalise), as in PyTorch and TensorFlow's fused kernel. A batch
    whose statistics are not all finite leaves the moving statistics unchanged.

    Examples
    --------
    >>> from tsrnn import BatchNormalization, Conv1D, Dense, GlobalAveragePooling1D, Network
    >>> net = Network([Conv1D(8, 3, padding="same", activation="linear"),
    ...                BatchNormalization(activation="relu"), GlobalAveragePooling1D(),
    ...                Dense(1)]).build((100, 1), random_state=0)
    >>> [name for name in net.params if "moving" in name]
    ['1.batch_normalization.moving_mean', '1.batch_normalization.moving_variance']
    """

    name = "batch_normalization"
    non_trainable_params = ("moving_mean", "moving_variance")
    _parameter_constraints = {
        **_NORMALIZATION_CONSTRAINTS,
        "momentum": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, activation="linear"):
        super().__init__(epsilon, center, scale, momentum=momentum)
        self.momentum = float(momentum)
        self.activation, self._code = check_activation(activation)

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        config = {"momentum": self.momentum, **super().get_config()}
        if self.activation != "linear":  # files of linear layers stay as before
            config["activation"] = self.activation
        return config

    def param_specs(self):
        """Affine parameters (when learned), then the moving statistics."""
        moving = [("moving_mean", (self.n_features,)), ("moving_variance", (self.n_features,))]
        return self._affine_specs() + moving

    def forward(self, params, x, ctx):
        """Normalise with batch (training) or moving statistics.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        arrays, kernels = self.backend.arrays, self.backend.normalization
        x2 = self._rows(x)
        y = arrays.empty(x2.shape, self.dtype)
        mean = arrays.empty((self.n_features,), np.float64)
        inv_std = arrays.empty((self.n_features,), np.float64)
        gamma, beta = self._affine(params)
        mm, mv = params["moving_mean"], params["moving_variance"]
        if ctx.training:
            if ctx.mask is not None and len(x.shape) == 3:
                mask = ctx.mask.reshape(-1)
            else:  # no padding, or vectors whose sequence (and mask) ended upstream
                mask = arrays.ones_mask((x2.shape[0],))
            kernels.batch_norm_train_forward(
                x2,
                mask,
                gamma,
                beta,
                self.epsilon,
                self.momentum,
                mm,
                mv,
                y,
                mean,
                inv_std,
                self._code,
            )
        else:
            mask = None
            kernels.batch_norm_inference_forward(
                x2, gamma, beta, self.epsilon, mm, mv, y, mean, inv_std, self._code
            )
        return y.reshape(x.shape), (x2, mask, gamma, mean, inv_std, y)

    def backward(self, params, cache, dy, grads):
        """Gradients of the affine parameters and the input.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        x2, mask, gamma, mean, inv_std, y = cache
        arrays = self.backend.arrays
        training = mask is not None
        if not training:
            mask = arrays.ones_mask((x2.shape[0],))
        shape, code = dy.shape, self._code
        dy = arrays.contiguous(dy.reshape(x2.shape))
        if code != LINEAR and not x2.dtype == dy.dtype == self.dtype:
            # An Activation layer rounds its gradient to the layer's dtype; the fused
            # kernel forms it in x's and dy's. Arrays in another dtype than the layer's
            # (never from a Network, which casts) take the two steps apart.
            da = arrays.empty(x2.shape, self.dtype)
            self.backend.dense.activation_backward(y, dy, code, da)
            dy, code = da, LINEAR
        dx = arrays.empty_like(x2)
        dgamma, dbeta = self._affine_grads(grads)
        sums = arrays.empty((3, self.n_features), np.float64)
        self.backend.normalization.batch_norm_backward(
            x2,
            mask,
            dy,
            gamma,
            mean,
            inv_std,
            training,
            dx,
            dgamma,
            dbeta,
            sums,
            y,
            code,
        )
        for name in self.non_trainable_params:
            arrays.copy_into(0.0, grads[name])  # the gradient buffer is reused between steps
        return dx.reshape(shape)


class LayerNormalization(_Normalization):
    """Normalise each step (or vector) over its features, then scale and shift.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the mean and the
    (biased) variance of each row's features; the same in training and inference,
    as ``torch.nn.LayerNorm(features, eps=epsilon)``. Steps are independent, so
    padding does not affect real steps.

    Parameters
    ----------
    epsilon : float > 0, default=1e-3
        Added to the variance.
    center : bool, default=True
        Learn the shift ``beta``; without it ``beta = 0``.
    scale : bool, default=True
        Learn the scale ``gamma``; without it ``gamma = 1``.
    """

    name = "layer_normalization"

    def __init__(self, epsilon=1e-3, center=True, scale=True):
        super().__init__(epsilon, center, scale)

    def param_specs(self):
        """``gamma`` and ``beta`` (when learned), each (features,)."""
        return self._affine_specs()

    def forward(self, params, x, ctx):
        """Normalise each row over its features.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        arrays = self.backend.arrays
        x2 = self._rows(x)
        y = arrays.empty(x2.shape, self.dtype)
        mean = arrays.empty((x2.shape[0],), np.float64)
        inv_std = arrays.empty((x2.shape[0],), np.float64)
        gamma, beta = self._affine(params)
        self.backend.normalization.layer_norm_forward(
            x2, gamma, beta, self.epsilon, y, mean, inv_std
        )
        return y.reshape(x.shape), (x2, gamma, mean, inv_std)

    def backward(self, params, cache, dy, grads):
        """Gradients of the affine parameters and the input.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        x2, gamma, mean, inv_std = cache
        arrays = self.backend.arrays
        dx = arrays.empty_like(x2)
        dgamma, dbeta = self._affine_grads(grads)
        sums = arrays.empty((2, self.n_features), np.float64)
        self.backend.normalization.layer_norm_backward(
            x2,
            arrays.contiguous(dy.reshape(x2.shape)),
            gamma,
            mean,
            inv_std,
            dx,
            dgamma,
            dbeta,
            sums,
        )
        return dx.reshape(dy.shape)


class Activation(Layer):
    """Apply an activation elementwise: ``y = act(x)``.

    Parameters
    ----------
    activation : {'linear', 'relu', 'tanh', 'sigmoid'} or None
        None is 'linear' (the identity).
    """

    name = "activation"
    supports_mask = True

    def __init__(self, activation):
        self.activation, self._code = check_activation(activation)

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        return {"activation": self.activation}

    def forward(self, params, x, ctx):
        """Apply the activation elementwise.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        if self.activation == "linear":
            return x, None
        arrays = self.backend.arrays
        x = arrays.contiguous(x)
        y = arrays.empty_like(x)
        self.backend.normalization.activation_forward(x, self._code, y)
        return y, y

    def backward(self, params, cache, dy, grads):
        """Multiply ``dy`` by the derivative.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        if cache is None:
            return dy
        arrays = self.backend.arrays
        dx = arrays.empty_like(cache)
        self.backend.dense.activation_backward(cache, arrays.contiguous(dy), self._code, dx)
        return dx
