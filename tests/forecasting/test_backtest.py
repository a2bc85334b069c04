"""Rolling-origin backtests of a Forecaster: folds, errors, refits, parameter checks."""

import numpy as np
import pytest
from sklearn.base import clone

from tsrnn import Forecaster, backtest
from tsrnn.datasets import load_airline

TINY = dict(hidden_size=4, max_epochs=2, n_ensemble=1, random_state=0)


def test_backtest_reports_fold_and_overall_errors():
    y = load_airline()[:72]
    result = backtest(
        Forecaster(window=12, max_epochs=5, random_state=0, calibration_fraction=0),
        y,
        initial_window=48,
        step=6,
        horizon=6,
    )
    assert list(result["folds"]["origin"]) == [48, 54, 60, 66]
    assert set(result) == {"folds", "mae", "rmse", "mape", "n_fits"}
    assert result["rmse"] >= result["mae"] > 0


@pytest.mark.parametrize(
    "params, message",
    [
        ({"step": 0}, "'step' parameter of backtest must be"),
        ({"initial_window": -5}, "'initial_window' parameter of backtest must be"),
        ({"horizon": 0}, "'horizon' parameter of backtest must be"),
        ({"refit": 0}, "'refit' parameter of backtest must be"),
    ],
)
def test_backtest_parameters_are_validated(params, message):
    args = dict(initial_window=40, step=5, horizon=3) | params
    with pytest.raises(ValueError, match=message):
        backtest(Forecaster(**TINY), np.arange(60.0), **args)


def test_backtest_without_refit_and_every_k():
    y = load_airline()[:84]
    model = Forecaster(window=12, **TINY | {"calibration_fraction": 0})
    kwargs = dict(initial_window=48, step=6, horizon=6)
    once = backtest(model, y, refit=False, **kwargs)
    assert once["n_fits"] == 1 and list(once["folds"]["refitted"]) == [True] + [False] * 5
    fitted = clone(model).set_params(horizon=6).fit(y.iloc[:48])
    expected = fitted.predict(y=y.iloc[:60]).to_numpy()
    true = y.to_numpy()[60:66]
    assert once["folds"]["mae"][2] == pytest.approx(np.mean(np.abs(expected - true)))
    every2 = backtest(model, y, refit=2, **kwargs)
    assert every2["n_fits"] == 3
    assert list(every2["folds"]["refitted"]) == [True, False] * 3
    assert every2["folds"]["mae"][0] == once["folds"]["mae"][0]
