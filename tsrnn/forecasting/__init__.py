"""Forecasting: the :class:`Forecaster` and rolling-origin :func:`backtest`.

``_series`` converts series in and out, ``_panel`` panels of many series,
``forecaster`` trains the ensemble and calibrates its intervals, ``_global`` fits and
forecasts one global model on a panel, ``_scaling`` holds the exact power-of-two
scaling, ``_covariates`` reads future, calendar and static covariates and builds the
inputs that carry them over the horizon, ``_known`` records the covariates a
Forecaster was fitted with, ``backtest`` evaluates a Forecaster over many origins.
"""

from tsrnn.forecasting._series import infer_freq
from tsrnn.forecasting.backtest import backtest
from tsrnn.forecasting.forecaster import (
    Forecaster,
    TrainingDivergedError,
    UncalibratedIntervalWarning,
)

__all__ = [
    "Forecaster",
    "TrainingDivergedError",
    "UncalibratedIntervalWarning",
    "backtest",
    "infer_freq",
]
