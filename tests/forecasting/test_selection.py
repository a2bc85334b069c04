"""The Forecaster's blend with a simple anchor and its conformal interval rules."""

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import Forecaster
from tsrnn.forecasting import _selection
from tsrnn.forecasting._intervals import calibrate_band, conformal_quantile
from tsrnn.forecasting._scaling import power_of_two
from tsrnn.forecasting._selection import (
    ANCHORS,
    candidate_anchors,
    cross_fit,
    padded,
    purged_folds,
    seasonal_mean,
    seasonal_trend,
    select,
    toward_anchor,
    with_drift,
)


def test_seasonal_mean_is_the_last_level_plus_the_average_profile():
    # Two quarterly cycles: levels 10 and 20, profiles (-1, 0, 3, -2) and (-3, 0, 1, 2).
    window = np.array([9.0, 10, 13, 8, 17, 20, 21, 22])[None, :, None]
    forecast = seasonal_mean(window, 6, 4, 1)[0, :, 0]
    np.testing.assert_allclose(forecast, [18, 20, 22, 20, 18, 20])


def test_drift_is_added_over_the_gap_to_the_repeated_value():
    window = np.arange(8.0)[None, :, None]  # drift 1 per step
    np.testing.assert_allclose(with_drift(window, 5, 4, 1)[0, :, 0], [8, 9, 10, 11, 12])
    np.testing.assert_allclose(with_drift(window, 3, 1, 1)[0, :, 0], [8, 9, 10])
    seasonal = (np.arange(8) * 0.5 + np.tile([0.0, 10], 4))[None, :, None]  # drift 0.5
    np.testing.assert_allclose(with_drift(seasonal, 3, 2, 1)[0, :, 0], [4, 14.5, 5])


def test_seasonal_trend_extends_the_line_and_profile_of_each_padded_history():
    t = np.arange(40.0)
    y = 5 + 0.25 * t + np.tile([1.0, -2.0, 3.0, -2.0], 10)
    history = padded([y[:30, None], y[:21, None]])  # the second padded with 9 NaN
    assert np.isnan(history[1, :9]).all()
    forecast = seasonal_trend(history, 6, 4, 1)[..., 0]
    np.testing.assert_allclose(forecast[0], y[30:36], atol=1e-9)
    np.testing.assert_allclose(forecast[1], y[21:27], atol=1e-9)


def test_seasonal_trend_averages_the_noise_of_the_whole_history():
    rng = np.random.default_rng(0)
    t = np.arange(240.0)
    signal = 0.1 * t + 4 * np.sin(2 * np.pi * t / 12)
    y = signal + rng.normal(0, 1, 240)
    long = seasonal_trend(y[None, :228, None], 12, 12, 1)[0, :, 0]
    short = seasonal_trend(y[None, 192:228, None], 12, 12, 1)[0, :, 0]
    # Thirty-six steps leave the trend and the profile noisier than 228 do.
    assert np.abs(long - signal[228:]).mean() < 0.5 * np.abs(short - signal[228:]).mean()


def test_the_seasonal_trend_is_a_candidate_only_with_a_history_and_two_cycles_of_window():
    history = padded([np.arange(30.0)[:, None]])
    anchor = np.zeros((1, 3, 1))
    assert ANCHORS[3] not in candidate_anchors(history[:, -8:], 3, 4, 1, anchor)
    offered = candidate_anchors(history[:, -8:], 3, 4, 1, anchor, history)
    np.testing.assert_allclose(offered[ANCHORS[3]][0, :, 0], [30, 31, 32])
    # A window of 7 could forecast a series of 7 steps, too short to fit a season of 4.
    assert ANCHORS[3] not in candidate_anchors(history[:, -7:], 3, 4, 1, anchor, history)


def test_select_keeps_the_share_of_the_departure_that_forecasts_best():
    rng = np.random.default_rng(0)
    anchor = rng.normal(size=(40, 4, 1))
    signal = rng.normal(size=(40, 4, 1))
    q = (anchor + signal)[..., None] + np.array([-1.0, 0.0, 1.0])
    # The held-out values sit halfway between the anchor and the network's median.
    name, weight, moved = select(q, {"a": anchor}, anchor + 0.5 * signal, median=1)
    assert (name, weight) == ("a", 0.5)
    np.testing.assert_allclose(moved[..., 1], anchor + 0.5 * signal)
    np.testing.assert_allclose(moved[..., 2] - moved[..., 0], 2.0)  # the spread is kept
    # A network that forecasts the held-out values exactly is kept whole, and the
    # better of two anchors is chosen.
    far = anchor + 10.0
    assert select(q, {"far": far, "a": anchor}, anchor + signal, median=1)[:2] == ("far", 1.0)
    assert select(q, {"far": far, "a": anchor}, anchor, median=1)[:2] == ("a", 0.0)
    assert toward_anchor(q, anchor, 1.0, 1) is q


