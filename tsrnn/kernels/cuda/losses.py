"""Losses and their gradients with respect to the predictions (GPU).

The twin of :mod:`tsrnn.kernels.cpu.losses` (same names, arguments and weighting
convention).

One thread per sample writes its row of dL/dp and its weighted loss (in float64);
the totals are summed in a fixed order, so the loss is deterministic, and returned
to the host as one number (training checks it for NaN before each update).
"""

import math

import numpy as np
from numba import cuda

from tsrnn.kernels.cuda._launch import blocks
from tsrnn.kernels.cuda._scalar import (
    absolute_error,
    huber_error,
    logistic_error,
    pinball_error,
    softmax_log_normaliser,
    squared_error,
)


@cuda.jit
def _totals(row_loss, row_weight, out):
    # One thread, a fixed order: deterministic sums (batches are small).
    if cuda.grid(1) == 0:
        total, weight = 0.0, 0.0
        for i in range(row_loss.size):
            total += row_loss[i]
            weight += row_weight[i]
        out[0], out[1] = total, weight


@cuda.jit
def _scale_rows(grad, row_weight, denominator):
    i = cuda.grid(1)
    if i < grad.shape[0]:
        scale = row_weight[i] / denominator
        for k in range(grad.shape[1]):
            grad[i, k] *= scale


def _finish(row_loss, row_weight, n_outputs, grad):
    """Scale row i of ``grad`` by w_i / (K sum w); return the weighted mean loss."""
    totals = cuda.device_array(2, dtype=np.float64)
    _totals[1, 1](row_loss, row_weight, totals)
    total, weight = totals.copy_to_host()
    _scale_rows[blocks(grad.shape[0])](grad, row_weight, n_outputs * weight)
    return total / (n_outputs * weight)


def _launch(kernel, p, *args):
    row_loss = cuda.device_array(p.shape[0], dtype=np.float64)
    kernel[blocks(p.shape[0])](p, *args, row_loss)
    return row_loss


def _one(p):
    """1 in the predictions' dtype: the weight of a row's terms.

    The row's weight multiplies them afterwards (an exact product, in the terms'
    precision).
    """
    return p.dtype.type(1)


@cuda.jit
def _mse_rows(p, y, w, one, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            term, grad[i, k] = squared_error(p[i, k] - y[i, k], one)
            total += term
        row_loss[i] = w[i] * total


def mse(p, y, w, grad):
    """Weighted mean squared error of ``p`` (n, K) against ``y`` (n, K).

    Device arrays; writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    return _finish(_launch(_mse_rows, p, y, w, _one(p), grad), w, p.shape[1], grad)


@cuda.jit
def _mae_rows(p, y, w, one, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            term, grad[i, k] = absolute_error(p[i, k] - y[i, k], one)
            total += term
        row_loss[i] = w[i] * total


def mae(p, y, w, grad):
    """Weighted mean absolute error of ``p`` (n, K) against ``y`` (n, K).

    Device arrays; writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    return _finish(_launch(_mae_rows, p, y, w, _one(p), grad), w, p.shape[1], grad)


@cuda.jit
def _huber_rows(p, y, w, one, delta, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            term, grad[i, k] = huber_error(p[i, k] - y[i, k], one, delta)
            total += term
        row_loss[i] = w[i] * total


def huber(p, y, w, delta, grad):
    """Weighted mean Huber loss of ``p`` (n, K) against ``y`` (n, K), quadratic within ``delta``.

    Device arrays; writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    row_loss = _launch(_huber_rows, p, y, w, _one(p), delta, grad)
    return _finish(row_loss, w, p.shape[1], grad)


@cuda.jit
def _bce_rows(p, y, w, one, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            term, grad[i, k] = logistic_error(float(p[i, k]), y[i, k], one)
            total += term
        row_loss[i] = w[i] * total


def binary_cross_entropy_with_logits(p, y, w, grad):
    """Weighted mean binary cross-entropy of ``p`` (n, K) against ``y`` (n, K) (``p`` are logits).

    Device arrays; writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    return _finish(_launch(_bce_rows, p, y, w, _one(p), grad), w, p.shape[1], grad)


@cuda.jit
def _pinball_rows(p, y, w, one, quantiles, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            term, grad[i, k] = pinball_error(y[i, k] - p[i, k], one, quantiles[k])
            total += term
        row_loss[i] = w[i] * total


def pinball(p, y, w, quantiles, grad):
    """Weighted mean pinball loss of ``p`` (n, K) against ``y`` (n, K).

    ``quantiles`` (K,) holds each column's level.
    Device arrays; writes dL/dp into ``grad`` (n, K) and returns the loss (float64).
    """
    row_loss = _launch(_pinball_rows, p, y, w, _one(p), quantiles, grad)
    return _finish(row_loss, w, p.shape[1], grad)


@cuda.jit
def _softmax_rows(p, labels, w, class_weight, grad, row_weight, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        n_classes = p.shape[1]
        m, log_z = softmax_log_normaliser(p, i)
        weight = w[i] * class_weight[labels[i]]
        row_weight[i] = weight
        row_loss[i] = -weight * (p[i, labels[i]] - m - log_z)
        for c in range(n_classes):
            grad[i, c] = math.exp(p[i, c] - m - log_z)
        grad[i, labels[i]] -= 1


def softmax_cross_entropy(p, labels, w, class_weight, grad):
    """Weighted softmax cross-entropy of logits ``p`` (n, C) against ``labels`` (n,).

    ``class_weight`` (C,) weights each class, as ``torch.nn.CrossEntropyLoss``. Writes
    dL/dp into ``grad`` (n, C) and returns the loss (float64).
    """
    row_weight = cuda.device_array(p.shape[0], dtype=np.float64)
    row_loss = _launch(_softmax_rows, p, labels, w, class_weight, grad, row_weight)
    # grad rows hold softmax - onehot; each is scaled by weight_i / sum(weight).
    return _finish(row_loss, row_weight, 1, grad)
