"""Loss functions: value and gradient with respect to the network's output.

Equations and the weighting convention are in :mod:`tsrnn.kernels.reference.losses`.
Classification losses take logits; apply :func:`sigmoid` / :func:`softmax` to the
network output to get probabilities.
"""

import numpy as np
from scipy.special import expit
from scipy.special import softmax as scipy_softmax

from tsrnn.backend import backend_of


def _prepare(pred, target, sample_weight, dtype=None):
    """Validate on the host, then put the targets and weights where ``pred`` lives.

    ``pred`` is a NumPy array, or a CUDA device array during GPU training.
    """
    backend = backend_of(pred)
    pred = backend.arrays.to_device(pred)
    n = pred.shape[0]
    pred2 = pred.reshape(n, -1)
    if sample_weight is None:
        w = np.ones(n, dtype=np.float64)
    else:
        w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if w.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError("sample weights must be non-negative with a positive sum")
    if target is not None:
        target = np.ascontiguousarray(target, dtype=dtype or pred.dtype).reshape(n, -1)
        if target.shape != pred2.shape:
            raise ValueError(
                f"targets of shape {target.shape} do not match predictions of shape {pred2.shape}"
            )
        target = backend.arrays.to_device(target)
    return pred, pred2, target, backend.arrays.to_device(w)


def _kernels(pred):
    return backend_of(pred).losses


