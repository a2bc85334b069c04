"""Series to supervised windows, for forecasting.

A window's inputs end strictly before its targets: window ``i`` reads steps
``[i * stride, i * stride + window)`` and predicts the ``horizon`` steps after them.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tsrnn._validation import check_positive_int
from tsrnn.persistence import SaveMixin


def _as_series(a, name):
    """``a`` as a float (n_steps, n_columns) array, with a clear error otherwise."""
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{name} must contain real numbers, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (n_steps, n_columns), got shape {a.shape}")
    return a.astype(np.float64, copy=False)


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
    y = _as_series(y, "y")
    for name, value in (("window", window), ("horizon", horizon), ("stride", stride)):
        check_positive_int(value, name)
    n = y.shape[0]
    if n < window + horizon:
        raise ValueError(
            f"the series has {n} steps, fewer than window + horizon = {window + horizon}"
        )
    inputs = y
    if exog is not None:
        exog = _as_series(exog, "exog")
        if exog.shape[0] != n:
            raise ValueError(f"exog has {exog.shape[0]} steps but y has {n}")
        inputs = np.concatenate([y, exog], axis=1)
    starts = np.arange(0, n - window - horizon + 1, stride)
    # (n_windows, n_columns, window) views of the series, then one copy in the
    # (n_windows, window, n_columns) layout.
    views = np.lib.stride_tricks.sliding_window_view(inputs, window, axis=0)
    X = np.ascontiguousarray(views[starts].transpose(0, 2, 1))
    positions = starts[:, None] + window + np.arange(horizon)[None, :]
    return X, y[positions], positions


def make_panel_windows(series, window, horizon=1, stride=1):
    """Cut each of several series into windows, as :func:`make_windows`, and stack them.

    A window never crosses from one series into another, and its inputs end strictly
    before its targets in its own series.

    Parameters
    ----------
    series : sequence of array-like, each of shape (n_steps_i,) or (n_steps_i, n_targets)
        The series; their lengths may differ, their number of columns may not.
    window, horizon, stride : int
        As :func:`make_windows`.

    Returns
    -------
    X : ndarray (n_windows, window, n_targets)
    Y : ndarray (n_windows, horizon, n_targets)
    series_of_window : ndarray (n_windows,) of int
        The position in ``series`` of the series each window comes from.
    target_positions : ndarray (n_windows, horizon) of int
        Position of every target in its own series.
    """
    parts = []
    for i, values in enumerate(series):
        try:
            parts.append(make_windows(values, window, horizon, stride))
        except ValueError as exc:
            raise ValueError(f"series {i}: {exc}") from None
    if not parts:
        raise ValueError("no series to cut into windows")
    owner = np.concatenate([np.full(len(X), i) for i, (X, _, _) in enumerate(parts)])
    X, Y, positions = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return X, Y, owner, positions


class WindowTransformer(SaveMixin, TransformerMixin, BaseEstimator):
    """Turn a series into the input windows of :func:`make_windows`.

    ``transform(y)`` returns the input windows of :func:`make_windows` (the
    targets come from ``make_windows`` itself); usable in pipelines.
    """

    def __init__(self, window=12, horizon=1, stride=1):
        self.window = window
        self.horizon = horizon
        self.stride = stride

    def fit(self, y, exog=None):
        """Record the number of series columns; ``y`` as in :func:`make_windows`."""
        self.n_features_in_ = _as_series(y, "y").shape[1]
        return self

    def transform(self, y, exog=None):
        """The input windows (n_windows, window, n_columns [+ n_exog])."""
        check_is_fitted(self, "n_features_in_")
        n_columns = _as_series(y, "y").shape[1]
        if n_columns != self.n_features_in_:
            raise ValueError(
                f"y has {n_columns} columns, but WindowTransformer was fitted "
                f"with {self.n_features_in_}"
            )
        return make_windows(y, self.window, self.horizon, self.stride, exog)[0]
