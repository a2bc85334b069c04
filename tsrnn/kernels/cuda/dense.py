"""Dense layer, activations and dropout (GPU); the twin of :mod:`tsrnn.kernels.cpu.dense`.

Arrays are 2-D device arrays ``(rows, features)``; elementwise kernels run one
thread per element of the flattened array.
"""

from numba import cuda

from tsrnn.kernels.cuda._launch import blocks
from tsrnn.kernels.cuda._scalar import activate, activation_slope
from tsrnn.kernels.cuda.linalg import column_sums, gemm


@cuda.jit
def _bias_activation(y, b, activation):
    i = cuda.grid(1)
    if i < y.size:
        r, k = i // y.shape[1], i % y.shape[1]
        y[r, k] = activate(y[r, k] + b[k], activation)


def dense_forward(x, W, b, activation, y):
    """Y = act(x W + b)."""
    gemm(x, W, y)
    _bias_activation[blocks(y.size)](y, b, activation)


@cuda.jit
def _activation_backward(y, dy, activation, da):
    i = cuda.grid(1)
    if i < y.size:
        da[i] = dy[i] * activation_slope(y[i], activation)


def activation_backward(y, dy, activation, da):
    """Da = dy * act'(a), with act' taken from the output y (any matching shapes)."""
    _activation_backward[blocks(y.size)](y.reshape(-1), dy.reshape(-1), activation, da.reshape(-1))


def dense_backward(x, W, y, dy, activation, dx, dW, db, da):
    """Gradients of :func:`dense_forward`; ``da`` is a workspace shaped like ``y``."""
    activation_backward(y, dy, activation, da)
    gemm(x, da, dW, trans_a=True)
    gemm(da, W, dx, trans_b=True)
    column_sums(da, db)


@cuda.jit
def _scale_by_mask(x, keep, scale, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = x[i] * scale if keep[i] else x[i] * 0


def scale_by_mask(x, keep, scale, out):
    """Out = x * keep * scale (inverted dropout forward and backward; any shape)."""
    _scale_by_mask[blocks(x.size)](x.reshape(-1), keep.reshape(-1), scale, out.reshape(-1))
