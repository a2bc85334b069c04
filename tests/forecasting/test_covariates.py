"""Forecaster covariates: future-known X, calendar features, static panel covariates."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import tsrnn
from tests.helpers import network_forecast
from tsrnn import Forecaster, backtest
from tsrnn.forecasting._covariates import calendar_features, known_windows, resolve_calendar

H = 7
FAST = dict(horizon=H, n_ensemble=1, max_epochs=3, calibration_fraction=0, random_state=0)


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def _promo_series(n=300, h=14, seed=0):
    """A drifting daily level with noise, lifted by 10 on promotion days."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n + h, freq="D")
    promo = (rng.random(n + h) < 0.15).astype(float)
    level = 50 + np.cumsum(rng.normal(0, 0.3, n + h))
    y = pd.Series(level + 10 * promo + rng.normal(0, 1, n + h), index=index, name="sales")
    return y, pd.DataFrame({"promo": promo}, index=index)


@pytest.fixture(scope="module")
def promo_model():
    y, X = _promo_series(n=120)
    model = Forecaster(future_covariates=True, calendar="auto", **FAST).fit(y[:120], X=X[:120])
    return model, y, X


# --- leakage ---------------------------------------------------------------------------


class _Recorder:
    """Stands in for a network: records the inputs it is asked to forecast from."""

    def __init__(self, n_out):
        self.n_out, self.inputs = n_out, []

    def predict(self, x):
        self.inputs.append(np.array(x))
        return np.zeros((len(x), self.n_out))


def test_future_targets_never_enter_inputs_at_an_earlier_origin(promo_model, monkeypatch):
    # Unscaled, so that the training scale does not depend on the perturbed value.
    y, X = _promo_series(n=120)
    model = Forecaster(future_covariates=True, calendar="auto", scale_target=False, **FAST)
    model.fit(y[:120], X=X[:120])
    values = y.to_numpy()[:, None]
    known = model._forecast_known(None, X[120 : 120 + H], 120, model._meta)
    w = model.window_
    trained = []
    monkeypatch.setattr(
        model, "_fit_member", lambda X_rel, *a, **k: trained.append(X_rel) or (None, [])
    )

    def inputs(v):
        model._train(v[:120], None, H, 0, known[:120])
        recorder = _Recorder(H * 3)
        model._quantiles_at(v, None, np.arange(w, 121), H, [recorder], known)
        return trained[-1], recorder.inputs[0]

    train_ref, predict_ref = inputs(values)
    assert train_ref.shape[1] == w + H  # the window and the horizon
    np.testing.assert_array_equal(train_ref[:, w:, 0], 0.0)  # no target past the origin
    for p in range(w, 120):  # perturb any target: inputs at origins <= p unchanged
        changed = values.copy()
        changed[p] += 1e6
        train, predict = inputs(changed)
        np.testing.assert_array_equal(train[: p - w + 1], train_ref[: p - w + 1])
        np.testing.assert_array_equal(predict[: p - w + 1], predict_ref[: p - w + 1])
        assert not np.array_equal(predict, predict_ref)  # the check can see a change


def test_panel_training_windows_never_read_future_targets():
    y, X = _promo_series(n=80)
    model = Forecaster(future_covariates=True, scale_target=False, **FAST)
    known = [np.arange(80.0)[:, None], np.arange(60.0)[:, None] * 2]
    model._cov = {"n_known": 1}
    model.window_, model.n_targets_, model.season_length_ = 10, 1, 1
    series = [y.to_numpy()[:80, None], y.to_numpy()[:60, None]]
    reference, _ = model._panel_windows(series, H, known)
    for s, p in ((0, 40), (1, 30)):
        changed = [v.copy() for v in series]
        changed[s][p] += 1e6
        inputs, _ = model._panel_windows(changed, H, known)
        first = 0 if s == 0 else 80 - 10 - H + 1  # the series' first window
        same = first + p - 10 + 1  # windows whose origin is at or before p
        np.testing.assert_array_equal(inputs[:same], reference[:same])
        assert not np.array_equal(inputs, reference)


def test_known_windows_span_the_window_and_the_horizon():
    known = np.arange(20.0)[:, None]
    out = known_windows(known, np.array([5, 9]), window=3, steps=2)
    np.testing.assert_array_equal(out[:, :, 0], [[2, 3, 4, 5, 6], [6, 7, 8, 9, 10]])


