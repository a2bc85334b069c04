"""Reference dense layer, activations and dropout, in plain NumPy.

Dense::

    y = act(x W + b),   W of shape (in_features, units), applied to the last axis

Activations (derivatives from the output y, as the fast path caches outputs)::

    linear  y = a              dy/da = 1
    relu    y = max(a, 0)      dy/da = [y > 0]
    tanh    y = tanh(a)        dy/da = 1 - y^2
    sigmoid y = 1/(1 + e^-a)   dy/da = y (1 - y)

Inverted dropout: ``y = x * keep / (1 - p)`` with ``keep ~ Bernoulli(1 - p)`` in
training, ``y = x`` at inference.
"""

import numpy as np

from tsrnn.kernels.reference.recurrent import sigmoid

ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")


def activation_forward(a, activation):
    """``act(a)`` for an activation name in :data:`ACTIVATIONS` (a new array)."""
    if activation == "linear":
        return a.copy()
    if activation == "relu":
        return np.maximum(a, 0.0)
    if activation == "tanh":
        return np.tanh(a)
    if activation == "sigmoid":
        return sigmoid(a)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def activation_backward(y, dy, activation):
    """dL/da from dL/dy and the activation's output y."""
    if activation == "linear":
        return dy.copy()
    if activation == "relu":
        return dy * (y > 0)
    if activation == "tanh":
        return dy * (1.0 - y**2)
    if activation == "sigmoid":
        return dy * y * (1.0 - y)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def dense_forward(x, W, b, activation="linear"):
    """``act(x W + b)`` on the last axis. Returns ``(y, cache)``."""
    y = activation_forward(x @ W + b, activation)
    return y, dict(x=x, W=W, y=y, activation=activation)


def dense_backward(cache, dy):
    """Gradients of :func:`dense_forward`: a dict with ``x``, ``W`` and ``b``."""
    da = activation_backward(cache["y"], dy, cache["activation"])
    x2 = cache["x"].reshape(-1, cache["x"].shape[-1])
    da2 = da.reshape(-1, da.shape[-1])
    return dict(x=da @ cache["W"].T, W=x2.T @ da2, b=da2.sum(axis=0))


def dropout_forward(x, keep, rate):
    """``keep`` is a boolean array of x's shape; returns ``x * keep / (1 - rate)``."""
    return x * keep / (1.0 - rate)


def dropout_backward(keep, rate, dy):
    """Gradient of :func:`dropout_forward`: ``dy * keep / (1 - rate)``."""
    return dy * keep / (1.0 - rate)
