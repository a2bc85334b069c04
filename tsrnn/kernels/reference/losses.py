"""Reference losses and their gradients with respect to the predictions, in NumPy.

Every loss takes predictions ``p`` (N, K), targets ``y`` (N, K) (class indices (N,)
for softmax cross-entropy) and sample weights ``w`` (N,), and is the weighted mean
over samples of the per-sample loss, where the per-sample loss is the mean over
the K outputs::

    L = sum_i w_i l_i / sum_i w_i,        l_i = (1/K) sum_k loss(p_ik, y_ik)

    mse          (p - y)^2
    mae          |p - y|
    huber        r^2 / 2 if |r| <= delta else delta (|r| - delta / 2),   r = p - y
    bce (logits) -[y log s(p) + (1 - y) log(1 - s(p))] = max(p, 0) - p y + log(1 + e^-|p|)
    pinball      max(q r, (q - 1) r),   r = y - p, q the quantile of output k
    softmax ce   l_i = c_{y_i} (logsumexp(p_i) - p_{i, y_i}),  c = class weights; here
                 L = sum_i w_i l_i / sum_i w_i c_{y_i}   (PyTorch's weighted mean)

With uniform weights, mse/mae/huber/bce equal PyTorch's ``reduction='mean'``.
"""

import numpy as np

from tsrnn.kernels.reference.recurrent import sigmoid


def _weighted_mean(per_element, w):
    per_sample = per_element.mean(axis=1)
    return (w * per_sample).sum() / w.sum()


def _grad_scale(p, w):
    """D L / d l_ik = w_i / (K sum w)."""
    return (w / (p.shape[1] * w.sum()))[:, None]


def mse(p, y, w):
    """Weighted mean squared error and dL/dp: returns ``(loss, grad)``."""
    r = p - y
    return _weighted_mean(r**2, w), 2 * r * _grad_scale(p, w)


def mae(p, y, w):
    """Weighted mean absolute error and dL/dp (``sign(p - y)``): returns ``(loss, grad)``."""
    r = p - y
    return _weighted_mean(np.abs(r), w), np.sign(r) * _grad_scale(p, w)


def huber(p, y, w, delta=1.0):
    """Weighted mean Huber loss and dL/dp: returns ``(loss, grad)``."""
    r = p - y
    small = np.abs(r) <= delta
    loss = np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    grad = np.where(small, r, delta * np.sign(r))
    return _weighted_mean(loss, w), grad * _grad_scale(p, w)


def binary_cross_entropy_with_logits(p, y, w):
    """Weighted mean binary cross-entropy of logits and dL/dp: returns ``(loss, grad)``."""
    loss = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
    return _weighted_mean(loss, w), (sigmoid(p) - y) * _grad_scale(p, w)


def pinball(p, y, w, quantiles):
    """Weighted mean pinball loss for ``quantiles`` (K,) and dL/dp: returns ``(loss, grad)``."""
    r = y - p
    q = np.asarray(quantiles)[None, :]
    loss = np.maximum(q * r, (q - 1) * r)
    grad = np.where(r > 0, -q, np.where(r < 0, 1 - q, 0.5 - q))  # subgradient at r = 0
    return _weighted_mean(loss, w), grad * _grad_scale(p, w)


def softmax_cross_entropy(p, labels, w, class_weight=None):
    """Weighted softmax cross-entropy of logits and dL/dp: returns ``(loss, grad)``."""
    n, n_classes = p.shape
    c = np.ones(n_classes) if class_weight is None else np.asarray(class_weight, np.float64)
    shifted = p - p.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    log_prob = shifted - log_z[:, None]
    weight = w * c[labels]
    loss = -(weight * log_prob[np.arange(n), labels]).sum() / weight.sum()
    onehot = np.zeros_like(p)
    onehot[np.arange(n), labels] = 1.0
    grad = (np.exp(log_prob) - onehot) * (weight / weight.sum())[:, None]
    return loss, grad