# --- errors naming the problem -----------------------------------------------------------


def test_future_covariate_errors_name_the_problem(promo_model):
    model, y, X = promo_model
    future = X[120 : 120 + H]
    with pytest.raises(ValueError, match=r"reads future covariates \['promo'\]: pass X"):
        model.predict()
    with pytest.raises(ValueError, match=r"must have 7 rows, got 5"):
        model.predict(X=future[:5])
    with pytest.raises(ValueError, match=r"columns \['promo', 'price'\].*unexpected \['price'\]"):
        model.predict(X=future.assign(price=1.0))
    with pytest.raises(ValueError, match=r"columns \['discount'\].*missing \['promo'\]"):
        model.predict(X=future.rename(columns={"promo": "discount"}))
    with pytest.raises(ValueError, match=r"contains NaN or infinity \(column 'promo', row 2\)"):
        model.predict(X=future.where(np.arange(H)[:, None] != 2))
    with pytest.raises(ValueError, match=r"is dated 2024-05-01 .* must cover 2024-04-30"):
        model.predict(X=X[121 : 121 + H])
    with pytest.raises(
        ValueError, match=r"y's 100 steps and the 7 forecast steps\) must have 107"
    ):
        model.predict(y=y[:100], X=X[:100])
    with pytest.raises(ValueError, match=r"X \(the covariates of y\) must have 120 rows, got 119"):
        Forecaster(future_covariates=True, **FAST).fit(y[:120], X=X[:119])
    with pytest.raises(ValueError, match=r"X \(the covariates of y\) is dated 2024-01-02"):
        Forecaster(future_covariates=True, **FAST).fit(y[:120], X=X[1:121])
    with pytest.raises(ValueError, match=r"need strategy='direct'"):
        Forecaster(future_covariates=True, strategy="recursive", **FAST).fit(y[:120], X=X[:120])
    with pytest.raises(ValueError, match=r"calendar features \['month'\] need a DatetimeIndex"):
        Forecaster(calendar=["month"], **FAST).fit(np.arange(50.0))
    with pytest.raises(ValueError, match=r"unknown calendar feature\(s\) \['weekday'\]"):
        Forecaster(calendar=["weekday"], **FAST).fit(y[:120])


def test_a_shorter_horizon_reads_the_fitted_horizons_covariates(promo_model):
    model, y, X = promo_model
    future = X[120 : 120 + H]
    np.testing.assert_array_equal(model.predict(3, X=future), model.predict(X=future)[:3])
    with pytest.raises(ValueError, match=r"must have 7 rows, got 3"):
        model.predict(3, X=future[:3])


def test_forecast_from_a_new_history_reads_its_covariates(promo_model):
    model, y, X = promo_model
    a = model.predict(y=y[:100], X=X[: 100 + H])
    assert a.index[0] == y.index[100] and len(a) == H
    b = model.predict(y=y[:100], X=X[: 100 + H].assign(promo=0.0))
    assert not np.allclose(a, b)  # the covariates move the forecast


# --- quality ---------------------------------------------------------------------------


def test_a_known_promotion_flag_makes_the_forecast_far_better():
    y, X = _promo_series()
    n, h = 300, 14
    common = dict(horizon=h, n_ensemble=1, calibration_fraction=0, random_state=0)
    with_cov = Forecaster(future_covariates=True, **common).fit(y[:n], X=X[:n])
    without = Forecaster(**common).fit(y[:n])
    ratio = _rmse(with_cov.predict(X=X[n:]), y[n:]) / _rmse(without.predict(), y[n:])
    assert ratio < 0.4  # 0.20 when written: the model puts the lift on promotion days


