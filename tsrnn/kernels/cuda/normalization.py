"""Batch and layer normalisation and the activation layer (GPU).

The twin of :mod:`tsrnn.kernels.cpu.normalization`, with the same names and signatures.

Reductions over rows run one thread per feature, and reductions over features one
thread per row, each summing in a fixed order: results do not depend on the launch
shape. Statistics are float64 as on the CPU.
"""

import math

from numba import cuda

from tsrnn.kernels.cuda import _launch
from tsrnn.kernels.cuda._scalar import activate
from tsrnn.kernels.cuda.dense import activation_backward
from tsrnn.kernels.scalar import LINEAR


@cuda.jit
def _batch_statistics(x, mask, mean, var):
    c = cuda.grid(1)
    if c < x.shape[1]:
        n = 0
        s = 0.0
        for r in range(x.shape[0]):
            if mask[r]:
                n += 1
                s += x[r, c]
        m = s / n
        v = 0.0
        for r in range(x.shape[0]):
            if mask[r]:
                d = x[r, c] - m
                v += d * d
        mean[c] = m
        var[c] = v / n


@cuda.jit
def _update_moving(mask, epsilon, momentum, moving_mean, moving_variance, mean, inv_std):
    # One thread: the moving statistics change only if every feature's are finite.
    if cuda.grid(1) == 0:
        n = 0
        for r in range(mask.shape[0]):
            if mask[r]:
                n += 1
        finite = True
        for c in range(mean.shape[0]):
            finite = finite and math.isfinite(mean[c]) and math.isfinite(inv_std[c])
        bessel = n / max(n - 1.0, 1.0)
        for c in range(mean.shape[0]):
            var = inv_std[c]
            if finite:
                moving_mean[c] = momentum * moving_mean[c] + (1.0 - momentum) * mean[c]
                moving_variance[c] = momentum * moving_variance[c] + (1.0 - momentum) * (
                    var * bessel
                )
            inv_std[c] = 1.0 / math.sqrt(var + epsilon)


@cuda.jit
def _moving_statistics(moving_mean, moving_variance, epsilon, mean, inv_std):
    c = cuda.grid(1)
    if c < mean.size:
        mean[c] = moving_mean[c]
        inv_std[c] = 1.0 / math.sqrt(moving_variance[c] + epsilon)


@cuda.jit
def _normalize_columns(x, mean, inv_std, gamma, beta, activation, y):
    i = cuda.grid(1)
    if i < x.size:
        r, c = i // x.shape[1], i % x.shape[1]
        y[r, c] = gamma[c] * ((x[r, c] - mean[c]) * inv_std[c]) + beta[c]
        # From the stored (rounded) value, as a separate Activation layer would.
        y[r, c] = activate(y[r, c], activation)


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
    """Normalise with the statistics of the real rows and update the moving ones."""
    _batch_statistics[_launch.blocks(x.shape[1])](x, mask, mean, inv_std)
    _update_moving[1, 1](mask, epsilon, momentum, moving_mean, moving_variance, mean, inv_std)
    _normalize_columns[_launch.blocks(x.size)](x, mean, inv_std, gamma, beta, activation, y)


def batch_norm_inference_forward(
    x, gamma, beta, epsilon, moving_mean, moving_variance, y, mean, inv_std, activation
):
    """Normalise with the moving statistics (copied into ``mean`` and ``inv_std``)."""
    _moving_statistics[_launch.blocks(x.shape[1])](
        moving_mean, moving_variance, epsilon, mean, inv_std
    )
    _normalize_columns[_launch.blocks(x.size)](x, mean, inv_std, gamma, beta, activation, y)


@cuda.jit
def _batch_norm_column_sums(x, mask, dy, mean, inv_std, dgamma, dbeta, sums):
    c = cuda.grid(1)
    if c < x.shape[1]:
        n = 0
        s0 = 0.0
        s1 = 0.0
        for r in range(x.shape[0]):
            if mask[r]:
                n += 1
            s0 += dy[r, c]
            s1 += dy[r, c] * ((x[r, c] - mean[c]) * inv_std[c])
        sums[0, c] = s0
        sums[1, c] = s1
        sums[2, c] = n
        dbeta[c] = s0
        dgamma[c] = s1