def test_purged_folds_drop_the_windows_whose_targets_reach_the_other_fold():
    # Series 0: 8 windows of 3 steps; the first fold is windows 0-2, whose targets end
    # at step 4, windows 3-4 are purged, and 5-7 (targets from step 5) are the second.
    # Series 1 and 2 have too few windows for two folds and a purge: each goes whole
    # to one fold, alternately.
    owner = np.array([0] * 8 + [1] * 3 + [2] * 2)
    fold, boundary = purged_folds(owner, 3)
    np.testing.assert_array_equal(fold, [0, 0, 0, -1, -1, 1, 1, 1, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(boundary, [3, 3, 3, 2, 1, 0, 0, 0, 3, 3, 3, 0, 0])
    # One step ahead nothing overlaps: the later half is the second fold.
    np.testing.assert_array_equal(purged_folds(np.zeros(5), 1)[0], [0, 0, 0, 1, 1])


def test_cross_fit_scores_each_fold_with_the_blend_chosen_on_the_other():
    rng = np.random.default_rng(0)
    anchor = rng.normal(size=(10, 3, 1))
    signal = rng.normal(size=(10, 3, 1))
    q = (anchor + signal)[..., None] + np.array([-1.0, 0.0, 1.0])
    # The first fold's values are the anchor (weight 0 fits them), the second's the
    # network's median (weight 1 fits them).
    true = np.concatenate([anchor[:5], (anchor + signal)[5:]])
    fold, boundary = purged_folds(np.zeros(10), 3)
    assert fold.tolist() == [0] * 4 + [-1] * 2 + [1] * 4
    name, weight, scored = cross_fit(q, {"a": anchor}, true, 1, fold, boundary)
    assert (name, weight) == select(q, {"a": anchor}, true, 1)[:2]
    # Each fold is moved by the other's choice: the worst blend for its own values;
    # a purged window's values by the choice of the fold they do not belong to.
    np.testing.assert_allclose(scored[:4], q[:4])
    np.testing.assert_allclose(scored[6:, :, :, 1], anchor[6:])
    np.testing.assert_allclose(scored[4, :2], q[4, :2])
    np.testing.assert_allclose(scored[4, 2:, :, 1], anchor[4, 2:])
    np.testing.assert_allclose(scored[..., 2] - scored[..., 0], 2.0)
    # Without room for two folds no blend can be chosen apart from the scored windows.
    fold, boundary = purged_folds(np.zeros(3), 3)
    assert cross_fit(q[:3], {"a": anchor[:3]}, true[:3], 1, fold, boundary)[:2] == (
        "training anchor",
        1.0,
    )


def test_calibration_windows_are_not_scored_under_the_blend_they_chose(monkeypatch):
    chosen_on = []
    real_select = _selection.select

    def spy(q, anchors, true, median, **options):
        chosen_on.append({tuple(row) for row in true.reshape(len(true), -1)})
        return real_select(q, anchors, true, median, **options)

    monkeypatch.setattr(_selection, "select", spy)
    y = pd.Series(
        10 + np.sin(np.arange(96.0)) + np.random.default_rng(0).normal(0, 0.3, 96),
        index=pd.date_range("2000", periods=96, freq="MS"),
    )
    model = Forecaster(horizon=4, hidden_size=4, max_epochs=3, n_ensemble=1, random_state=0)
    model.fit(y)
    n_windows = model.interval_calibration_[0.9]["n_values"] // 4
    assert n_windows == 16
    # Two folds in time, purged of the 3 windows between them (a window's 4 steps
    # reach 3 windows on); then all of them for the blend the forecasts keep.
    assert [len(windows) for windows in chosen_on] == [6, 7, 16]
    assert not chosen_on[0] & chosen_on[1]
    assert chosen_on[0] | chosen_on[1] < chosen_on[2]


def test_no_held_out_value_is_scored_under_a_blend_chosen_on_windows_that_forecast_it(
    monkeypatch,
):
    # 12 held-out windows of 4 steps, one step apart: the value at time t is t. Each
    # blend chosen is told apart by its weight, which the scored median (the anchor
    # plus the weight times a departure of 1) shows.
    n_windows, steps = 12, 4
    model = Forecaster(horizon=steps)
    model.quantiles_ = np.array([0.05, 0.5, 0.95])
    model.season_length_, model.n_targets_, model.window_ = 1, 1, 4
    true = (np.arange(n_windows)[:, None] + np.arange(steps))[..., None].astype(float)
    windows = np.zeros((n_windows, 4, 1))
    q = np.array([-1.0, 1.0, 3.0]) + np.zeros((n_windows, steps, 1, 3))
    chosen_on = {}

    def spy(q, anchors, true, median, **options):
        weight = 0.125 * (len(chosen_on) + 1)
        chosen_on[weight] = set(true.ravel().tolist())
        return "training anchor", weight, toward_anchor(q, anchors["training anchor"], weight, 1)

    monkeypatch.setattr(_selection, "select", spy)
    weights = model._select_anchor_weight(q, windows, true, np.zeros(n_windows))[..., 0, 1]
    assert len(chosen_on) == 3 and set(np.unique(weights)) < set(chosen_on)
    # The blend the forecasts keep, chosen on every window, scores none of them.
    assert model.anchor_weight_ not in np.unique(weights)
    for (window, step), weight in np.ndenumerate(weights):
        assert true[window, step, 0] not in chosen_on[weight], (window, step, weight)


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 20.0)  # n = 19: rank ceil(20 * 0.9) = 18
    assert conformal_quantile(scores, 0.9) == 18.0
    assert conformal_quantile(scores[:5], 0.9) == 5.0  # too few for the rank: the largest


def test_calibrate_band_keeps_the_narrower_rule():
    rng = np.random.default_rng(0)
    true = rng.normal(size=(50, 10))
    # Heads whose width varies tenfold for no reason the errors share: additive wins.
    half = np.tile(np.linspace(0.1, 1.0, 10), (50, 1))
    report = calibrate_band(-half, half, true, 1.0, 0.9)
    assert report["rule"] == "additive" and report["relative"] == 0.0
    assert report["coverage"] >= 0.9 and report["n_values"] == 500
    # Heads that track the errors' spread: relative wins.
    spread = np.tile(np.linspace(0.1, 1.0, 10), (50, 1))
    report = calibrate_band(-spread, spread, true * spread * 2, 1.0, 0.9)
    assert report["rule"] == "relative" and report["additive"] == 0.0
    assert report["coverage"] >= 0.9


def test_noisy_seasonal_series_is_forecast_closer_to_its_signal_than_seasonal_naive(tmp_path):
    rng = np.random.default_rng(1)
    n, h = 132, 12
    signal = 100 + 10 * np.sin(2 * np.pi * np.arange(n) / 12)
    y = pd.Series(signal + rng.normal(0, 4, n), index=pd.date_range("2000", periods=n, freq="MS"))
    model = Forecaster(horizon=h, random_state=0).fit(y[:-h])
    naive = y.to_numpy()[-2 * h : -h]
    # Scored against the noise-free signal, which the hold-out's own noise would blur.
    error = np.mean(np.abs(model.predict().to_numpy() - signal[-h:]))
    assert model.blend_anchor_ == "seasonal mean" and model.anchor_weight_ <= 0.5
    assert error < 0.95 * np.mean(np.abs(naive - signal[-h:]))
    # The blend and the interval rule travel in the model file.
    model.save(tmp_path / "f.tsrnn")
    loaded = tsrnn.load(tmp_path / "f.tsrnn")
    assert (loaded.blend_anchor_, loaded.anchor_weight_) == (
        model.blend_anchor_,
        model.anchor_weight_,
    )
    pd.testing.assert_series_equal(loaded.predict(), model.predict(), check_exact=True)
    for a, b in zip(loaded.predict_interval(0.9), model.predict_interval(0.9), strict=True):
        pd.testing.assert_series_equal(a, b, check_exact=True)


def test_without_calibration_the_network_is_kept_whole():
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2000", periods=80, freq="MS"))
    model = Forecaster(
        horizon=4, hidden_size=4, max_epochs=2, n_ensemble=1, calibration_fraction=0
    ).fit(y)
    assert (model.blend_anchor_, model.anchor_weight_) == ("training anchor", 1.0)


def test_a_refit_without_calibration_drops_the_earlier_fits_interval_offset():
    y = pd.Series(
        10 + np.sin(np.arange(96.0)) + np.random.default_rng(0).normal(0, 0.3, 96),
        index=pd.date_range("2000", periods=96, freq="MS"),
    )
    model = Forecaster(horizon=4, hidden_size=4, max_epochs=3, n_ensemble=1, random_state=0)
    model.fit(y)
    model.interval_offset_ = {(0, 2): 4.0}  # an offset the first fit may leave
    model.set_params(calibration_fraction=0).fit(y)
    fresh = Forecaster(**model.get_params()).fit(y)
    assert model.interval_offset_ == {}
    for ours, theirs in zip(model.predict_interval(), fresh.predict_interval(), strict=True):
        pd.testing.assert_series_equal(ours, theirs)


def test_the_additive_margin_has_the_calibration_unit_at_prediction():
    # Calibration scores misses on each series divided by its power of two, in units
    # of its one-step spread, or of 1 where the changes have no spread (a straight
    # line). In the series' own units that 1 is the power of two.
    index = pd.date_range("2000", periods=80, freq="MS")
    noise = np.random.default_rng(0).normal(0, 300, 80)
    line = pd.Series(3e6 + 1000 * np.arange(80.0), index=index)
    noisy = pd.Series(2e4 + noise, index=index)
    unit = {"line": power_of_two(line.to_numpy()), "noisy": np.diff(noisy.to_numpy()).std()}
    fast = dict(horizon=4, hidden_size=4, max_epochs=2, n_ensemble=1, calibration_fraction=0)

    def margins(model):
        model.interval_widening_ = {(0, 2): 0.0}
        bands = []
        for offset in (0.0, 0.5):
            model.interval_offset_ = {(0, 2): offset}
            # A panel's bands come as a dict of Series, one per series.
            bands.append([pd.DataFrame(b) for b in model.predict_interval(0.9)])
        return bands[0][0] - bands[1][0], bands[1][1] - bands[0][1]

    for name, series in (("line", line), ("noisy", noisy)):
        for margin in margins(Forecaster(**fast).fit(series)):
            np.testing.assert_allclose(margin.iloc[:, 0], 0.5 * unit[name], rtol=1e-9)
    panel = Forecaster(**fast).fit({"line": line, "noisy": noisy})
    for margin in margins(panel):
        for name in ("line", "noisy"):
            np.testing.assert_allclose(margin[name], 0.5 * unit[name], rtol=1e-9)


def test_a_single_calibration_window_leaves_the_network_unblended():
    # The last 4 values repeat the value before them: on its one calibration window
    # the last-value anchor is exact, and choosing the blend there (weight 0) would
    # be scored on the very residuals that chose it.
    walk = np.cumsum(np.random.default_rng(0).normal(size=16))
    y = np.concatenate([walk, np.full(4, walk[-1])])
    model = Forecaster(horizon=4, hidden_size=4, max_epochs=2, n_ensemble=1, random_state=0)
    model.fit(y)
    assert model.interval_method_ == "conformal"
    assert model.interval_calibration_[0.9]["n_values"] == 4
    assert (model.blend_anchor_, model.anchor_weight_) == ("training anchor", 1.0)


def test_select_leaves_a_win_within_its_standard_error_to_the_simpler_blend():
    rng = np.random.default_rng(0)
    anchor = np.zeros((20, 4, 1))
    departure = rng.normal(size=(20, 4, 1))
    q = departure[..., None] + np.array([-1.0, 0.0, 1.0])
    # The network forecasts a third of what departs from the anchor, under noise
    # three times larger: on 20 windows its best share wins by less than the
    # spread of the windows' errors allows to tell from luck.
    true = departure / 3 + rng.normal(0, 3, size=anchor.shape)
    errors = {w: np.abs(true - w * departure).mean(axis=(1, 2)) for w in _selection.WEIGHTS}
    lowest = min(errors, key=lambda w: errors[w].mean())
    excess = errors[0.0] - errors[lowest]
    assert lowest > 0 and 0 < excess.mean() <= excess.std(ddof=1) / np.sqrt(20)
    assert select(q, {"a": anchor}, true, median=1)[:2] == ("a", 0.0)
    # Held to the standard error of many more windows (as a fold is held to that of
    # all of them), the same win is kept.
    assert select(q, {"a": anchor}, true, median=1, n_windows=20_000)[:2] == ("a", lowest)
    # The same share with a tenth of the noise is kept.
    true = departure / 3 + rng.normal(0, 0.1, size=anchor.shape)
    assert select(q, {"a": anchor}, true, median=1)[:2] == ("a", _selection.WEIGHTS[3])


def test_the_blend_reads_up_to_six_cycles_before_the_origin(tmp_path):
    rng = np.random.default_rng(2)
    n = 132
    values = 50 + 5 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n)
    y = pd.Series(values, index=pd.date_range("2000", periods=n, freq="MS"))
    fast = dict(horizon=6, hidden_size=4, max_epochs=2, n_ensemble=1, random_state=0)
    model = Forecaster(**fast).fit(y)
    assert (model.window_, model.anchor_window_) == (24, 72)
    model.blend_anchor_, model.anchor_weight_ = "seasonal mean", 0.0
    six_cycles = seasonal_mean(values[None, -72:, None], 6, 12, 1)[0, :, 0]
    np.testing.assert_allclose(model.predict().to_numpy(), six_cycles)
    # A shorter history is read whole (its two whole cycles), and the model file
    # keeps the span.
    two_cycles = seasonal_mean(values[None, -24:, None], 6, 12, 1)[0, :, 0]
    np.testing.assert_allclose(model.predict(y=y.iloc[-30:]).to_numpy(), two_cycles)
    model.save(tmp_path / "f.tsrnn")
    assert tsrnn.load(tmp_path / "f.tsrnn").anchor_window_ == 72
    # At most the steps before the calibration stretch: 80 - 16 of 80.
    assert Forecaster(**fast).fit(y.iloc[:80]).anchor_window_ == 64


