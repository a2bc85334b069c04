"""One global model on a panel of series.

One global model on a panel: the :class:`~tsrnn.forecasting.Forecaster`'s fitting and
forecasting of many series at once.

Every series is divided by its own power of two and its own spread of one-step
changes (the scaling of one series, applied to each), cut into windows, and the
windows of all series train each ensemble member. Forecasts read each series' last
window, scaled by that series alone, so a series the model never saw is forecast the
same way as one it did.

The held-out ends of the series also choose the blend of the network with a simple
forecast (see :mod:`tsrnn.forecasting._selection`). Beside the candidates read from
the window, a panel offers the least-squares seasonal trend of each series' whole
history (:func:`~tsrnn.forecasting._selection.seasonal_trend`): the window is capped
by the shortest series, and a long series' trend and seasonal profile are read more
steadily from all of it.
"""

import warnings

import numpy as np

from tsrnn._threads import single_blas_thread
from tsrnn.forecasting._covariates import known_windows, with_known
from tsrnn.forecasting._intervals import step_unit
from tsrnn.forecasting._panel import PanelError, from_panel, to_panel
from tsrnn.forecasting._scaling import UncalibratedIntervalWarning, power_of_two
from tsrnn.forecasting._selection import ANCHORS, padded
from tsrnn.forecasting._series import future_index, season_length
from tsrnn.windows import make_panel_windows

# Windows per weight a linear path from the window to the forecasts needs: a least
# squares fit needs more windows than weights, and two per weight leave it a margin.
# Ten per weight denied the path to a second draw of the 200-series synthetic panel
# (its window of 69 steps has 2,484 weights, against 22,000 windows): the global
# model's MASE was 0.636 there, against 0.465 for a least-squares fit of the same
# windows and for AutoETS.
_WINDOWS_PER_LINEAR_WEIGHT = 2


def linear_path(n_windows, window, n_out):
    """Whether the dense head also reads the flattened window, beside the LSTM.

    The seasonal profile, level and trend of a window are linear in its values,
    which a linear autoregression reads exactly and a small LSTM's final state
    learns slowly: on the 200 monthly series of ``benchmarks.forecast --panel`` the
    path took the global model's mean MASE from 0.78 to 0.58 (window 24, without
    the blend). It has ``window * n_out`` weights, which a panel's many windows fit
    and one short series' do not, so it is added when there are at least
    ``_WINDOWS_PER_LINEAR_WEIGHT`` windows per weight.
    """
    return n_windows >= _WINDOWS_PER_LINEAR_WEIGHT * window * n_out


