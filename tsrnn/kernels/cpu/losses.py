"""Losses and their gradients with respect to the predictions (CPU).

Equations and the weighting convention: :mod:`tsrnn.kernels.reference.losses`.
Each kernel writes dL/dp into ``grad`` and returns L (accumulated in float64).
"""

import math

import numpy as np
from numba import njit

from tsrnn._config import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def _finish(total, w, n_outputs, grad):
    """Scale per-element gradients by w_i / (K sum w) and return the weighted mean."""
    w_sum = 0.0
    for i in range(w.size):
        w_sum += w[i]
    for i in range(grad.shape[0]):
        scale = w[i] / (n_outputs * w_sum)
        for k in range(grad.shape[1]):
            grad[i, k] *= scale
    return total / (n_outputs * w_sum)


@njit(**JIT_OPTIONS)
def mse(p, y, w, grad):
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            r = p[i, k] - y[i, k]
            total += w[i] * r * r
            grad[i, k] = 2 * r
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def mae(p, y, w, grad):
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            r = p[i, k] - y[i, k]
            total += w[i] * abs(r)
            grad[i, k] = np.sign(r)
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def huber(p, y, w, delta, grad):
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            r = p[i, k] - y[i, k]
            if abs(r) <= delta:
                total += w[i] * 0.5 * r * r
                grad[i, k] = r
            else:
                total += w[i] * delta * (abs(r) - 0.5 * delta)
                grad[i, k] = delta * np.sign(r)
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def binary_cross_entropy_with_logits(p, y, w, grad):
    """Stable for any logit: log(1 + e^-|p|) never overflows."""
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            z = float(p[i, k])
            e = math.exp(-abs(z))
            total += w[i] * (max(z, 0.0) - z * y[i, k] + math.log1p(e))
            s = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
            grad[i, k] = s - y[i, k]
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def pinball(p, y, w, quantiles, grad):
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            q = quantiles[k]
            r = y[i, k] - p[i, k]
            total += w[i] * max(q * r, (q - 1) * r)
            grad[i, k] = -q if r > 0 else (1 - q if r < 0 else 0.5 - q)
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def softmax_cross_entropy(p, labels, w, class_weight, grad):
    n, n_classes = p.shape
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        m = p[i, 0]
        for c in range(1, n_classes):
            m = max(m, p[i, c])
        z = 0.0
        for c in range(n_classes):
            z += math.exp(p[i, c] - m)
        log_z = math.log(z)
        weight = w[i] * class_weight[labels[i]]
        weight_sum += weight
        total -= weight * (p[i, labels[i]] - m - log_z)
        for c in range(n_classes):
            grad[i, c] = weight * math.exp(p[i, c] - m - log_z)
        grad[i, labels[i]] -= weight
    for i in range(n):
        for c in range(n_classes):
            grad[i, c] /= weight_sum
    return total / weight_sum