def test_calendar_features_reproduce_a_day_of_week_effect():
    rng = np.random.default_rng(1)
    index = pd.date_range("2024-01-01", periods=299, freq="D")
    weekend = (index.day_of_week >= 5).astype(float)
    y = pd.Series(20 + 6 * weekend + rng.normal(0, 0.5, len(index)), index=index)
    # The forecast starts on a Saturday: a 3-step window of flat weekdays cannot tell
    # whether a weekend comes next; the calendar tells the day.
    train, test = y[:285], y[285:]
    common = dict(horizon=14, window=3, season_length=1, n_ensemble=1, random_state=0)
    common["calibration_fraction"] = 0
    with_calendar = Forecaster(calendar="auto", **common).fit(train)
    assert with_calendar.calendar_ == ["dayofweek", "month"]
    forecast = with_calendar.predict()
    plain = Forecaster(**common).fit(train).predict()
    assert _rmse(forecast, test) < 0.5 * _rmse(plain, test)
    lift = (
        forecast[index[285:].day_of_week >= 5].mean()
        - forecast[index[285:].day_of_week < 5].mean()
    )
    assert 4.5 < lift < 7.5  # the true weekend lift is 6


def test_calendar_features_are_sine_and_cosine_of_the_cycle():
    index = pd.date_range("2024-01-01", periods=3, freq="D")  # Monday, Tuesday, Wednesday
    out = calendar_features(index, ["dayofweek"])
    angles = 2 * np.pi * np.arange(3) / 7
    np.testing.assert_allclose(out, np.stack([np.sin(angles), np.cos(angles)], axis=1))
    monthly = pd.period_range("2020-01", periods=24, freq="M")
    assert resolve_calendar("auto", monthly) == ["month"]
    assert resolve_calendar("auto", pd.RangeIndex(30)) == []


# --- reproducibility and model files ----------------------------------------------------


def test_same_seed_is_bit_identical_and_model_files_keep_the_covariates(promo_model, tmp_path):
    model, y, X = promo_model
    again = Forecaster(future_covariates=True, calendar="auto", **FAST).fit(y[:120], X=X[:120])
    future = X[120 : 120 + H]
    np.testing.assert_array_equal(again.predict(X=future), model.predict(X=future))
    model.save(tmp_path / "promo.tsrnn")
    loaded = tsrnn.load(tmp_path / "promo.tsrnn")
    assert loaded.covariate_columns_ == ["promo"] and loaded.calendar_ == ["dayofweek", "month"]
    pd.testing.assert_series_equal(loaded.predict(X=future), model.predict(X=future))
    for a, b in zip(
        loaded.predict_interval(X=future), model.predict_interval(X=future), strict=True
    ):
        pd.testing.assert_series_equal(a, b)
    with pytest.raises(ValueError, match="must have 7 rows"):
        loaded.predict(X=future[:3])


def test_model_files_from_before_covariates_still_forecast(tmp_path):
    y, _ = _promo_series(n=120)
    model = Forecaster(**FAST).fit(y[:120])
    expected = model.predict()
    for name in ("future_covariates", "calendar", "_cov", "_known", "calendar_"):
        delattr(model, name)  # as a file written before covariates holds it
    for name in ("covariate_columns_", "static_columns_"):
        delattr(model, name)
    model.save(tmp_path / "old.tsrnn")
    loaded = tsrnn.load(tmp_path / "old.tsrnn")
    assert loaded.get_params()["future_covariates"] is False and loaded.calendar is None
    pd.testing.assert_series_equal(loaded.predict(), expected)


def test_backtest_slices_future_covariates_per_origin():
    y, X = _promo_series(n=140)
    model = Forecaster(future_covariates=True, **FAST)
    result = backtest(model, y[:154], 120, 7, H, refit=False, X=X[:154])
    assert result["n_fits"] == 1 and list(result["folds"]["origin"]) == [120, 127, 134, 141]
    # The first fold is the fit's own forecast from the first origin.
    fitted = Forecaster(future_covariates=True, **FAST).fit(y[:120], X=X[:120])
    expected = _rmse(fitted.predict(X=X[120 : 120 + H]), y[120 : 120 + H])
    assert result["folds"]["rmse"][0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="X has 150 steps but y has 154"):
        backtest(model, y[:154], 120, 7, H, X=X[:150])


# --- panels ---------------------------------------------------------------------------


def _panel():
    """Two daily series of different lengths and starts lifted on promotion days."""
    frames, statics = [], {}
    for key, size, n, start in (("a", 3.0, 200, 0), ("b", 1.0, 170, 30)):
        y, X = _promo_series(n=n, h=H, seed=start)
        part = pd.DataFrame({"ds": y.index, "y": y.to_numpy(), "promo": X["promo"].to_numpy()})
        part.insert(0, "unique_id", key)
        frames.append(part.iloc[start:])
        statics[key] = size
    data = pd.concat(frames, ignore_index=True)
    history = data.groupby("unique_id").head(-H).reset_index(drop=True)
    future = data.groupby("unique_id").tail(H).reset_index(drop=True)
    static = pd.DataFrame({"size": statics})
    return history, future, static