class GlobalMixin:
    """Panel fitting and forecasting for the Forecaster (see the module docstring)."""

    def _series_scale(self, values):
        """The spread of one-step changes of one series (n_steps, 1), as ``_train``."""
        diffs = np.abs(np.diff(values, axis=0))
        scale = diffs.std(axis=0) if self.scale_target else np.ones(1)
        return np.where(scale > 0, scale, 1.0)

    def _fit_panel(self, y, options, steps, seeds, X=None, static=None):
        ids, values, indexes, meta = to_panel(y, **options)
        for key, index in zip(ids, indexes, strict=True):
            if len(index) >= 3:
                try:
                    future_index(index, 1)  # an index that cannot be extended fails now
                except ValueError as exc:
                    raise PanelError(f"series {key!r}: {exc}") from None
        if self.season_length != "auto":
            self.season_length_ = self.season_length
        else:
            self.season_length_ = season_length(indexes[0])
        self.n_targets_ = 1
        lengths = [len(v) for v in values]
        shortest = int(np.argmin(lengths))
        try:
            self.window_ = self._resolve_window(lengths[shortest], steps, int(np.median(lengths)))
            self.anchor_window_ = self.window_
        except ValueError as exc:
            raise PanelError(
                f"series {ids[shortest]!r}: {exc}; drop it or pass a smaller window"
            ) from None
        known = self._fit_known_panel(y, X, static, ids, indexes, options, meta)
        series = [v[:, None] / power_of_two(v) for v in values]
        n_windows = sum(max(n - self.window_ - steps + 1, 0) for n in lengths)
        # Known covariates already give the head the flattened window (_with_skip).
        self.linear_path_ = self._uses_known() or linear_path(
            n_windows, self.window_, steps * len(self.quantiles_)
        )
        with single_blas_thread():
            self._calibrate_panel(series, steps, seeds, known)
            X_rel, Y_rel = self._panel_windows(series, steps, known)
            members = [self._fit_member(X_rel, Y_rel, steps, s, panel=True) for s in seeds]
        self.networks_ = [net for net, _ in members]
        self.loss_curve_ = members[0][1]
        self.scale_ = np.array([self._series_scale(s)[0] for s in series])
        self.magnitude_ = 1.0
        self.series_ids_ = list(ids)
        self.n_series_ = len(ids)
        self._panel = {"options": options, "meta": meta, "values": values, "indexes": indexes}
        self._panel["known"] = known
        self._history_values = self._exog = self._exog_magnitude = self._step_sigma = None
        self._known = None
        self._meta = None
        return self

    def _panel_windows(self, series, steps, known=None):
        """Relative windows of every series, each scaled by itself, stacked.

        With ``known`` (per-series known covariates) the inputs carry them over
        window + horizon, as :func:`~tsrnn.forecasting._covariates.with_known`.
        """
        inputs, targets, owner, positions = make_panel_windows(series, self.window_, steps)
        scales = np.stack([self._series_scale(values) for values in series])
        X_rel, Y_rel = self._relative(inputs, targets, scale=scales[owner][:, None, :])
        if known is not None:
            origins = positions[:, 0]
            parts = [
                known_windows(rows, origins[owner == i], self.window_, steps)
                for i, rows in enumerate(known)
            ]
            X_rel = with_known(X_rel, np.concatenate(parts))
        return X_rel, Y_rel

    def _calibrate_panel(self, series, steps, seeds, known=None):
        """Calibrate the intervals of a global model.

        Conformal widening from members fitted without the end of every series long
        enough to spare it, scored on those ends; else the random-walk floor.
        """
        if not self._start_calibration():
            return
        heads, head_known, scored = [], [], []
        for i, values in enumerate(series):
            n = len(values)
            n_fit = n - int(round(self.calibration_fraction * n))
            if n - n_fit >= steps and n_fit >= self.window_ + steps + 1:
                heads.append(values[:n_fit])
                scored.append((i, values, n_fit))
            else:  # trained on, never scored: no value it is scored on was seen
                heads.append(values)
            if known is not None:
                head_known.append(known[i][: len(heads[-1])])
        if not scored:
            self.interval_method_ = "random-walk floor"
            warnings.warn(
                f"no series is long enough to calibrate the intervals (each needs "
                f"calibration_fraction={self.calibration_fraction} of its steps to cover "
                f"a horizon of {steps} and the rest to fit window={self.window_}); the "
                "bands are widened to at least a random walk's (z * sigma * sqrt(step), "
                "sigma the spread of each series' one-step changes)",
                UncalibratedIntervalWarning,
                stacklevel=4,
            )
            return
        self.interval_method_ = "conformal"
        X_rel, Y_rel = self._panel_windows(heads, steps, head_known if known is not None else None)
        networks = [self._fit_member(X_rel, Y_rel, steps, s, panel=True)[0] for s in seeds]
        windows, scales, units, true, covariates, owner = [], [], [], [], [], []
        history = []
        for i, values, n_fit in scored:
            origins = np.arange(n_fit, len(values) - steps + 1)
            owner += [i] * len(origins)
            windows += [values[o - self.window_ : o] for o in origins]
            history += [values[:o] for o in origins]
            scales += [self._series_scale(values[:n_fit])] * len(origins)
            units += [step_unit(values[:n_fit])] * len(origins)
            true += [values[o : o + steps] for o in origins]
            if known is not None:
                covariates.append(known_windows(known[i], origins, self.window_, steps))
        scale = np.stack(scales)[:, :, None]
        covariates = np.concatenate(covariates) if covariates else None
        windows, true = np.stack(windows), np.stack(true)
        q = self._quantiles_of(windows, steps, networks, scale, covariates)
        # A recursive forecast moves its window each step; the history does not.
        history = padded(history) if self.strategy == "direct" else None
        q = self._select_anchor_weight(q, windows, true, np.array(owner), history)
        # The series were divided by their own powers of two; widths are reported in
        # those units, which keeps series of any magnitude comparable.
        self._score_bands(q, true[..., None], np.stack(units)[:, None, :, None], 1.0)

    def _panel_quantiles(self, horizon, y, X, static=None):
        """Forecast the quantiles of every series of a panel.

        Per-series quantile forecasts (n_series, horizon, 1, n_quantiles) in each
        series' units, the one-step spreads and powers of two, and the (ids, future
        indexes, meta).
        """
        if X is not None and not self._uses_known():
            raise ValueError("exogenous features X are not supported with a panel")
        if y is None:
            values, indexes = self._panel["values"], self._panel["indexes"]
            ids, meta = self.series_ids_, self._panel["meta"]
        else:
            ids, values, indexes, meta = to_panel(y, **self._panel["options"])
        horizon = self._check_horizon(horizon)
        for key, v in zip(ids, values, strict=True):
            if len(v) < self.window_:
                raise PanelError(
                    f"series {key!r} has {len(v)} steps; forecasting needs the last "
                    f"window={self.window_}"
                )
        magnitudes = np.array([power_of_two(v) for v in values])
        series = [v[:, None] / m for v, m in zip(values, magnitudes, strict=True)]
        scale = np.stack([self._series_scale(s) for s in series])[:, :, None]
        windows = np.stack([s[-self.window_ :] for s in series])
        known = None
        if self._uses_known():
            stored = self._panel["known"] if y is None else None
            futures = [future_index(index, self.horizon) for index in indexes]
            known = self._forecast_known_panel(stored, X, static, ids, indexes, futures)
        elif static is not None:
            raise ValueError("this Forecaster was fitted without static covariates")
        if self.strategy == "direct":
            # Model files written before the blend existed have no blend_anchor_.
            trend = getattr(self, "blend_anchor_", None) == ANCHORS[3]
            history = padded(series) if trend else None
            q = self._quantiles_of(windows, self.horizon, self.networks_, scale, known, history)
            q = q[:, :horizon]
        else:
            median = self._median_index()
            path = []
            for _ in range(horizon):
                step = self._quantiles_of(windows, 1, self.networks_, scale)[:, 0]
                path.append(step)
                windows = np.concatenate([windows[:, 1:], step[:, None, :, median]], axis=1)
            q = np.stack(path, axis=1)
        sigma = np.array(
            [np.diff(v).std() if len(v) > 2 else 0.0 for v in values], dtype=np.float64
        )
        future = [future_index(index, horizon) for index in indexes]
        return q * magnitudes[:, None, None, None], (sigma, magnitudes), (ids, future, meta)

    def _predict_panel(self, horizon, y, X, static=None):
        q, _, (ids, future, meta) = self._panel_quantiles(horizon, y, X, static)
        median = self._median_index()
        return from_panel(ids, list(q[:, :, 0, median]), future, meta)

    def _predict_interval_panel(self, bands, coverage, horizon, y, X, static=None):
        q, (sigma, magnitudes), (ids, future, meta) = self._panel_quantiles(horizon, y, X, static)
        lower, upper = [], []
        for q_series, s, m in zip(q, sigma, magnitudes, strict=True):
            lo, hi = self._band(q_series, bands, coverage, np.array([s]), m)
            lower.append(lo[:, 0])
            upper.append(hi[:, 0])
        return from_panel(ids, lower, future, meta), from_panel(ids, upper, future, meta)
