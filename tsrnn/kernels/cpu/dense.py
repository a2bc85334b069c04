"""Dense layer, activations and dropout (CPU). Equations: :mod:`tsrnn.kernels.reference.dense`.

Arrays are 2-D ``(rows, features)``: a layer applied to every step of a sequence
passes ``(batch * n_steps, features)`` views.
"""

import numpy as np
from numba import njit

from tsrnn._config import JIT_OPTIONS
from tsrnn.kernels.cpu._scalar import activate, activation_slope


@njit(**JIT_OPTIONS)
def dense_forward(x, W, b, activation, y):
    """Y = act(x W + b)."""
    np.dot(x, W, y)
    for r in range(y.shape[0]):
        for k in range(y.shape[1]):
            y[r, k] = activate(y[r, k] + b[k], activation)


@njit(**JIT_OPTIONS)
def activation_backward(y, dy, activation, da):
    """Da = dy * act'(a), with act' taken from the output y (any matching shapes)."""
    y1, dy1, da1 = y.reshape(-1), dy.reshape(-1), da.reshape(-1)
    for i in range(y1.size):
        da1[i] = dy1[i] * activation_slope(y1[i], activation)


@njit(**JIT_OPTIONS)
def dense_backward(x, W, y, dy, activation, dx, dW, db, da):
    """Gradients of :func:`dense_forward`; ``da`` is a workspace shaped like ``y``."""
    activation_backward(y, dy, activation, da)
    np.dot(x.T, da, dW)
    np.dot(da, W.T, dx)
    db[:] = 0
    for r in range(da.shape[0]):
        for k in range(da.shape[1]):
            db[k] += da[r, k]


@njit(**JIT_OPTIONS)
def scale_by_mask(x, keep, scale, out):
    """Out = x * keep * scale (inverted dropout forward and backward; any shape)."""
    x1, k1, o1 = x.reshape(-1), keep.reshape(-1), out.reshape(-1)
    for i in range(x1.size):
        o1[i] = x1[i] * scale if k1[i] else x1[i] * 0