def test_panel_with_future_and_static_covariates():
    history, future, static = _panel()
    common = dict(horizon=H, n_ensemble=1, calibration_fraction=0, random_state=0)
    model = Forecaster(future_covariates=True, **common)
    model.fit(history.drop(columns="promo"), X=history, static=static)
    assert model.covariate_columns_ == ["promo"] and model.static_columns_ == ["size"]
    forecast = model.predict(X=future.drop(columns="y"))
    # Dated per series, from each one's own end.
    for key, rows in forecast.groupby("unique_id"):
        pd.testing.assert_series_equal(
            rows["ds"].reset_index(drop=True),
            future.loc[future.unique_id == key, "ds"].reset_index(drop=True),
        )
    error = _rmse(forecast["y"], future["y"])
    # Column names of the long frame work as X too, and give the same model.
    by_name = Forecaster(future_covariates=True, **common)
    by_name.fit(history, X=["promo"], value_column="y", static=static)
    np.testing.assert_array_equal(by_name.predict(X=future)["y"], forecast["y"])
    plain = Forecaster(**common).fit(history.drop(columns="promo"))
    assert error < 0.5 * _rmse(plain.predict()["y"], future["y"])
    # The static covariates are inputs: other values move the forecast.
    other = model.predict(y=history, X=pd.concat([history, future]), static=static * 10)
    assert not np.allclose(other["y"], forecast["y"])
    same = model.predict(y=history, X=pd.concat([history, future]), static=static)
    np.testing.assert_array_equal(same["y"], forecast["y"])


def test_static_given_to_predict_the_training_panel_is_used():
    history, future, static = _panel()
    model = Forecaster(future_covariates=True, **FAST)
    model.fit(history.drop(columns="promo"), X=history, static=static)
    X = future.drop(columns="y")
    forecast = model.predict(X=X)
    # Without y, the training panel is forecast from the static values given now,
    # exactly as the same values given with that panel as y.
    other = model.predict(X=X, static=static * 10)
    assert not np.allclose(other["y"], forecast["y"])
    explicit = model.predict(y=history, X=pd.concat([history, future]), static=static * 10)
    np.testing.assert_array_equal(other["y"], explicit["y"])
    np.testing.assert_array_equal(model.predict(X=X, static=static)["y"], forecast["y"])
    lower, _ = model.predict_interval(X=X, static=static * 10)
    assert not np.allclose(lower["y"], model.predict_interval(X=X)[0]["y"])
    with pytest.raises(ValueError, match=r"static has columns \['area'\]"):
        model.predict(X=X, static=static.rename(columns={"size": "area"}))
    plain = Forecaster(calendar="auto", **FAST).fit(history.drop(columns="promo"))
    with pytest.raises(ValueError, match="fitted without static covariates"):
        plain.predict(static=static)


def test_panel_covariate_errors_name_the_problem():
    history, future, static = _panel()
    model = Forecaster(future_covariates=True, **FAST)
    model.fit(history.drop(columns="promo"), X=history, static=static)
    with pytest.raises(ValueError, match=r"missing 1 of the 7 time stamps of series 'b'"):
        model.predict(X=future.drop(index=future.index[-1]))
    with pytest.raises(ValueError, match=r"forecast steps\) has no rows for series 'a'"):
        model.predict(X=future[future.unique_id == "b"])
    with pytest.raises(ValueError, match=r"static has no row for series \['b'\]"):
        Forecaster(**FAST).fit(history, static=static.loc[["a"]], value_column="y")
    with pytest.raises(ValueError, match=r"series \['c'\] have no static covariates"):
        renamed = history.assign(unique_id=history.unique_id.replace("b", "c"))
        model.predict(y=renamed, X=pd.concat([renamed, future.assign(unique_id="c")]))
    with pytest.raises(ValueError, match=r"static covariates describe the series of a panel"):
        Forecaster(**FAST).fit(
            history[history.unique_id == "a"].set_index("ds")["y"], static=static
        )
    with pytest.raises(ValueError, match=r"past-only exogenous features X are not supported"):
        Forecaster(**FAST).fit(history.drop(columns="promo"), X=history)


