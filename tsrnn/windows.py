"""Series to supervised windows, for forecasting.

A window's inputs end strictly before its targets: window ``i`` reads steps
``[i * stride, i * stride + window)`` and predicts the ``horizon`` steps after them.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from tsrnn.persistence import SaveMixin


def make_windows(y, window, horizon=1, stride=1, exog=None):
    """Cut a series into (inputs, targets) windows.

    Parameters
    ----------
    y : array-like of shape (n_steps,) or (n_steps, n_targets)
    window : int
        Input steps per sample.
    horizon : int, default=1
        Target steps per sample.
    stride : int, default=1
        Steps between consecutive windows.
    exog : array-like of shape (n_steps, n_exog), optional
        Exogenous features aligned with ``y``; their values over the input window
        are appended to the inputs (never values from the target period).

    Returns
    -------
    X : ndarray (n_windows, window, n_targets + n_exog)
    Y : ndarray (n_windows, horizon, n_targets)
    target_positions : ndarray (n_windows, horizon) of int
        Position in ``y`` of every target, to map predictions back to timestamps.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D (n_steps, n_targets), got shape {y.shape}")
    for name, value in (("window", window), ("horizon", horizon), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    n = y.shape[0]
    if n < window + horizon:
        raise ValueError(f"the series has {n} steps, fewer than window + horizon = "
                         f"{window + horizon}")  # fmt: skip
    inputs = y
    if exog is not None:
        exog = np.asarray(exog, dtype=np.float64)
        exog = exog[:, None] if exog.ndim == 1 else exog
        if exog.shape[0] != n:
            raise ValueError(f"exog has {exog.shape[0]} steps but y has {n}")
        inputs = np.concatenate([y, exog], axis=1)
    starts = np.arange(0, n - window - horizon + 1, stride)
    X = np.stack([inputs[s : s + window] for s in starts])
    positions = starts[:, None] + window + np.arange(horizon)[None, :]
    return X, y[positions], positions


class WindowTransformer(SaveMixin, TransformerMixin, BaseEstimator):
    """``transform(y)`` returns the input windows of :func:`make_windows` (the
    targets come from ``make_windows`` itself); usable in pipelines.
    """

    def __init__(self, window=12, horizon=1, stride=1):
        self.window = window
        self.horizon = horizon
        self.stride = stride

    def fit(self, y, exog=None):
        self.n_features_in_ = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        return self

    def transform(self, y, exog=None):
        return make_windows(y, self.window, self.horizon, self.stride, exog)[0]
