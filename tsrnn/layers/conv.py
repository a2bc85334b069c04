"""Conv1D and pooling network layers over the time axis."""

import numpy as np

from tsrnn._validation import check_positive_int
from tsrnn.initializers import glorot_uniform
from tsrnn.kernels.shapes import conv_padding
from tsrnn.layers.base import Layer, check_activation

PADDINGS = ("valid", "same", "causal")


class Conv1D(Layer):
    """1-D convolution over time, ``(batch, n_steps, channels) -> (batch, n_out, filters)``.

    Parameters
    ----------
    filters : int
        Output channels.
    kernel_size : int
        Steps each filter spans (before dilation).
    strides : int, default=1
        Steps between the starts of consecutive windows.
    dilation_rate : int, default=1
        Steps between the taps of a filter; cannot be combined with ``strides > 1``.
    padding : {'valid', 'same', 'causal'}, default='valid'
        'causal' pads on the left only, so step t sees inputs up to t; it is the one
        mode that keeps variable-length (masked) batches exact, with ``strides=1``.
    activation : {'relu', 'linear', 'tanh', 'sigmoid'} or None, default='relu'
        Applied to the output; None is 'linear'.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``padding`` or ``activation`` is unknown,
        or ``strides`` and ``dilation_rate`` are both above 1.

    Notes
    -----
    Weights have shape ``(kernel_size, channels, filters)`` (Keras' layout).
    """

    name = "conv1d"

    def __init__(
        self, filters, kernel_size, strides=1, dilation_rate=1, padding="valid", activation="relu"
    ):
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size")
        self.strides = check_positive_int(strides, "strides")
        self.dilation_rate = check_positive_int(dilation_rate, "dilation_rate")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {list(PADDINGS)}, got {padding!r}")
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError("strides > 1 together with dilation_rate > 1 is not supported")
        self.padding = padding
        self.activation, self._code = check_activation(activation)

    @property
    def supports_mask(self):
        """Whether padded batches are exact: causal padding with stride 1."""
        return self.padding == "causal" and self.strides == 1

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        names = ("filters", "kernel_size", "strides", "dilation_rate", "padding", "activation")
        return {k: getattr(self, k) for k in names}

    def _geometry(self, n_steps):
        return conv_padding(
            n_steps, self.kernel_size, self.strides, self.dilation_rate, self.padding
        )

    def _output_shape(self, input_shape):
        n_steps, _ = input_shape
        if n_steps is None:
            return (None, self.filters)
        n_out = self._geometry(n_steps)[2]
        if n_out < 1:
            raise ValueError(
                f"Conv1D(kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate}) "
                f"needs sequences of at least {self.dilation_rate * (self.kernel_size - 1) + 1}"
                f" steps with padding='valid', got {n_steps}"
            )
        return (n_out, self.filters)

    def param_specs(self):
        """``W`` (kernel_size, channels, filters) and ``b`` (filters,)."""
        return [
            ("W", (self.kernel_size, self.input_shape[1], self.filters)),
            ("b", (self.filters,)),
        ]

    def init_params(self, params, rng):
        """Glorot-uniform ``W`` (fan in ``kernel_size * channels``), zero ``b``."""
        k, c = self.kernel_size, self.input_shape[1]
        params["W"][...] = glorot_uniform(
            rng, params["W"].shape, k * c, k * self.filters, self.dtype
        )
        params["b"][...] = 0

    def forward(self, params, x, ctx):
        """Convolve over time and apply the activation.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        if not self.supports_mask:
            self._reject_mask(ctx)
        batch, n_steps, channels = x.shape
        left, _, n_out = self._geometry(n_steps)
        if n_out < 1:
            raise ValueError(f"sequences of {n_steps} steps are too short for {self!r}")
        arrays = self.backend.arrays
        cols = arrays.empty((batch * n_out, self.kernel_size * channels), self.dtype)
        y = arrays.empty((batch, n_out, self.filters), self.dtype)
        self.backend.conv.conv1d_forward(
            x,
            params["W"],
            params["b"],
            self.strides,
            self.dilation_rate,
            left,
            self._code,
            cols,
            y,
        )
        return y, (x, cols, y, left)

    def backward(self, params, cache, dy, grads):
        """Gradients of ``W``, ``b`` and (unless first) the input.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        x, cols, y, left = cache
        need_dx = self.needs_input_gradient
        arrays = self.backend.arrays
        dx = arrays.empty_like(x) if need_dx else arrays.empty((0, 0, 0), x.dtype)
        self.backend.conv.conv1d_backward(
            x,
            params["W"],
            self.strides,
            self.dilation_rate,
            left,
            self._code,
            cols,
            y,
            arrays.contiguous(dy),
            dx,
            grads["W"],
            grads["b"],
            arrays.empty_like(y),
            arrays.empty_like(cols) if need_dx else cols[:0],
            need_dx,
        )
        return dx if need_dx else None


