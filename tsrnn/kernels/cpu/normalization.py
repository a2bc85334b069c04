"""Batch and layer normalisation and the activation layer (CPU).

Equations: :mod:`tsrnn.kernels.reference.normalization`. Arrays are 2-D ``(rows,
features)``: a layer applied to every step of a sequence passes ``(batch *
n_steps, features)`` views, and ``mask`` is the matching ``(rows,)`` view of the
padding mask (all True when nothing is padded).

Statistics (``mean``, ``inv_std``) and the ``sums`` workspaces are float64 arrays
whatever the dtype of ``x``: sums over thousands of rows then lose nothing in
float32, and the backward pass reuses the forward's statistics exactly.
"""

import math

from numba import njit

from tsrnn._config import JIT_OPTIONS
from tsrnn.kernels.cpu._scalar import activate, activation_slope
from tsrnn.kernels.cpu.dense import activation_backward
from tsrnn.kernels.scalar import LINEAR, RELU


@njit(**JIT_OPTIONS)
def _normalize_columns(x, mean, inv_std, gamma, beta, activation, y):
    if activation == LINEAR:
        for r in range(x.shape[0]):
            for c in range(x.shape[1]):
                y[r, c] = gamma[c] * ((x[r, c] - mean[c]) * inv_std[c]) + beta[c]
    elif activation == RELU:  # a constant code: the loop vectorises
        for r in range(x.shape[0]):
            for c in range(x.shape[1]):
                y[r, c] = gamma[c] * ((x[r, c] - mean[c]) * inv_std[c]) + beta[c]
                y[r, c] = activate(y[r, c], RELU)
    else:
        # The activation reads the stored (rounded) value, as a separate Activation
        # layer would: the same bits without a second pass over y.
        for r in range(x.shape[0]):
            for c in range(x.shape[1]):
                y[r, c] = gamma[c] * ((x[r, c] - mean[c]) * inv_std[c]) + beta[c]
                y[r, c] = activate(y[r, c], activation)


@njit(**JIT_OPTIONS)
def batch_norm_train_forward(
    x,
    mask,
    gamma,
    beta,
    epsilon,
    momentum,
    moving_mean,
    moving_variance,
    y,
    mean,
    inv_std,
    activation,
):
    """Normalise with the statistics of the real rows and update the moving ones.

    ``mean`` and ``inv_std`` (float64, ``(features,)``) receive the batch mean and
    ``1 / sqrt(var + epsilon)``. A batch whose statistics are not all finite leaves
    the moving statistics unchanged (the training loop then rejects the step).
    ``activation`` (a code of :mod:`tsrnn.kernels.scalar`) is applied to ``y``.
    """
    n_rows, n_features = x.shape
    n = 0
    for c in range(n_features):
        mean[c] = 0.0
        inv_std[c] = 0.0
    for r in range(n_rows):
        if mask[r]:
            n += 1
            for c in range(n_features):
                mean[c] += x[r, c]
    for c in range(n_features):
        mean[c] /= n
    for r in range(n_rows):
        if mask[r]:
            for c in range(n_features):
                d = x[r, c] - mean[c]
                inv_std[c] += d * d
    finite = True
    for c in range(n_features):
        inv_std[c] /= n  # the biased variance, until it becomes 1 / std below
        finite = finite and math.isfinite(mean[c]) and math.isfinite(inv_std[c])
    bessel = n / max(n - 1.0, 1.0)
    for c in range(n_features):
        var = inv_std[c]
        if finite:
            moving_mean[c] = momentum * moving_mean[c] + (1.0 - momentum) * mean[c]
            moving_variance[c] = momentum * moving_variance[c] + (1.0 - momentum) * (var * bessel)
        inv_std[c] = 1.0 / math.sqrt(var + epsilon)
    _normalize_columns(x, mean, inv_std, gamma, beta, activation, y)


@njit(**JIT_OPTIONS)
def batch_norm_inference_forward(
    x, gamma, beta, epsilon, moving_mean, moving_variance, y, mean, inv_std, activation
):
    """Normalise with the moving statistics (copied into ``mean`` and ``inv_std``)."""
    for c in range(x.shape[1]):
        mean[c] = moving_mean[c]
        inv_std[c] = 1.0 / math.sqrt(moving_variance[c] + epsilon)
    _normalize_columns(x, mean, inv_std, gamma, beta, activation, y)


@njit(**JIT_OPTIONS)
def _column_sums(x, mask, dy, y, relu, mean, inv_std, sums):
    """``sums[0]`` = column sums of g, ``sums[1]`` of g * xhat; returns the real rows.

    ``g`` is ``dy``, or with ``relu`` ``dy * relu'(y)``: exactly the value an Activation
    layer would store (a product by 1 or 0), formed again where it is needed.
    """
    n = 0
    sums[:2] = 0.0
    for r in range(x.shape[0]):
        if mask[r]:
            n += 1
        for c in range(x.shape[1]):
            g = dy[r, c] * activation_slope(y[r, c], RELU) if relu else dy[r, c]
            sums[0, c] += g
            sums[1, c] += g * ((x[r, c] - mean[c]) * inv_std[c])
    return n


