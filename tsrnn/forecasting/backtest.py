"""Rolling-origin evaluation of a Forecaster."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    root_mean_squared_error,
)
from sklearn.utils._param_validation import HasMethods, validate_params

from tsrnn._validation import POSITIVE_INT
from tsrnn.forecasting._series import to_values


def _head(series, n):
    """The first ``n`` steps of an array or pandas object."""
    return series.iloc[:n] if hasattr(series, "iloc") else series[:n]


@validate_params(
    {
        "forecaster": [HasMethods(["fit", "predict"])],
        "y": ["array-like"],
        "initial_window": [POSITIVE_INT],
        "step": [POSITIVE_INT],
        "horizon": [POSITIVE_INT],
        "refit": ["boolean", POSITIVE_INT],
        "X": ["array-like", None],
    },
    prefer_skip_nested_validation=False,
)
def backtest(forecaster, y, initial_window, step, horizon, refit=True, X=None):
    """Evaluate a forecaster from rolling origins.

    Rolling-origin evaluation: forecast ``horizon`` steps from the origins
    ``initial_window, initial_window + step, ...``, each from ``y[:origin]``.

    Parameters
    ----------
    forecaster : Forecaster
        Cloned, with its ``horizon`` set to ``horizon``; never fitted in place.
    y : array-like, Series, DataFrame or DataArray
        The series.
    initial_window : int
        The first origin (steps of history for the first fit).
    step : int
        Steps between origins.
    horizon : int
        Steps forecast from each origin.
    refit : bool or int, default=True
        True refits at every origin; False fits once, on ``y[:initial_window]``, and
        forecasts every later origin from its history with that model; an integer
        ``k`` refits at every ``k``-th origin (on all the history up to it) and
        reuses that model for the origins in between.
    X : array-like, Series or DataFrame, optional
        Covariates over the whole series (one row per step of ``y``). Each fit reads
        the rows of its history; each forecast the rows of its history, and with
        ``future_covariates=True`` also the ``horizon`` rows after its origin.

    Returns
    -------
    dict
        'folds' (a DataFrame of per-fold origin, whether the model was refitted
        there, MAE, RMSE, MAPE), 'mae', 'rmse', 'mape' over all forecast points, and
        'n_fits'.
    """
    values, meta = to_values(y)
    n = values.shape[0]
    series = values
    if meta["index"] is not None:
        # Keep the time index, so the Forecaster reads the season from it.
        frame = pd.DataFrame(values, index=meta["index"])
        series = frame.iloc[:, 0] if meta["univariate"] else frame
    if initial_window + horizon > n:
        raise ValueError(
            f"initial_window + horizon = {initial_window + horizon} exceeds the series length {n}"
        )
    if X is not None and len(X) != n:
        raise ValueError(f"X has {len(X)} steps but y has {n}")
    future = X is not None and getattr(forecaster, "future_covariates", False)
    every = 1 if refit is True else (0 if refit is False else int(refit))
    rows, all_true, all_pred = [], [], []
    model, n_fits = None, 0
    for fold, origin in enumerate(range(initial_window, n - horizon + 1, step)):
        refitted = model is None or (every > 0 and fold % every == 0)
        if refitted:
            fit_X = None if X is None else _head(X, origin)
            model = clone(forecaster).set_params(horizon=horizon)
            model.fit(_head(series, origin), X=fit_X)
            n_fits += 1
        known = None if X is None else _head(X, origin + horizon if future else origin)
        pred = np.asarray(model.predict(y=_head(series, origin), X=known)).reshape(horizon, -1)
        true = values[origin : origin + horizon]
        rows.append(
            {
                "origin": origin,
                "refitted": refitted,
                "mae": mean_absolute_error(true, pred),
                "rmse": root_mean_squared_error(true, pred),
                "mape": mean_absolute_percentage_error(true, pred),
            }
        )
        all_true.append(true)
        all_pred.append(pred)
    true, pred = np.vstack(all_true), np.vstack(all_pred)
    return {
        "folds": pd.DataFrame(rows),
        "mae": mean_absolute_error(true, pred),
        "rmse": root_mean_squared_error(true, pred),
        "mape": mean_absolute_percentage_error(true, pred),
        "n_fits": n_fits,
    }
