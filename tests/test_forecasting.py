"""Forecasting: windows without leakage, the Forecaster on real series, timestamps."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tsrnn import Forecaster, backtest
from tsrnn.datasets import load_airline, load_sunspots
from tsrnn.windows import WindowTransformer, make_windows


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def test_windows_never_leak_targets_into_inputs():
    y = np.arange(40.0)
    exog = np.arange(40.0) * 10
    X, Y, pos = make_windows(y, window=5, horizon=3, stride=2, exog=exog)
    assert X.shape == (17, 5, 2) and Y.shape == (17, 3, 1)
    for i in range(len(X)):
        first_target = pos[i, 0]
        assert X[i, -1, 0] == first_target - 1  # inputs end strictly before the targets
        for p in range(first_target, 40):  # perturb any later value: inputs unchanged
            y2, e2 = y.copy(), exog.copy()
            y2[p] += 1e6
            e2[p] += 1e6
            np.testing.assert_array_equal(make_windows(y2, 5, 3, 2, e2)[0][i], X[i])
    np.testing.assert_array_equal(WindowTransformer(5, 3, 2).fit(y).transform(y), X[:, :, :1])


def test_scaling_is_fitted_on_training_data_only():
    y = load_airline()
    a = Forecaster(horizon=6, max_epochs=3, random_state=0).fit(y[:100])
    changed = y.copy()
    changed.iloc[100:] *= 50  # the future must not matter
    b = Forecaster(horizon=6, max_epochs=3, random_state=0).fit(changed[:100])
    np.testing.assert_array_equal(a.scale_, b.scale_)
    pd.testing.assert_series_equal(a.predict(), b.predict())


@pytest.mark.parametrize("seed", [0, 1])
def test_airline_beats_seasonal_naive_with_calibrated_intervals(seed):
    y = load_airline()
    train, test = y[:-24], y[-24:]
    model = Forecaster(horizon=24, random_state=seed).fit(train)
    forecast = model.predict()
    lower, upper = model.predict_interval(coverage=0.9)
    # Timestamps: the 24 months after the training data.
    assert forecast.index[0] == pd.Timestamp("1959-01-01")
    assert forecast.index[-1] == pd.Timestamp("1960-12-01")
    pd.testing.assert_index_equal(forecast.index, test.index, check_names=False)
    seasonal_naive = np.tile(train.to_numpy()[-12:], 2)
    assert _rmse(forecast, test) < _rmse(seasonal_naive, test)
    coverage = np.mean((test.to_numpy() >= lower.to_numpy()) & (test.to_numpy() <= upper))
    assert 0.75 <= coverage <= 1.0


def test_sunspots_beats_persistence():
    y = load_sunspots()
    train, test = y[:-30], y[-30:]
    forecast = Forecaster(window=40, horizon=30, random_state=0).fit(train).predict()
    assert forecast.index[0].year == 1979 and forecast.index[-1].year == 2008
    assert _rmse(forecast, test) < _rmse(np.full(30, train.iloc[-1]), test)


def test_round_trips_pandas_xarray_numpy_and_strategies():
    y = load_airline()[:60]
    small = dict(window=12, horizon=4, max_epochs=5, random_state=0, calibration_fraction=0)
    frame = pd.DataFrame({"passengers": y, "half": y / 2})
    out = Forecaster(**small).fit(frame).predict()
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["passengers", "half"]
    assert out.index[0] == pd.Timestamp("1954-01-01")
    da = xr.DataArray(y.to_numpy(), dims="time", coords={"time": y.index.values}, name="p")
    out = Forecaster(**small).fit(da).predict()
    assert isinstance(out, xr.DataArray) and out.dims == ("time",)
    assert pd.Timestamp(out["time"].values[0]) == pd.Timestamp("1954-01-01")
    np_out = Forecaster(**small).fit(y.to_numpy()).predict()
    assert isinstance(np_out, np.ndarray) and np_out.shape == (4,)
    np.testing.assert_allclose(np_out, Forecaster(**small).fit(y).predict().to_numpy())
    rec = Forecaster(**small | {"strategy": "recursive"}).fit(y)
    assert rec.predict(horizon=7).shape == (7,)
    with pytest.raises(ValueError, match="fitted for horizon=4"):
        Forecaster(**small).fit(y).predict(horizon=5)
    with pytest.raises(ValueError, match="needs the quantiles 0.1 and 0.9"):
        Forecaster(**small).fit(y).predict_interval(coverage=0.8)


def test_forecaster_input_errors():
    with pytest.raises(ValueError, match="too short for window=24"):
        Forecaster(window=24).fit(np.arange(30.0))
    with pytest.raises(ValueError, match="NaN or infinity"):
        Forecaster().fit(np.r_[np.arange(80.0), np.nan])
    with pytest.raises(ValueError, match="must be numeric"):
        Forecaster().fit(np.array(["a"] * 80))
    with pytest.raises(ValueError, match="not fitted yet"):
        Forecaster().predict()
    with pytest.raises(ValueError, match="strategy must be"):
        Forecaster(strategy="stacked").fit(np.arange(80.0))


def test_backtest_reports_fold_and_overall_errors():
    y = load_airline()[:72]
    result = backtest(Forecaster(window=12, max_epochs=5, random_state=0,
                                 calibration_fraction=0), y, initial_window=48, step=6,
                      horizon=6)  # fmt: skip
    assert list(result["folds"]["origin"]) == [48, 54, 60, 66]
    assert set(result) == {"folds", "mae", "rmse", "mape"}
    assert result["rmse"] >= result["mae"] > 0


def test_lagged_exogenous_features():
    y = load_airline()[:72]
    rng = np.random.default_rng(0)
    exog = pd.DataFrame({"promo": rng.random(72)}, index=y.index)
    small = dict(window=12, horizon=4, max_epochs=5, random_state=0, calibration_fraction=0)
    model = Forecaster(**small).fit(y, exog)
    assert model.network_.input_shape == (12, 2)  # the series and one exogenous feature
    with_exog = model.predict()
    assert with_exog.index[0] == pd.Timestamp("1955-01-01")
    assert not np.allclose(with_exog, Forecaster(**small).fit(y).predict())
    with pytest.raises(ValueError, match="X has 71 steps but y has 72"):
        Forecaster(**small).fit(y, exog[:-1])