class Loss:
    """Base: ``loss(pred, target, sample_weight=None) -> (value, dL/dpred)``."""

    def __call__(self, pred, target, sample_weight=None):
        """Return the weighted mean loss and its gradient with respect to ``pred``.

        Parameters
        ----------
        pred : ndarray of shape (n_samples, ...)
            The network's output (logits for classification), a NumPy or CUDA array.
        target : array-like
            Targets of the same size per sample as ``pred``.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights with a positive sum; all ones if omitted.

        Returns
        -------
        value : float
            The loss.
        grad : ndarray
            dL/dpred, on the device of ``pred`` and of its shape.

        Raises
        ------
        ValueError
            If the shapes of ``target`` or ``sample_weight`` do not match ``pred``, or a
            weight is negative.
        """
        pred, pred2, target, w = _prepare(pred, target, sample_weight)
        grad = backend_of(pred).arrays.empty_like(pred2)
        value = self._compute(pred2, target, w, grad)
        return float(value), grad.reshape(pred.shape)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error."""

    def _compute(self, p, y, w, grad):
        return _kernels(p).mse(p, y, w, grad)


class MAE(Loss):
    """Mean absolute error."""

    def _compute(self, p, y, w, grad):
        return _kernels(p).mae(p, y, w, grad)


class Huber(Loss):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond.

    Parameters
    ----------
    delta : float > 0, default=1.0
        Where the loss turns from quadratic to linear.

    Raises
    ------
    ValueError
        If ``delta`` is not positive.
    """

    def __init__(self, delta=1.0):
        if not delta > 0:
            raise ValueError(f"delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def _compute(self, p, y, w, grad):
        return _kernels(p).huber(p, y, w, self.delta, grad)


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy from logits (targets in {0, 1} or probabilities)."""

    def _compute(self, p, y, w, grad):
        return _kernels(p).binary_cross_entropy_with_logits(p, y, w, grad)


class Pinball(Loss):
    """Quantile (pinball) loss; output column k predicts quantile ``quantiles[k % Q]``.

    The network's outputs are laid out target-major: for M targets and Q quantiles,
    column ``m * Q + q``. Targets are given once per target and repeated here.

    Parameters
    ----------
    quantiles : array-like of float, default=(0.05, 0.5, 0.95)
        The Q quantile levels, each strictly between 0 and 1.

    Raises
    ------
    ValueError
        If ``quantiles`` is empty or a level is outside (0, 1).
    """

    def __init__(self, quantiles=(0.05, 0.5, 0.95)):
        q = np.asarray(quantiles, dtype=np.float64).reshape(-1)
        if q.size == 0 or (q <= 0).any() or (q >= 1).any():
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles!r}")
        self.quantiles = q

    def __call__(self, pred, target, sample_weight=None):
        """Return the weighted mean loss and its gradient with respect to ``pred``.

        Parameters
        ----------
        pred : ndarray of shape (n_samples, ...)
            The network's output (logits for classification), a NumPy or CUDA array.
        target : array-like
            Targets of shape (n_samples, M), one column per target; each is repeated
            for the Q quantiles.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights with a positive sum; all ones if omitted.

        Returns
        -------
        value : float
            The loss.
        grad : ndarray
            dL/dpred, on the device of ``pred`` and of its shape.

        Raises
        ------
        ValueError
            If the shapes do not match or a weight is negative.
        """
        n, n_q = pred.shape[0], self.quantiles.size
        target = np.repeat(np.asarray(target, dtype=pred.dtype).reshape(n, -1), n_q, axis=1)
        pred, pred2, target, w = _prepare(pred, target, sample_weight)
        backend = backend_of(pred)
        grad = backend.arrays.empty_like(pred2)
        q = backend.arrays.to_device(np.tile(self.quantiles, pred2.shape[1] // n_q))
        value = backend.losses.pinball(pred2, target, w, q, grad)
        return float(value), grad.reshape(pred.shape)


class SoftmaxCrossEntropy(Loss):
    """Multi-class cross-entropy from logits; targets are class indices 0..C-1.

    Parameters
    ----------
    class_weight : array-like of shape (n_classes,), optional
        Weight of each class; the loss is normalised by the total weight, as
        ``torch.nn.CrossEntropyLoss(weight=...)``.
    """

    def __init__(self, class_weight=None):
        self.class_weight = None if class_weight is None else np.asarray(class_weight, float)

    def __call__(self, pred, target, sample_weight=None):
        """Return the weighted mean loss and its gradient with respect to ``pred``.

        Parameters
        ----------
        pred : ndarray of shape (n_samples, ...)
            The network's output (logits for classification), a NumPy or CUDA array.
        target : array-like
            Integer class indices in ``[0, n_classes)``, shape (n_samples,).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights with a positive sum; all ones if omitted.

        Returns
        -------
        value : float
            The loss.
        grad : ndarray
            dL/dpred, on the device of ``pred``, of shape (n_samples, n_classes).

        Raises
        ------
        ValueError
            If the targets are not integer indices in range, ``class_weight`` has the
            wrong length, or the weights are invalid.
        """
        pred, pred2, _, w = _prepare(pred, None, sample_weight)
        labels = np.asarray(target).reshape(-1)
        n_classes = pred2.shape[1]
        if labels.shape != (pred2.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError("targets must be integer class indices, one per sample")
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"class indices must lie in [0, {n_classes})")
        cw = np.ones(n_classes) if self.class_weight is None else self.class_weight
        if cw.shape != (n_classes,):
            raise ValueError(f"class_weight must have {n_classes} entries, got {cw.shape}")
        backend = backend_of(pred)
        grad = backend.arrays.empty_like(pred2)
        value = backend.losses.softmax_cross_entropy(
            pred2,
            backend.arrays.to_device(labels, np.int64),
            w,
            backend.arrays.to_device(cw),
            grad,
        )
        return float(value), grad


def sigmoid(logits):
    """Probabilities from binary logits, without overflow.

    Parameters
    ----------
    logits : array-like
        The network's output for a binary classifier.

    Returns
    -------
    ndarray
        ``1 / (1 + exp(-logits))`` in float64, of the same shape.
    """
    return expit(np.asarray(logits, dtype=np.float64))


def softmax(logits):
    """Class probabilities from logits (rows sum to 1).

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        The softmax of each row, in float64.
    """
    return scipy_softmax(np.asarray(logits, dtype=np.float64), axis=1)


LOSSES = {
    "mse": MSE,
    "mae": MAE,
    "huber": Huber,
    "bce": BinaryCrossEntropy,
    "cross_entropy": SoftmaxCrossEntropy,
    "pinball": Pinball,
}


def get_loss(loss):
    """A Loss instance from a name in ``LOSSES`` or a Loss.

    Parameters
    ----------
    loss : {'mse', 'mae', 'huber', 'bce', 'cross_entropy', 'pinball'} or Loss
        A name (the loss with its default arguments) or an instance, returned as is.

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        If ``loss`` is not a known name or a Loss.
    """
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a Loss, got {loss!r}")
    return LOSSES[loss]()
