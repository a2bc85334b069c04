"""The Forecaster on real series: scaling, exogenous features, timestamps, intervals."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import tsrnn
from tests.helpers import network_forecast
from tsrnn import Forecaster
from tsrnn.datasets import load_airline, load_sunspots
from tsrnn.forecasting import TrainingDivergedError, UncalibratedIntervalWarning


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def test_scaling_is_fitted_on_training_data_only():
    y = load_airline()
    a = Forecaster(horizon=6, max_epochs=3, random_state=0).fit(y[:100])
    changed = y.copy()
    changed.iloc[100:] *= 50  # the future must not matter
    b = Forecaster(horizon=6, max_epochs=3, random_state=0).fit(changed[:100])
    np.testing.assert_array_equal(a.scale_, b.scale_)
    pd.testing.assert_series_equal(a.predict(), b.predict())
    pd.testing.assert_series_equal(network_forecast(a), network_forecast(b))


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
    # A monthly index gives the season that an array needs to be told.
    np.testing.assert_allclose(np_out, Forecaster(**small).fit(y.reset_index(drop=True)).predict())
    seasonal = Forecaster(**small | {"season_length": 12}).fit(y.to_numpy()).predict()
    np.testing.assert_allclose(seasonal, Forecaster(**small).fit(y).predict().to_numpy())
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
    old_file_state = Forecaster()
    old_file_state.__dict__["network_"] = None  # as a model file from before ensembles
    with pytest.raises(ValueError, match="saved by an earlier tsrnn version"):
        old_file_state.predict()
    with pytest.raises(ValueError, match="'strategy' parameter of Forecaster must be"):
        Forecaster(strategy="stacked").fit(np.arange(80.0))


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


# --- parameters, divergence and magnitudes ----------------------------------------------------

TINY = dict(hidden_size=4, max_epochs=2, n_ensemble=1, random_state=0)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"batch_size": 0}, "'batch_size' parameter of Forecaster must be"),
        ({"calibration_fraction": np.nan}, "'calibration_fraction' parameter of Forecaster"),
        ({"calibration_fraction": 5}, "'calibration_fraction' parameter of Forecaster"),
        ({"n_ensemble": 0}, "'n_ensemble' parameter of Forecaster must be"),
        ({"window": "long"}, "'window' parameter of Forecaster must be"),
        ({"quantiles": (0.5, np.nan)}, r"quantiles must be numbers in \(0, 1\)"),
        ({"quantiles": (0.1, 0.9)}, "quantiles must include 0.5"),
    ],
)
def test_forecaster_parameters_are_validated(params, message):
    with pytest.raises(ValueError, match=message):
        Forecaster(**params).fit(np.arange(80.0))


def test_divergence_is_a_clear_value_error():
    with pytest.raises(TrainingDivergedError, match="lower learning_rate"):
        Forecaster(learning_rate=1e38, **TINY).fit(load_airline()[:60])
    assert issubclass(TrainingDivergedError, ValueError)


def test_series_near_the_float_limit_forecast_finite_values():
    y = np.arange(40) * 1e300
    model = Forecaster(dtype="float64", window=8, horizon=3, **TINY).fit(y)
    forecast = model.predict()
    lower, upper = model.predict_interval(0.9)
    assert np.isfinite(forecast).all() and np.isfinite(lower).all() and np.isfinite(upper).all()
    assert (forecast > 3e301).all()
    # The blend may keep none of a two-epoch network: its own forecast is finite too.
    assert np.isfinite(network_forecast(model)).all()
    # Scaling by a power of two is exact: a series 2**990 times larger gets the same
    # forecast, 2**990 times larger.
    noisy = np.arange(40) + np.random.default_rng(0).normal(0, 1, 40)
    small = Forecaster(dtype="float64", window=8, horizon=3, **TINY).fit(noisy)
    large = Forecaster(dtype="float64", window=8, horizon=3, **TINY).fit(noisy * 2.0**990)
    np.testing.assert_array_equal(large.predict() / 2.0**990, small.predict())
    np.testing.assert_array_equal(network_forecast(large) / 2.0**990, network_forecast(small))
    np.testing.assert_array_equal(
        large.predict_interval(0.9)[1] / 2.0**990, small.predict_interval(0.9)[1]
    )


def test_training_uses_one_blas_thread(monkeypatch):
    from threadpoolctl import threadpool_info

    from tsrnn.forecasting import forecaster

    seen = []
    original = forecaster.fit_network

    def spy(*args, **kwargs):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        return original(*args, **kwargs)

    monkeypatch.setattr(forecaster, "fit_network", spy)
    Forecaster(window=8, horizon=3, **TINY).fit(np.arange(60.0))
    assert seen and set(seen) == {1}


# --- defaults from the data, ensembles and interval calibration -------------------------------


@pytest.mark.parametrize(
    "freq, n, window",
    [("MS", 150, 24), ("QS", 80, 16), ("W", 300, 104), ("YS", 100, 16), ("MS", 36, 12)],
)
def test_auto_window_follows_the_season_and_the_length(freq, n, window):
    y = pd.Series(np.arange(n, dtype=float), index=pd.date_range("2000", periods=n, freq=freq))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncalibratedIntervalWarning)
        model = Forecaster(**TINY).fit(y)
    assert model.window_ == window


def test_short_series_fits_with_defaults_and_gets_a_stated_wider_band():
    rng = np.random.default_rng(0)
    index = pd.date_range("2015-01-01", periods=36, freq="MS")
    y = pd.Series(100 + np.cumsum(rng.normal(0, 5, 36)), index=index)
    with pytest.warns(UncalibratedIntervalWarning, match="too short to calibrate"):
        model = Forecaster(hidden_size=4, max_epochs=5, random_state=0).fit(y)
    assert model.interval_method_ == "random-walk floor"
    lower, upper = model.predict_interval(0.9)
    assert lower.index[0] == pd.Timestamp("2018-01-01") and len(lower) == 12
    sigma = np.diff(y.to_numpy()).std()
    floor = 2 * 1.6448536 * sigma * np.sqrt(np.arange(1, 13))
    assert (upper.to_numpy() - lower.to_numpy() >= floor - 1e-9).all()


def test_ensemble_is_the_median_of_its_members_and_bit_identical_per_seed():
    y = load_airline()[:80]
    params = dict(window=12, horizon=4, hidden_size=4, max_epochs=3, calibration_fraction=0)
    ensemble = Forecaster(n_ensemble=3, random_state=5, **params).fit(y)
    again = Forecaster(n_ensemble=3, random_state=5, **params).fit(y)
    pd.testing.assert_series_equal(ensemble.predict(), again.predict(), check_exact=True)
    assert len(ensemble.networks_) == 3 and ensemble.network_ is ensemble.networks_[0]
    end = np.array([len(y)])
    members = [
        ensemble._quantiles_at(ensemble._history_values, None, end, 4, [net])[0, :, 0, 1]
        for net in ensemble.networks_
    ]
    assert np.ptp(members, axis=0).min() > 0  # the members differ
    np.testing.assert_allclose(
        ensemble.predict().to_numpy(), np.median(members, axis=0) * ensemble.magnitude_
    )


@pytest.mark.parametrize("fraction, n_cal", [(0.2, 19), (0.115, 11)])
def test_calibration_is_reported(fraction, n_cal):
    y = load_airline()[:96]
    options = dict(window=12, horizon=6, hidden_size=4, max_epochs=5, n_ensemble=2)
    model = Forecaster(**options, random_state=0, calibration_fraction=fraction).fit(y)
    assert model.interval_method_ == "conformal"
    if n_cal - 6 + 1 <= 6:
        # No more windows than the horizon's steps make no two folds: the report
        # scores the networks' own bands (14 windows choose a blend, which may keep
        # none of five-epoch networks).
        assert (model.blend_anchor_, model.anchor_weight_) == ("training anchor", 1.0)
    report = model.interval_calibration_[0.9]
    assert report["n_values"] == (n_cal - 6 + 1) * 6  # origins in the last n_cal steps x horizon
    assert report["coverage"] >= 0.9 >= 0
    assert 0 <= report["raw_coverage"] <= report["coverage"]
    assert report["widening"] == model.interval_widening_[(0, 2)]
    assert report["mean_width"] > 0


def test_predict_from_a_new_history_reuses_the_model():
    y = load_airline()
    model = Forecaster(window=12, horizon=4, **TINY | {"calibration_fraction": 0}).fit(y[:100])
    forecast = model.predict(y=y[:110])
    assert forecast.index[0] == y.index[110]
    refit_free = model.predict(y=y[:100])
    pd.testing.assert_series_equal(refit_free, model.predict())
    with pytest.raises(ValueError, match="needs the last window=12"):
        model.predict(y=y[:5])


def test_ensemble_round_trips_through_a_model_file(tmp_path):
    y = load_airline()[:72]
    model = Forecaster(
        window=12, horizon=4, hidden_size=4, max_epochs=3, n_ensemble=2, random_state=0
    ).fit(y)
    loaded = tsrnn.load(model.save(tmp_path / "f.tsrnn") and tmp_path / "f.tsrnn")
    assert len(loaded.networks_) == 2
    pd.testing.assert_series_equal(loaded.predict(), model.predict(), check_exact=True)
    # The blend may keep none of two 3-epoch networks: their own forecasts too.
    pd.testing.assert_series_equal(
        network_forecast(loaded), network_forecast(model), check_exact=True
    )
    assert loaded.interval_calibration_ == model.interval_calibration_
