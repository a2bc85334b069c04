"""Many series, one model: the Forecaster on panels in every form it reads."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tests.helpers import network_forecast
from tsrnn import Forecaster
from tsrnn.forecasting import UncalibratedIntervalWarning
from tsrnn.forecasting._panel import PanelError
from tsrnn.windows import make_panel_windows

FAST = dict(horizon=4, max_epochs=2, n_ensemble=2, random_state=0)


def _series(n, start, seed, freq="MS"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 10 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, n)
    return pd.Series(values, index=pd.date_range(start, periods=n, freq=freq))


@pytest.fixture(scope="module")
def panel():
    """Three monthly series of different lengths and starts."""
    return {
        "a": _series(60, "2000-01-01", 0),
        "b": _series(80, "1995-06-01", 1),
        "c": _series(50, "2003-03-01", 2),
    }


def _long(panel, id_column="unique_id", time_column="ds", value_column="y"):
    return pd.concat(
        [
            pd.DataFrame({id_column: key, time_column: s.index, value_column: s.to_numpy()})
            for key, s in panel.items()
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def fitted(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Forecaster(**FAST).fit(_long(panel))


def test_long_multiindex_xarray_and_dict_give_identical_forecasts(panel, fitted):
    # The blend may keep none of the 2-epoch networks (weight 0): each form's
    # networks' own forecasts are compared too.
    expected = [fitted.predict()["y"].to_numpy(), network_forecast(fitted)["y"].to_numpy()]
    frame = _long(panel).set_index(["unique_id", "ds"])
    model = Forecaster(**FAST).fit(frame)
    by_index = [model.predict(), network_forecast(model)]
    assert list(by_index[0].index.names) == ["unique_id", "ds"]
    np.testing.assert_array_equal([f["y"].to_numpy() for f in by_index], expected)
    # The DataArray pads the shorter series with NaN; they are trimmed on the way in.
    array = frame["y"].to_xarray().rename({"unique_id": "series"})
    model = Forecaster(**FAST).fit(array)
    by_array = [model.predict(), network_forecast(model)]
    assert by_array[0].dims == ("series", "ds")
    from_array = [[f.sel(series=k).dropna("ds").values for k in panel] for f in by_array]
    np.testing.assert_array_equal([np.concatenate(f) for f in from_array], expected)
    model = Forecaster(**FAST).fit(panel)
    by_dict = [model.predict(), network_forecast(model)]
    from_dict = [np.concatenate([f[k] for k in panel]) for f in by_dict]
    np.testing.assert_array_equal(from_dict, expected)
    model = Forecaster(**FAST).fit(list(panel.values()))
    by_list = [model.predict(), network_forecast(model)]
    np.testing.assert_array_equal([np.concatenate(f) for f in by_list], expected)


def test_forecasts_are_dated_from_each_series_own_end(panel, fitted):
    forecast = fitted.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "y"]
    for key, history in panel.items():
        own = forecast[forecast["unique_id"] == key]
        expected = pd.date_range(history.index[-1], periods=5, freq="MS")[1:]
        np.testing.assert_array_equal(own["ds"].to_numpy(), expected.to_numpy())
    lower, upper = fitted.predict_interval(0.9)
    assert (lower["y"] < forecast["y"]).all() and (forecast["y"] < upper["y"]).all()
    pd.testing.assert_frame_equal(lower[["unique_id", "ds"]], forecast[["unique_id", "ds"]])


def test_series_of_different_lengths_all_give_windows(panel, fitted):
    # The automatic window of a panel wants six cycles (72 months); the shortest
    # series (50) gives a horizon's worth of windows, and the median one (60) keeps
    # its calibration stretch (12) and a window: min(50 - 2 * 4, 60 - 12 - 4 - 1).
    assert fitted.window_ == 42
    assert fitted.series_ids_ == ["a", "b", "c"] and fitted.n_series_ == 3
    X, _, owner, _ = make_panel_windows([s.to_numpy() for s in panel.values()], 42, 4)
    assert np.bincount(owner).tolist() == [60 - 45, 80 - 45, 50 - 45]
    assert len(X) == 15 + 35 + 5


def test_custom_column_names_come_back_in_the_output(panel):
    frame = _long(panel, "store", "month", "sales")
    model = Forecaster(**FAST).fit(frame, id_column="store", time_column="month")
    forecast = model.predict(horizon=2)
    assert list(forecast.columns) == ["store", "month", "sales"]
    assert forecast.groupby("store").size().to_dict() == {"a": 2, "b": 2, "c": 2}


def test_a_wide_frame_is_a_panel_only_when_asked():
    index = pd.date_range("2000-01-01", periods=60, freq="MS")
    frame = pd.DataFrame({"x": _series(60, "2000", 0).values, "z": _series(60, "2000", 1).values})
    frame.index = index
    multivariate = Forecaster(**FAST).fit(frame)
    assert multivariate.n_targets_ == 2 and not hasattr(multivariate, "series_ids_")
    wide = Forecaster(**FAST).fit(frame, wide=True)
    assert wide.n_targets_ == 1 and wide.series_ids_ == ["x", "z"]
    forecast = wide.predict()
    assert list(forecast.columns) == ["x", "z"] and forecast.index[0] == pd.Timestamp("2005-01-01")


def test_series_the_model_never_saw_are_forecast(panel, fitted):
    new = {"z": _series(48, "2010-01-01", 7), "a": panel["a"]}
    forecast = fitted.predict(y=new)
    assert forecast["z"].index[0] == pd.Timestamp("2014-01-01")
    # A series' forecast depends only on its own history, wherever it comes in.
    seen = fitted.predict()
    np.testing.assert_allclose(forecast["a"].to_numpy(), seen["y"][:4].to_numpy(), rtol=1e-6)
    lower, upper = fitted.predict_interval(y=new)
    assert (lower["z"] < forecast["z"]).all() and (forecast["z"] < upper["z"]).all()


def test_the_same_seed_gives_bit_identical_panel_forecasts(panel, fitted):
    again = Forecaster(**FAST).fit(_long(panel))
    pd.testing.assert_frame_equal(again.predict(), fitted.predict(), check_exact=True)
    # The blend may keep none of the 2-epoch networks: their own forecasts too.
    pd.testing.assert_frame_equal(
        network_forecast(again), network_forecast(fitted), check_exact=True
    )
    other = Forecaster(**{**FAST, "random_state": 1}).fit(_long(panel))
    # Two epochs leave a network the blend may drop from the median forecast (weight
    # 0), but its quantile heads still set the band around it.
    assert not np.array_equal(other.networks_[0].params.flat, fitted.networks_[0].params.flat)
    assert not np.array_equal(other.predict_interval()[1]["y"], fitted.predict_interval()[1]["y"])


def test_model_files_hold_global_models(tmp_path, fitted, panel):
    path = tmp_path / "panel.tsrnn"
    fitted.save(path)
    loaded = tsrnn.load(path)
    pd.testing.assert_frame_equal(loaded.predict(), fitted.predict(), check_exact=True)
    lo, hi = loaded.predict_interval()
    pd.testing.assert_frame_equal(hi, fitted.predict_interval()[1], check_exact=True)
    assert loaded.series_ids_ == ["a", "b", "c"]
    new = {"z": _series(48, "2010-01-01", 7)}
    pd.testing.assert_series_equal(loaded.predict(y=new)["z"], fitted.predict(y=new)["z"])


def test_recursive_strategy_on_a_panel(panel):
    # Uncalibrated, the forecast is the networks' alone (a calibrated 2-epoch fit's
    # blend may keep none of them), so each step feeds their median back as input.
    options = {"strategy": "recursive", "calibration_fraction": 0, "scale_target": False}
    model = Forecaster(**FAST | options).fit(panel)
    assert model.anchor_weight_ == 1.0
    forecast = model.predict(horizon=6)
    assert {k: len(v) for k, v in forecast.items()} == {"a": 6, "b": 6, "c": 6}
    assert forecast["c"].index[0] == pd.Timestamp("2007-05-01")
    # Unscaled, a series' forecast does not depend on its spread: the second step is
    # the one-step forecast from the history the first step extends.
    extended = pd.concat([panel["c"], forecast["c"].iloc[:1]])
    step = model.predict(horizon=1, y={"c": extended})["c"]
    np.testing.assert_allclose(step.to_numpy(), forecast["c"].iloc[1:2], rtol=1e-12)
    assert step.index[0] == forecast["c"].index[1]


def test_panel_windows_never_leak_future_targets_into_earlier_inputs():
    series = [np.arange(20.0), np.arange(100.0, 113.0)]
    X, _, owner, positions = make_panel_windows(series, window=4, horizon=2)
    for i in range(len(X)):
        s = owner[i]
        assert X[i, -1, 0] == series[s][positions[i, 0] - 1]  # inputs end before targets
        for p in range(positions[i, 0], len(series[s])):
            changed = [a.copy() for a in series]
            changed[s][p] += 1e6
            np.testing.assert_array_equal(make_panel_windows(changed, 4, 2)[0][i], X[i])


def test_mixed_frequencies_are_refused(panel):
    mixed = {"a": panel["a"], "daily": _series(60, "2000-01-01", 3, freq="D")}
    with pytest.raises(PanelError, match=r"share one frequency: 'a' is MS but 'daily' is D"):
        Forecaster(**FAST).fit(mixed)


def test_an_unknown_id_column_is_named(panel):
    with pytest.raises(ValueError, match=r"no id column 'store'.*columns: unique_id, ds, y"):
        Forecaster(**FAST).fit(_long(panel), id_column="store")


def test_a_series_too_short_is_named(panel):
    short = {**panel, "tiny": _series(8, "2001-01-01", 4)}
    with pytest.raises(PanelError, match=r"series 'tiny': the series has 8 steps"):
        Forecaster(**{**FAST, "window": 6}).fit(short)
    with pytest.raises(PanelError, match=r"series 'z' has 3 steps; forecasting needs"):
        Forecaster(**FAST).fit(panel).predict(y={"z": _series(3, "2001-01-01", 5)})


def test_a_single_series_model_refuses_a_panel(panel):
    model = Forecaster(**FAST).fit(panel["a"])
    with pytest.raises(ValueError, match="fitted on one series; fit it on a panel"):
        model.predict(y=panel)


def test_a_panel_too_short_to_calibrate_gets_the_random_walk_floor():
    short = {k: _series(14, "2000-01-01", i) for i, k in enumerate("abc")}
    with pytest.warns(UncalibratedIntervalWarning, match="no series is long enough"):
        model = Forecaster(**FAST).fit(short)
    assert model.interval_method_ == "random-walk floor"
    forecast = model.predict()
    lower, upper = model.predict_interval(0.9)
    for key, history in short.items():
        sigma = np.diff(history.to_numpy()).std()
        half = 1.6448536269514722 * sigma * np.sqrt(np.arange(1, 5))
        assert (upper[key] - forecast[key] >= half - 1e-9).all()
        assert (forecast[key] - lower[key] >= half - 1e-9).all()


def test_only_series_long_enough_score_the_calibration(panel):
    mixed = {**panel, "short": _series(30, "2001-01-01", 9)}
    model = Forecaster(**{**FAST, "window": 12}).fit(mixed)
    assert model.interval_method_ == "conformal"
    # 0.2 of 60, 80 and 50 steps leave 12, 16 and 10 calibration steps; a horizon of 4
    # scores 9 + 13 + 7 origins of 4 values; the short series (6 = 0.2 * 30) scores 3.
    assert model.interval_calibration_[0.9]["n_values"] == 4 * (9 + 13 + 7 + 3)


def test_a_panel_of_equal_short_series_keeps_its_calibration():
    index = pd.date_range("2000-01-01", periods=60, freq="MS")
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(60, 3)).cumsum(axis=0), index=index)
    model = Forecaster(**FAST).fit(wide, wide=True)
    # 60 - 12 (calibration) - 4 - 1 = 43 steps, not the 52 the shortest could give.
    assert model.window_ == 43 and model.interval_method_ == "conformal"


def test_a_panel_batch_grows_with_its_windows():
    model = Forecaster()
    assert model._batch(500, panel=True) == 32 and model._batch(500) == 32
    assert model._batch(51_200, panel=True) == 512
    assert model._batch(10**6, panel=True) == 1024
    assert model._epochs(10**6, 1024, panel=True) == 3  # 977 steps an epoch
    assert model._epochs(51_200, 512, panel=True) == 8  # 800 steps for a global model
    assert model._epochs(500, 32, panel=True) == 50 and model._epochs(500, 32) == 30


def test_a_global_model_anneals_its_learning_rate_over_the_epochs(panel, monkeypatch):
    from tsrnn.forecasting import forecaster

    schedules = []
    original = forecaster.fit_network

    def spy(*args, **kwargs):
        schedules.append(kwargs["schedule"])
        return original(*args, **kwargs)

    monkeypatch.setattr(forecaster, "fit_network", spy)
    options = {**FAST, "calibration_fraction": 0, "n_ensemble": 1}
    Forecaster(**options).fit(panel)
    Forecaster(**options).fit(panel["a"])
    panel_schedule, series_schedule = schedules
    # A cosine over the 2 epochs: the second runs at half the base rate, the end at 0.
    assert panel_schedule(0, 0.01, 0.01) == pytest.approx(0.005)
    assert panel_schedule(1, 0.01, 0.005) == pytest.approx(0.0)
    assert series_schedule is None  # one series keeps a constant rate


def test_date_strings_in_a_long_frame_are_read_as_dates(panel, fitted):
    frame = _long(panel)
    frame["ds"] = frame["ds"].dt.strftime("%Y-%m-%d")
    model = Forecaster(**FAST).fit(frame)
    pd.testing.assert_frame_equal(model.predict(), fitted.predict())
    pd.testing.assert_frame_equal(network_forecast(model), network_forecast(fitted))
    frame["ds"] = "soon"
    with pytest.raises(PanelError, match="the time column 'ds' holds neither dates nor numbers"):
        Forecaster(**FAST).fit(frame)


def test_a_linear_path_needs_two_windows_per_weight():
    from tsrnn.forecasting._global import linear_path

    # window 24 and 12 steps of 3 quantiles: 24 * 36 = 864 weights.
    assert linear_path(1728, 24, 36) and not linear_path(1727, 24, 36)


def test_a_panel_with_enough_windows_gets_the_linear_path(panel, tmp_path):
    from tsrnn.layers import Parallel

    # Window 4, one step of 3 quantiles: 12 weights, against the panel's 178 windows.
    model = Forecaster(horizon=1, window=4, max_epochs=2, n_ensemble=1, random_state=0)
    model.fit(panel)
    assert model.linear_path_
    assert [type(layer) for layer in model.network_.layers][0] is Parallel
    path = tmp_path / "linear.tsrnn"
    model.save(path)
    pd.testing.assert_series_equal(tsrnn.load(path).predict()["a"], model.predict()["a"])


def test_a_panel_with_few_windows_per_weight_reads_the_window_through_the_lstm(fitted):
    # Window 42 and 4 steps of 3 quantiles: 504 weights, against 55 windows.
    assert not fitted.linear_path_
    assert not any(type(layer).__name__ == "Parallel" for layer in fitted.network_.layers)


def test_known_covariates_report_the_flattened_path_the_head_reads(panel):
    # Calendar features are known covariates: the head reads the window flattened
    # beside the LSTM whatever the number of windows, and linear_path_ says so.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Forecaster(calendar="auto", strategy="direct", **FAST).fit(_long(panel))
    assert type(model.network_.layers[0]).__name__ == "Parallel"
    assert model.linear_path_


def test_the_seasonal_trend_blend_reads_each_series_whole_history(panel, fitted):
    model = copy.deepcopy(fitted)
    model.blend_anchor_, model.anchor_weight_ = "seasonal trend", 0.0
    forecast = model.predict()
    new = {"z": _series(90, "2010-01-01", 7)}  # a series the model never saw
    for key, series in [*panel.items(), ("z", new["z"])]:
        y = series.to_numpy()
        t = np.arange(len(y) + 4)
        design = np.column_stack([t, np.eye(12)[t % 12]])
        coef = np.linalg.lstsq(design[: len(y)], y, rcond=None)[0]
        expected = design[len(y) :] @ coef
        got = model.predict(y=new)["z"] if key == "z" else forecast[forecast.unique_id == key].y
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_a_panel_whose_held_out_windows_favour_the_seasonal_trend_blends_it(tmp_path):
    # Long, noisy trending series: the whole history reads trend and season better
    # than a window of a few cycles, and the held-out windows show it.
    rng = np.random.default_rng(0)
    t = np.arange(240)
    panel = {
        f"s{i}": pd.Series(
            50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12 + i) + rng.normal(0, 2, 240),
            index=pd.date_range("2000-01-01", periods=240, freq="MS"),
        )
        for i in range(6)
    }
    model = Forecaster(**{**FAST, "window": 24}).fit(panel)
    assert model.blend_anchor_ == "seasonal trend"
    assert model.anchor_weight_ < 1.0
    model.save(tmp_path / "trend.tsrnn")
    loaded = tsrnn.load(tmp_path / "trend.tsrnn")
    for key, forecast in model.predict().items():
        pd.testing.assert_series_equal(loaded.predict()[key], forecast, check_exact=True)
