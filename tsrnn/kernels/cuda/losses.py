"""Losses and their gradients with respect to the predictions (GPU); the twin of
:mod:`tsrnn.kernels.cpu.losses` (same names, arguments and weighting convention).

One thread per sample writes its row of dL/dp and its weighted loss (in float64);
the totals are summed in a fixed order, so the loss is deterministic, and returned
to the host as one number (training checks it for NaN before each update).
"""

import math

import numpy as np
from numba import cuda

THREADS = 128


def _blocks(n):
    return max(1, math.ceil(n / THREADS)), THREADS


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
    _scale_rows[_blocks(grad.shape[0])](grad, row_weight, n_outputs * weight)
    return total / (n_outputs * weight)


@cuda.jit(device=True)
def _sign(r):
    """np.sign: -1, 0 or 1, and NaN for NaN."""
    if r > 0:
        return r - r + 1
    if r < 0:
        return r - r - 1
    return r - r  # 0 for 0, NaN for NaN


def _launch(kernel, p, *args):
    row_loss = cuda.device_array(p.shape[0], dtype=np.float64)
    kernel[_blocks(p.shape[0])](p, *args, row_loss)
    return row_loss


@cuda.jit
def _mse_rows(p, y, w, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            r = p[i, k] - y[i, k]
            total += r * r
            grad[i, k] = 2 * r
        row_loss[i] = w[i] * total


def mse(p, y, w, grad):
    return _finish(_launch(_mse_rows, p, y, w, grad), w, p.shape[1], grad)


@cuda.jit
def _mae_rows(p, y, w, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            r = p[i, k] - y[i, k]
            total += abs(r)
            grad[i, k] = _sign(r)
        row_loss[i] = w[i] * total


def mae(p, y, w, grad):
    return _finish(_launch(_mae_rows, p, y, w, grad), w, p.shape[1], grad)


@cuda.jit
def _huber_rows(p, y, w, delta, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            r = p[i, k] - y[i, k]
            if abs(r) <= delta:
                total += 0.5 * r * r
                grad[i, k] = r
            else:
                total += delta * (abs(r) - 0.5 * delta)
                grad[i, k] = delta * _sign(r)
        row_loss[i] = w[i] * total


def huber(p, y, w, delta, grad):
    return _finish(_launch(_huber_rows, p, y, w, delta, grad), w, p.shape[1], grad)


@cuda.jit
def _bce_rows(p, y, w, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            z = float(p[i, k])
            e = math.exp(-abs(z))  # stable for any logit
            total += max(z, 0.0) - z * y[i, k] + math.log1p(e)
            s = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
            grad[i, k] = s - y[i, k]
        row_loss[i] = w[i] * total


def binary_cross_entropy_with_logits(p, y, w, grad):
    return _finish(_launch(_bce_rows, p, y, w, grad), w, p.shape[1], grad)


@cuda.jit
def _pinball_rows(p, y, w, quantiles, grad, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        total = 0.0
        for k in range(p.shape[1]):
            q = quantiles[k]
            r = y[i, k] - p[i, k]
            total += max(q * r, (q - 1) * r)
            grad[i, k] = -q if r > 0 else (1 - q if r < 0 else 0.5 - q)
        row_loss[i] = w[i] * total


def pinball(p, y, w, quantiles, grad):
    return _finish(_launch(_pinball_rows, p, y, w, quantiles, grad), w, p.shape[1], grad)


@cuda.jit
def _softmax_rows(p, labels, w, class_weight, grad, row_weight, row_loss):
    i = cuda.grid(1)
    if i < p.shape[0]:
        n_classes = p.shape[1]
        m = p[i, 0]
        for c in range(1, n_classes):
            m = max(m, p[i, c])
        z = 0.0
        for c in range(n_classes):
            z += math.exp(p[i, c] - m)
        log_z = math.log(z)
        weight = w[i] * class_weight[labels[i]]
        row_weight[i] = weight
        row_loss[i] = -weight * (p[i, labels[i]] - m - log_z)
        for c in range(n_classes):
            grad[i, c] = math.exp(p[i, c] - m - log_z)
        grad[i, labels[i]] -= 1


def softmax_cross_entropy(p, labels, w, class_weight, grad):
    row_weight = cuda.device_array(p.shape[0], dtype=np.float64)
    row_loss = _launch(_softmax_rows, p, labels, w, class_weight, grad, row_weight)
    # grad rows hold softmax - onehot; each is scaled by weight_i / sum(weight).
    return _finish(row_loss, row_weight, 1, grad)