class _Pooling1D(Layer):
    """Pooling over windows of ``pool_size`` steps, every ``strides`` steps."""

    #: Average pooling pools whole windows only; MaxPooling1D sets its own.
    padding = "valid"

    def __init__(self, pool_size=2, strides=None):
        self.pool_size = check_positive_int(pool_size, "pool_size")
        self.strides = (
            self.pool_size if strides is None else check_positive_int(strides, "strides")
        )

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        return {"pool_size": self.pool_size, "strides": self.strides}

    def _geometry(self, n_steps):
        return conv_padding(n_steps, self.pool_size, self.strides, 1, self.padding)

    def _output_shape(self, input_shape):
        n_steps, channels = input_shape
        if n_steps is None:
            return (None, channels)
        n_out = self._geometry(n_steps)[2]
        if n_out < 1:
            raise ValueError(
                f"{type(self).__name__}(pool_size={self.pool_size}) needs at "
                f"least {self.pool_size} steps, got {n_steps}"
            )
        return (n_out, channels)

    def _out(self, x):
        n_out = self._geometry(x.shape[1])[2]
        if n_out < 1:
            raise ValueError(f"sequences of {x.shape[1]} steps are too short for {self!r}")
        return self.backend.arrays.empty((x.shape[0], n_out, x.shape[2]), x.dtype)