def _seasonal_series(n=132, seed=2):
    rng = np.random.default_rng(seed)
    values = 50 + 5 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n)
    return pd.Series(values, index=pd.date_range("2000", periods=n, freq="MS"))


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("window", [8, 12])
def test_a_history_shorter_than_two_cycles_is_blended_with_the_training_anchor(window, strategy):
    # predict(y=...) needs only window_ steps, but the seasonal mean and the drift
    # read two cycles (24 steps): with fewer the drift divided by zero steps (NaN) or
    # indexed before the history (IndexError). They fall back to the training anchor:
    # seasonal naive with a 12-step window, the last value with an 8-step one.
    y = _seasonal_series()
    fast = dict(hidden_size=4, max_epochs=2, n_ensemble=1, random_state=0)
    model = Forecaster(horizon=6, window=window, strategy=strategy, **fast).fit(y)
    assert model.anchor_window_ == 72
    last = y.to_numpy()[-window:]
    naive = last[:6] if window == 12 else np.full(6, last[-1])
    for name in ("seasonal mean", "drift"):
        model.blend_anchor_, model.anchor_weight_ = name, 0.0
        for steps in (window, 23):
            forecast = model.predict(y=y.iloc[-steps:]).to_numpy()
            if steps == window:
                np.testing.assert_allclose(forecast, naive)
            assert np.isfinite(forecast).all()
        # Two cycles are enough: the look-back's own forecast.
        expected = _selection.blend_anchor(name, y.to_numpy()[None, -24:, None], 6, 12, 1, None)
        if strategy == "direct":
            np.testing.assert_allclose(model.predict(y=y.iloc[-24:]).to_numpy(), expected[0, :, 0])
    # A partial weight keeps its share of the network's departure from the fallback.
    model.anchor_weight_ = 1.0
    network = model.predict(y=y.iloc[-window:]).to_numpy()
    model.anchor_weight_ = 0.5
    blended = model.predict(y=y.iloc[-window:]).to_numpy()
    if strategy == "direct":  # a recursive path feeds each blended step back
        np.testing.assert_allclose(blended, 0.5 * network + 0.5 * naive)
    else:
        np.testing.assert_allclose(blended[0], 0.5 * network[0] + 0.5 * naive[0])


