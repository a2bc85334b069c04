"""Dense, Dropout and Flatten network layers."""

import numpy as np

from tsrnn._validation import check_positive_int
from tsrnn.initializers import glorot_uniform
from tsrnn.layers.base import Layer, check_activation


class Dense(Layer):
    """Fully connected layer ``y = act(x W + b)`` on the last axis.

    Parameters
    ----------
    units : int
        Output features (a positive integer).
    activation : {'linear', 'relu', 'tanh', 'sigmoid'} or None, default='linear'
        The classification heads output logits (linear) and apply sigmoid or
        softmax inside the loss, which is the numerically stable form.

    Applied to a sequence ``(batch, n_steps, features)`` it acts on every step.
    """

    name = "dense"
    supports_mask = True

    def __init__(self, units, activation="linear"):
        self.units = check_positive_int(units, "units")
        self.activation, self._code = check_activation(activation)

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        return {"units": self.units, "activation": self.activation}

    def _output_shape(self, input_shape):
        return input_shape[:-1] + (self.units,)

    def param_specs(self):
        """``W`` of shape (features, units) and ``b`` of shape (units,)."""
        return [("W", (self.input_shape[-1], self.units)), ("b", (self.units,))]

    def init_params(self, params, rng):
        """Glorot-uniform ``W`` and zero ``b``."""
        n_in = self.input_shape[-1]
        params["W"][...] = glorot_uniform(rng, params["W"].shape, n_in, self.units, self.dtype)
        params["b"][...] = 0

    def forward(self, params, x, ctx):
        """Apply ``act(x W + b)`` on the last axis.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        # tuple(): the CUDA simulator's shapes refuse negative indexes.
        x2 = x.reshape(-1, tuple(x.shape)[-1])
        y = self.backend.arrays.empty((x2.shape[0], self.units), self.dtype)
        self.backend.dense.dense_forward(x2, params["W"], params["b"], self._code, y)
        return y.reshape(x.shape[:-1] + (self.units,)), (x2, y)

    def backward(self, params, cache, dy, grads):
        """Gradients of ``W``, ``b`` and the input.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        x2, y = cache
        arrays = self.backend.arrays
        dy2 = arrays.contiguous(dy.reshape(y.shape))
        dx = arrays.empty_like(x2)
        self.backend.dense.dense_backward(
            x2, params["W"], y, dy2, self._code, dx, grads["W"], grads["b"], arrays.empty_like(y)
        )
        return dx.reshape(dy.shape[:-1] + (x2.shape[1],))


class Dropout(Layer):
    """Inverted dropout: ``x * keep / (1 - rate)`` in training, identity at inference.

    Parameters
    ----------
    rate : float in [0, 1)
        The fraction of inputs set to zero; each element is kept with probability
        ``1 - rate``.

    Raises
    ------
    ValueError
        If ``rate`` is outside [0, 1).
    """

    name = "dropout"
    supports_mask = True

    def __init__(self, rate):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

    @property
    def draws_random(self):
        """Whether training draws a mask (a rate above 0)."""
        return self.rate > 0

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        return {"rate": self.rate}

    def forward(self, params, x, ctx):
        """Drop and rescale in training; identity at inference.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        if not ctx.training or self.rate == 0.0:
            return x, None
        arrays = self.backend.arrays
        keep = arrays.keep_mask(ctx.rng, x.shape, self.rate)
        y = arrays.empty_like(x)
        self.backend.dense.scale_by_mask(x, keep, 1.0 / (1.0 - self.rate), y)
        return y, keep

    def backward(self, params, cache, dy, grads):
        """Apply the forward mask and scale to ``dy``.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        if cache is None:
            return dy
        arrays = self.backend.arrays
        dx = arrays.empty_like(dy)
        self.backend.dense.scale_by_mask(arrays.contiguous(dy), cache, 1.0 / (1.0 - self.rate), dx)
        return dx


class Flatten(Layer):
    """``(batch, n_steps, channels)`` to ``(batch, n_steps * channels)``, step-major."""

    name = "flatten"

    def _output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            raise ValueError(
                "Flatten needs a fixed sequence length; the network was built for "
                f"input shape {input_shape}"
            )
        return (int(np.prod(input_shape)),)

    def forward(self, params, x, ctx):
        """Reshape to ``(batch, n_steps * channels)``.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        self._reject_mask(ctx)
        if x.shape[1:] != self.input_shape:
            raise ValueError(
                f"Flatten was built for sequences of shape {self.input_shape}, got "
                f"{x.shape[1:]}: a flattening network needs the training sequence length"
            )
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, params, cache, dy, grads):
        """Reshape ``dy`` back to the input's shape.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        return dy.reshape(cache)