@cuda.jit
def _batch_norm_dx(x, mask, dy, gamma, mean, inv_std, training, sums, dx):
    i = cuda.grid(1)
    if i < x.size:
        r, c = i // x.shape[1], i % x.shape[1]
        g = dy[r, c] * gamma[c]
        if training and mask[r]:
            xhat = (x[r, c] - mean[c]) * inv_std[c]
            g -= gamma[c] * (sums[0, c] + xhat * sums[1, c]) / sums[2, c]
        dx[r, c] = g * inv_std[c]


def batch_norm_backward(
    x, mask, dy, gamma, mean, inv_std, training, dx, dgamma, dbeta, sums, y, activation
):
    """Gradients of the forward pass that produced ``mean``, ``inv_std`` and ``y``.

    With an ``activation``, the gradient before it is formed in ``dx`` first, and
    the two kernels below read it from there (each thread of the second reads the
    element it then overwrites).
    """
    if activation != LINEAR:
        activation_backward(y, dy, activation, dx)
        dy = dx
    _batch_norm_column_sums[_launch.blocks(x.shape[1])](
        x, mask, dy, mean, inv_std, dgamma, dbeta, sums
    )
    _batch_norm_dx[_launch.blocks(x.size)](x, mask, dy, gamma, mean, inv_std, training, sums, dx)


@cuda.jit
def _layer_norm_rows(x, gamma, beta, epsilon, y, mean, inv_std):
    r = cuda.grid(1)
    if r < x.shape[0]:
        n_features = x.shape[1]
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


def layer_norm_forward(x, gamma, beta, epsilon, y, mean, inv_std):
    """Normalise every row over its features."""
    _layer_norm_rows[_launch.blocks(x.shape[0])](x, gamma, beta, epsilon, y, mean, inv_std)


@cuda.jit
def _layer_norm_column_sums(x, dy, mean, inv_std, dgamma, dbeta):
    c = cuda.grid(1)
    if c < x.shape[1]:
        s0 = 0.0
        s1 = 0.0
        for r in range(x.shape[0]):
            s0 += dy[r, c]
            s1 += dy[r, c] * ((x[r, c] - mean[r]) * inv_std[r])
        dbeta[c] = s0
        dgamma[c] = s1


@cuda.jit
def _layer_norm_dx(x, dy, gamma, mean, inv_std, dx):
    r = cuda.grid(1)
    if r < x.shape[0]:
        n_features = x.shape[1]
        s1 = 0.0
        s2 = 0.0
        for c in range(n_features):
            g = dy[r, c] * gamma[c]
            s1 += g
            s2 += g * ((x[r, c] - mean[r]) * inv_std[r])
        for c in range(n_features):
            xhat = (x[r, c] - mean[r]) * inv_std[r]
            dx[r, c] = inv_std[r] * (dy[r, c] * gamma[c] - (s1 + xhat * s2) / n_features)


def layer_norm_backward(x, dy, gamma, mean, inv_std, dx, dgamma, dbeta, sums):
    """Gradients of :func:`layer_norm_forward`, written into ``dx``, ``dgamma``, ``dbeta``.

    ``sums`` is unused here: each thread keeps its sums in registers.
    """
    _layer_norm_column_sums[_launch.blocks(x.shape[1])](x, dy, mean, inv_std, dgamma, dbeta)
    _layer_norm_dx[_launch.blocks(x.shape[0])](x, dy, gamma, mean, inv_std, dx)


@cuda.jit
def _activation_forward(x, activation, y):
    i = cuda.grid(1)
    if i < x.size:
        y[i] = activate(x[i], activation)


def activation_forward(x, activation, y):
    """Y = act(x), elementwise (any matching shapes)."""
    _activation_forward[_launch.blocks(x.size)](x.reshape(-1), activation, y.reshape(-1))