def test_a_model_without_an_anchor_window_blends_on_its_window(tmp_path):
    # Model files written before anchor_window_ existed chose the blend on the window's
    # values, and still forecast from them.
    y = _seasonal_series()
    fast = dict(horizon=6, hidden_size=4, max_epochs=2, n_ensemble=1, random_state=0)
    model = Forecaster(**fast).fit(y)
    assert (model.window_, model.anchor_window_) == (24, 72)
    del model.anchor_window_
    model.save(tmp_path / "old.tsrnn")
    old = tsrnn.load(tmp_path / "old.tsrnn")
    assert not hasattr(old, "anchor_window_")
    old.anchor_weight_ = 1.0
    network = old.predict().to_numpy()
    window = y.to_numpy()[None, -24:, None]
    for name in ("seasonal mean", "drift"):
        expected = _selection.blend_anchor(name, window, 6, 12, 1, None)[0, :, 0]
        for weight in (0.0, 0.3):
            old.blend_anchor_, old.anchor_weight_ = name, weight
            np.testing.assert_allclose(
                old.predict().to_numpy(), weight * network + (1 - weight) * expected
            )
            # A longer history gives the same forecast: only the window is read.
            np.testing.assert_allclose(old.predict(y=y.iloc[-60:]).to_numpy(), old.predict())
