"""Losses and their gradients with respect to the predictions (CPU).

Equations and the weighting convention: :mod:`tsrnn.kernels.reference.losses`.
Each kernel writes dL/dp into ``grad`` and returns L (accumulated in float64). The
per-prediction terms are written once, for both devices, in
:mod:`tsrnn.kernels.formulas`.
"""

import math

from numba import njit

from tsrnn._config import JIT_OPTIONS
from tsrnn.kernels.cpu._scalar import (
    absolute_error,
    huber_error,
    logistic_error,
    pinball_error,
    softmax_log_normaliser,
    squared_error,
)


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
    """Weighted mean squared error of ``p`` (n, K) against ``y`` (n, K).

    Writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            term, grad[i, k] = squared_error(p[i, k] - y[i, k], w[i])
            total += term
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def mae(p, y, w, grad):
    """Weighted mean absolute error of ``p`` (n, K) against ``y`` (n, K).

    Writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            term, grad[i, k] = absolute_error(p[i, k] - y[i, k], w[i])
            total += term
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def huber(p, y, w, delta, grad):
    """Weighted mean Huber loss of ``p`` (n, K) against ``y`` (n, K), quadratic within ``delta``.

    Writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            term, grad[i, k] = huber_error(p[i, k] - y[i, k], w[i], delta)
            total += term
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def binary_cross_entropy_with_logits(p, y, w, grad):
    """Weighted mean binary cross-entropy of ``p`` (n, K) against ``y`` (n, K) (``p`` are logits).

    Writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            term, grad[i, k] = logistic_error(float(p[i, k]), y[i, k], w[i])
            total += term
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def pinball(p, y, w, quantiles, grad):
    """Weighted mean pinball loss of ``p`` (n, K) against ``y`` (n, K).

    ``quantiles`` (K,) holds each column's level.
    Writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    total = 0.0
    for i in range(p.shape[0]):
        for k in range(p.shape[1]):
            term, grad[i, k] = pinball_error(y[i, k] - p[i, k], w[i], quantiles[k])
            total += term
    return _finish(total, w, p.shape[1], grad)


@njit(**JIT_OPTIONS)
def softmax_cross_entropy(p, labels, w, class_weight, grad):
    """Weighted softmax cross-entropy of logits ``p`` (n, C) against ``labels`` (n,).

    ``class_weight`` (C,) weights each class, as ``torch.nn.CrossEntropyLoss``. Writes
    dL/dp into ``grad`` (n, C) and returns the loss (float64).
    """
    n, n_classes = p.shape
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        m, log_z = softmax_log_normaliser(p, i)
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