class MaxPooling1D(_Pooling1D):
    """Maximum over windows of ``pool_size`` steps (gradient to the first argmax).

    Parameters
    ----------
    pool_size : int, default=2
        Steps per window.
    strides : int, optional
        Steps between window starts; ``pool_size`` (windows that do not overlap) if
        omitted.
    padding : {'valid', 'same', 'causal'}, default='valid'
        'valid' pools whole windows only; 'same' gives ``ceil(n_steps / strides)``
        outputs, padding with -inf (a padded step never wins) and, for an even
        ``pool_size``, one step more on the right than on the left, as Keras does
        (PyTorch's ``max_pool1d`` pads both sides equally); 'causal' pads
        ``pool_size - 1`` steps on the left, so that step t sees inputs up to t: with
        ``strides=1`` it is the mode that keeps variable-length (masked) batches exact.

    Raises
    ------
    ValueError
        If ``pool_size`` or ``strides`` is not a positive integer, or ``padding`` is
        unknown.
    """

    name = "max_pooling1d"

    def __init__(self, pool_size=2, strides=None, padding="valid"):
        super().__init__(pool_size, strides)
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {list(PADDINGS)}, got {padding!r}")
        self.padding = padding

    @property
    def supports_mask(self):
        """Whether padded batches are exact: causal padding with stride 1."""
        return self.padding == "causal" and self.strides == 1

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        return {**super().get_config(), "padding": self.padding}

    def forward(self, params, x, ctx):
        """Maximum over each window, keeping the argmax.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        if not self.supports_mask:
            self._reject_mask(ctx)
        y = self._out(x)
        arg = self.backend.arrays.empty(y.shape, np.int64)
        left = self._geometry(x.shape[1])[0]
        self.backend.conv.max_pool_forward(x, self.pool_size, self.strides, left, y, arg)
        return y, (arg, x.shape, left)

    def backward(self, params, cache, dy, grads):
        """Route ``dy`` to each window's first argmax.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        arg, shape, left = cache
        arrays = self.backend.arrays
        dx = arrays.empty(shape, dy.dtype)
        self.backend.conv.max_pool_backward(
            arrays.contiguous(dy), arg, self.pool_size, self.strides, left, dx
        )
        return dx


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps.

    Parameters
    ----------
    pool_size : int, default=2
        Steps per window.
    strides : int, optional
        Steps between window starts; ``pool_size`` (windows that do not overlap) if
        omitted.

    Raises
    ------
    ValueError
        If ``pool_size`` or ``strides`` is not a positive integer.
    """

    name = "average_pooling1d"

    def forward(self, params, x, ctx):
        """Mean over each window.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        self._reject_mask(ctx)
        y = self._out(x)
        self.backend.conv.average_pool_forward(x, self.pool_size, self.strides, y)
        return y, x.shape

    def backward(self, params, cache, dy, grads):
        """Spread ``dy`` evenly over each window.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        arrays = self.backend.arrays
        dx = arrays.empty(cache, dy.dtype)
        self.backend.conv.average_pool_backward(
            arrays.contiguous(dy), self.pool_size, self.strides, dx
        )
        return dx


class _GlobalPooling1D(Layer):
    """Pool over all (real) steps: ``(batch, n_steps, channels) -> (batch, channels)``.

    With a padding mask only the real steps count, and the mask ends here.
    """

    supports_mask = True

    def _output_shape(self, input_shape):
        return (input_shape[1],)

    def _mask(self, x, ctx):
        if ctx.mask is None:
            return self.backend.arrays.ones_mask(x.shape[:2])
        return ctx.mask


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the real steps: ``(batch, n_steps, channels) -> (batch, channels)``.

    With a padding mask only the real steps count, and the mask ends here.
    """

    name = "global_average_pooling1d"

    def forward(self, params, x, ctx):
        """Mean of each channel over the real steps.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        mask = self._mask(x, ctx)
        arrays = self.backend.arrays
        y = arrays.empty((x.shape[0], x.shape[2]), x.dtype)
        count = arrays.empty(x.shape[0], np.int64)
        self.backend.conv.global_average_pool_forward(x, mask, y, count)
        return y, (mask, count, x.shape)

    def backward(self, params, cache, dy, grads):
        """Spread ``dy`` over the real steps.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        mask, count, shape = cache
        arrays = self.backend.arrays
        dx = arrays.empty(shape, dy.dtype)
        self.backend.conv.global_average_pool_backward(arrays.contiguous(dy), mask, count, dx)
        return dx


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the real steps: ``(batch, n_steps, channels) -> (batch, channels)``.

    With a padding mask only the real steps count, and the mask ends here.
    """

    name = "global_max_pooling1d"

    def forward(self, params, x, ctx):
        """Maximum of each channel over the real steps.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        mask = self._mask(x, ctx)
        arrays = self.backend.arrays
        y = arrays.empty((x.shape[0], x.shape[2]), x.dtype)
        arg = arrays.empty(y.shape, np.int64)
        self.backend.conv.global_max_pool_forward(x, mask, y, arg)
        return y, (arg, x.shape)

    def backward(self, params, cache, dy, grads):
        """Route ``dy`` to each argmax step.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        arg, shape = cache
        arrays = self.backend.arrays
        dx = arrays.empty(shape, dy.dtype)
        self.backend.conv.global_max_pool_backward(arrays.contiguous(dy), arg, dx)
        return dx