def test_xarray_panel_covariates_give_the_long_frames_forecasts():
    history, future, static = _panel()
    model = Forecaster(future_covariates=True, **FAST)
    model.fit(history.drop(columns="promo"), X=history, static=static)
    expected = model.predict(X=future)

    def array(frame, column):
        wide = frame.pivot(index="ds", columns="unique_id", values=column)
        return xr.DataArray(
            wide.to_numpy().T,
            dims=("series", "ds"),
            coords={"series": list(wide.columns), "ds": wide.index},
            name=column,
        )

    y = array(history, "y")
    covariates = xr.Dataset({"promo": array(history, "promo")})
    other = Forecaster(future_covariates=True, **FAST).fit(y, X=covariates, static=static)
    forecast = other.predict(X=array(future, "promo"))
    for key in ("a", "b"):
        rows = expected[expected.unique_id == key]
        got = forecast.sel(series=key).dropna("ds")
        np.testing.assert_array_equal(got.values, rows["y"].to_numpy())
        np.testing.assert_array_equal(got["ds"].values, rows["ds"].to_numpy())
    with pytest.raises(ValueError, match="an xarray X needs two dimensions, one of them"):
        other.predict(X=array(future, "promo").rename(series="shop"))


def test_panel_new_series_read_covariates_of_their_last_window():
    history, future, static = _panel()
    model = Forecaster(future_covariates=True, **FAST)
    model.fit(history.drop(columns="promo"), X=history, static=static)
    both = pd.concat([history, future], ignore_index=True)
    new = history.assign(unique_id=history.unique_id.replace({"a": "x", "b": "z"}))
    covariates = both.assign(unique_id=both.unique_id.replace({"a": "x", "b": "z"}))
    forecast = model.predict(
        y=new.drop(columns="promo"), X=covariates, static=static.set_axis(["x", "z"])
    )
    np.testing.assert_array_equal(forecast["y"], model.predict(X=future)["y"])


def test_panel_multiindex_covariates_match_the_long_frame(tmp_path):
    history, future, static = _panel()
    # Calibrated, so that the conformal fit also reads the covariates.
    model = Forecaster(
        future_covariates=True, calendar="auto", **dict(FAST, calibration_fraction=0.3)
    )
    model.fit(history.drop(columns="promo"), X=history, static=static)
    assert model.interval_method_ == "conformal"
    long = model.predict(X=future)
    multi = model.predict(X=future.set_index(["unique_id", "ds"])[["promo"]])
    pd.testing.assert_frame_equal(long, multi)
    # The blend may keep none of a 3-epoch network (weight 0), whose forecast then
    # reads no covariate: the network's own forecasts are compared too.
    networks = network_forecast(model, X=future)
    multi = network_forecast(model, X=future.set_index(["unique_id", "ds"])[["promo"]])
    pd.testing.assert_frame_equal(networks, multi)
    model.save(tmp_path / "panel.tsrnn")
    loaded = tsrnn.load(tmp_path / "panel.tsrnn")
    pd.testing.assert_frame_equal(loaded.predict(X=future), long)
    pd.testing.assert_frame_equal(network_forecast(loaded, X=future), networks)
    y_multi = history.set_index(["unique_id", "ds"])[["y"]]
    other = Forecaster(
        future_covariates=True, calendar="auto", **dict(FAST, calibration_fraction=0.3)
    )
    other.fit(y_multi, X=history.set_index(["unique_id", "ds"])[["promo"]], static=static)
    np.testing.assert_array_equal(
        other.predict(X=future.set_index(["unique_id", "ds"])[["promo"]])["y"], long["y"]
    )
    np.testing.assert_array_equal(
        network_forecast(other, X=future.set_index(["unique_id", "ds"])[["promo"]])["y"],
        networks["y"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict_interval(X=future)[0].shape == long.shape


def test_models_without_covariates_are_unchanged_by_the_new_parameters():
    y, _ = _promo_series(n=120)
    plain = Forecaster(**FAST).fit(y[:120])
    assert not plain._uses_known() and plain.calendar_ == [] and plain.covariate_columns_ == []
    with pytest.raises(ValueError, match="X given without y"):
        plain.predict(X=np.zeros((H, 1)))