@njit(**JIT_OPTIONS)
def _input_gradient(x, mask, dy, y, relu, gamma, mean, inv_std, training, n, sums, dx):
    """``dx`` from the column sums and g (as in :func:`_column_sums`).

    ``dy`` may be ``dx`` itself: each element is read before it is overwritten.
    """
    for r in range(x.shape[0]):
        through_stats = training and mask[r]
        for c in range(x.shape[1]):
            g = dy[r, c] * activation_slope(y[r, c], RELU) if relu else dy[r, c]
            g = g * gamma[c]
            if through_stats:
                xhat = (x[r, c] - mean[c]) * inv_std[c]
                g -= gamma[c] * (sums[0, c] + xhat * sums[1, c]) / n
            dx[r, c] = g * inv_std[c]


@njit(**JIT_OPTIONS)
def batch_norm_backward(
    x, mask, dy, gamma, mean, inv_std, training, dx, dgamma, dbeta, sums, y, activation
):
    """Gradients of the forward pass that produced ``mean``, ``inv_std`` and ``y``.

    ``training`` says whether those were batch statistics (which depend on the real
    rows of x) or the moving ones (constants). ``sums`` is a float64 ``(3,
    features)`` workspace. With an ``activation``, ``dy`` is the gradient of its
    output ``y``, and the gradient before it is the value an Activation layer's
    backward would give: formed on the fly for ReLU, stored in ``dx`` first for the
    others. ``x``, ``y`` and ``dy`` must then share a dtype (the layer sees to it).
    """
    if activation == LINEAR or activation == RELU:
        relu = activation == RELU
        _gradients(x, mask, dy, y, relu, gamma, mean, inv_std, training, dx, dgamma, dbeta, sums)
    else:  # (separate calls: dy and dx may differ in dtype, and one variable cannot)
        activation_backward(y, dy, activation, dx)
        _gradients(x, mask, dx, y, False, gamma, mean, inv_std, training, dx, dgamma, dbeta, sums)


@njit(**JIT_OPTIONS)
def _gradients(x, mask, dy, y, relu, gamma, mean, inv_std, training, dx, dgamma, dbeta, sums):
    n = _column_sums(x, mask, dy, y, relu, mean, inv_std, sums)
    for c in range(x.shape[1]):
        dbeta[c] = sums[0, c]
        dgamma[c] = sums[1, c]
        sums[2, c] = n
    _input_gradient(x, mask, dy, y, relu, gamma, mean, inv_std, training, n, sums, dx)


@njit(**JIT_OPTIONS)
def layer_norm_forward(x, gamma, beta, epsilon, y, mean, inv_std):
    """Normalise every row over its features into ``y``.

    ``mean`` and ``inv_std`` (float64, ``(rows,)``) receive each row's statistics.
    """
    n_rows, n_features = x.shape
    for r in range(n_rows):
        s = 0.0
        for c in range(n_features):
            s += x[r, c]
        m = s / n_features
        v = 0.0
        for c in range(n_features):
            d = x[r, c] - m
            v += d * d
        k = 1.0 / math.sqrt(v / n_features + epsilon)
        mean[r] = m
        inv_std[r] = k
        for c in range(n_features):
            y[r, c] = gamma[c] * ((x[r, c] - m) * k) + beta[c]


@njit(**JIT_OPTIONS)
def layer_norm_backward(x, dy, gamma, mean, inv_std, dx, dgamma, dbeta, sums):
    """Gradients of :func:`layer_norm_forward`, written into ``dx``, ``dgamma``, ``dbeta``.

    ``sums`` is a float64 ``(2, features)`` workspace.
    """
    n_rows, n_features = x.shape
    for c in range(n_features):
        sums[0, c] = 0.0
        sums[1, c] = 0.0
    for r in range(n_rows):
        s1 = 0.0
        s2 = 0.0
        for c in range(n_features):
            xhat = (x[r, c] - mean[r]) * inv_std[r]
            g = dy[r, c] * gamma[c]
            s1 += g
            s2 += g * xhat
            sums[0, c] += dy[r, c]
            sums[1, c] += dy[r, c] * xhat
        for c in range(n_features):
            xhat = (x[r, c] - mean[r]) * inv_std[r]
            g = dy[r, c] * gamma[c]
            dx[r, c] = inv_std[r] * (g - (s1 + xhat * s2) / n_features)
    for c in range(n_features):
        dbeta[c] = sums[0, c]
        dgamma[c] = sums[1, c]


@njit(**JIT_OPTIONS)
def activation_forward(x, activation, y):
    """Y = act(x), elementwise (any matching shapes).

    The backward pass is :func:`tsrnn.kernels.cpu.dense.activation_backward`.
    """
    x1, y1 = x.reshape(-1), y.reshape(-1)
    for i in range(x1.size):
        y1[i] = activate(x1[i], activation)
