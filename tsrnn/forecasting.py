"""Forecaster: multi-step forecasts with prediction intervals, and rolling-origin backtests.

Representation
--------------
Each training sample is a window of ``window`` past values and the ``horizon``
values after it, both taken *relative to the window's last value* and divided by
the spread of one-step changes in the training series. The network therefore
learns the shape of what comes next rather than the level, which lets it follow a
trend beyond the range seen in training (on the airline series this turned an LSTM
from worse than seasonal naive into a third of its error). The scaling is fitted
on the training data only.

Intervals
---------
The output layer has one head per (step, target, quantile) trained with the
pinball loss for ``quantiles`` (default 5%, 50%, 95%); the point forecast is the
median head, and ``predict_interval(coverage)`` returns the heads at
(1 - coverage) / 2 and (1 + coverage) / 2. Heads fitted in-sample are
overconfident (on the airline series the 90% band covered 50-71% of a 24-month
hold-out), so the band is conformalised (Romano et al., 2019): a first fit on the
series without its last ``calibration_fraction`` measures how far true values fall
outside the band there, relative to its width; the final fit on all the data
widens its band by that calibrated factor.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    root_mean_squared_error,
)
from sklearn.utils import check_random_state

from tsrnn.backend import resolve_device
from tsrnn.layers import RNN, Conv1D, Dense
from tsrnn.losses import Pinball
from tsrnn.network import Network
from tsrnn.persistence import SaveMixin
from tsrnn.training import Adam
from tsrnn.training import fit as fit_network
from tsrnn.windows import make_windows


def _series(y):
    """(values (n, k), meta) from a pandas Series/DataFrame, xarray DataArray or array."""
    meta = {"kind": "numpy", "index": None, "names": None, "dim": None}
    if isinstance(y, (pd.Series, pd.DataFrame)):
        meta.update(kind="pandas", index=y.index, frame=isinstance(y, pd.DataFrame),
                    names=list(y.columns) if isinstance(y, pd.DataFrame) else y.name)  # fmt: skip
        values = y.to_numpy()
    elif hasattr(y, "dims"):
        time_dim = next((d for d in y.dims if str(d).lower() in ("time", "date", "step")),
                        y.dims[0])  # fmt: skip
        y = y.transpose(time_dim, ...)
        meta.update(kind="xarray", dim=time_dim, name=y.name,
                    index=pd.Index(y[time_dim].values), other=y.dims[1:])  # fmt: skip
        if y.ndim == 2:
            meta["other_coords"] = {y.dims[1]: y[y.dims[1]].values}
        values = y.values
    else:
        values = np.asarray(y)
    if values.dtype.kind not in "fiub":
        raise ValueError(f"the series must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    meta["univariate"] = values.ndim == 1
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"the series must be 1-D or 2-D (time, targets), got {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("the series contains NaN or infinity; fill or drop the gaps first")
    index = meta["index"]
    if index is not None and not (index.is_monotonic_increasing and index.is_unique):
        raise ValueError("the time index must be sorted and without duplicates: sort it "
                         "(sort_index) and aggregate repeated timestamps first")  # fmt: skip
    return values, meta


def infer_freq(index):
    """``pd.infer_freq`` (an offset, or None), without pandas 3's FutureWarning about
    its return type changing: opt into the future behaviour where it exists."""
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            return pd.infer_freq(index)
    except (KeyError, pd.errors.OptionError):
        return pd.infer_freq(index)


def _future_index(index, horizon):
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq or infer_freq(index)
        if freq is None:
            raise ValueError("cannot infer the frequency of the time index to date the "
                             "forecast; give the index a freq")  # fmt: skip
        return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    if len(index) >= 2 and np.issubdtype(np.asarray(index).dtype, np.number):
        step = index[-1] - index[-2]
        return pd.Index(index[-1] + step * np.arange(1, horizon + 1))
    return pd.RangeIndex(len(index), len(index) + horizon)


class Forecaster(SaveMixin, BaseEstimator):
    """Multi-step forecasting of one or several series with a recurrent network.

    Parameters
    ----------
    window : int, default=24
        Past steps the network reads.
    horizon : int, default=12
        Steps forecast by ``predict`` (at most this many with ``strategy='direct'``).
    strategy : {'direct', 'recursive'}, default='direct'
        'direct' forecasts all steps at once (one output per step); 'recursive'
        trains a one-step model and feeds its median forecasts back in.
    quantiles : tuple of float, default=(0.05, 0.5, 0.95)
        Quantile heads; must include 0.5. Intervals are available for the
        symmetric pairs.
    cell, hidden_size, num_layers, conv_filters, dropout, learning_rate,
    max_epochs, patience, batch_size, dtype
        As :class:`~tsrnn.SequenceRegressor`.
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where training runs (as :class:`~tsrnn.SequenceRegressor`). Forecasts read
        one window at a time, which the CPU does faster than a round trip to a GPU,
        so ``predict`` always runs on the CPU.
    scale_target : bool, default=True
        Divide the level-relative windows by the spread of one-step changes.
    calibration_fraction : float, default=0.2
        Share of the series (its end) used to calibrate the interval width; 0, or a
        series too short to spare it, leaves the quantile heads uncalibrated.
    random_state : int or None, default=None

    Attributes
    ----------
    network_ : Network
    loss_curve_ : list of float
    n_targets_ : int
    """

    def __init__(self, window=24, horizon=12, strategy="direct", quantiles=(0.05, 0.5, 0.95),
                 cell="lstm", hidden_size=32, num_layers=1, conv_filters=0, dropout=0.0,
                 learning_rate=3e-3, max_epochs=200, patience=20, batch_size="auto",
                 dtype="float32", device="cpu", scale_target=True, calibration_fraction=0.2,
                 random_state=None):  # fmt: skip
        self.window = window
        self.horizon = horizon
        self.strategy = strategy
        self.quantiles = quantiles
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.conv_filters = conv_filters
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.dtype = dtype
        self.device = device
        self.scale_target = scale_target
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def _check_params(self):
        if self.strategy not in ("direct", "recursive"):
            raise ValueError(f"strategy must be 'direct' or 'recursive', got {self.strategy!r}")
        q = np.asarray(self.quantiles, dtype=float)
        if q.ndim != 1 or not np.isclose(q, 0.5).any():
            raise ValueError(f"quantiles must include 0.5 (the point forecast), got "
                             f"{self.quantiles!r}")  # fmt: skip
        for name in ("window", "horizon", "hidden_size", "max_epochs", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        return np.sort(q)

    def fit(self, y, X=None):
        """Fit on the series ``y`` (and lagged exogenous features ``X``, aligned with y)."""
        self.quantiles_ = self._check_params()
        self.device_ = resolve_device(self.device)
        values, self._meta = _series(y)
        exog = None
        if X is not None:
            exog, _ = _series(X)
            if exog.shape[0] != values.shape[0]:
                raise ValueError(f"X has {exog.shape[0]} steps but y has {values.shape[0]}")
        if self._meta["index"] is not None and len(self._meta["index"]) >= 3:
            _future_index(self._meta["index"], 1)  # an index that cannot be extended fails now
        self.n_targets_ = values.shape[1]
        steps = self.horizon if self.strategy == "direct" else 1
        if values.shape[0] < self.window + steps + 1:
            raise ValueError(
                f"the series has {values.shape[0]} steps: too short for window={self.window} "
                f"and horizon={steps} (needs at least {self.window + steps + 1})"
            )
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self.interval_widening_ = self._calibrate(values, exog, steps, seed)
        self._train(values, exog, steps, seed)
        return self

    def _calibrate(self, values, exog, steps, seed):
        """Relative widening of each symmetric quantile band, from a fit that did not
        see the last ``calibration_fraction`` of the series (conformal calibration)."""
        n_cal = int(round(self.calibration_fraction * values.shape[0]))
        n_fit = values.shape[0] - n_cal
        if n_cal < steps or n_fit < self.window + steps + 1:
            return {}
        self._train(values[:n_fit], None if exog is None else exog[:n_fit], steps, seed)
        scores = {}
        for origin in range(n_fit, values.shape[0] - steps + 1):
            q = self._raw_quantiles(values[:origin], None if exog is None else exog[:origin],
                                    steps)  # fmt: skip
            true = values[origin : origin + steps]
            for lo, hi in self._bands():
                width = np.maximum(q[:, :, hi] - q[:, :, lo], 1e-12)
                excess = np.maximum(q[:, :, lo] - true, true - q[:, :, hi]) / width
                scores.setdefault((lo, hi), []).append(excess.ravel())
        widening = {}
        for (lo, hi), s in scores.items():
            s = np.concatenate(s)
            level = min(1.0, (self.quantiles_[hi] - self.quantiles_[lo]) * (1 + 1 / s.size))
            widening[(lo, hi)] = max(float(np.quantile(s, level)), 0.0)
        return widening

    def _bands(self):
        """Index pairs of symmetric quantiles (q, 1 - q) with q < 0.5."""
        q = self.quantiles_
        return [(i, j) for i in range(len(q)) for j in range(len(q))
                if q[i] < 0.5 and np.isclose(q[i] + q[j], 1.0)]  # fmt: skip

    def _train(self, values, exog, steps, seed):
        diffs = np.abs(np.diff(values, axis=0))
        scale = diffs.std(axis=0) if self.scale_target else np.ones(self.n_targets_)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        inputs, targets, _ = make_windows(values, self.window, steps, exog=exog)
        X_rel, Y_rel = self._relative(inputs, targets)
        n_out = steps * self.n_targets_ * len(self.quantiles_)
        layers = [Conv1D(self.conv_filters, 3, padding="causal")] if self.conv_filters else []
        layers += [RNN(self.cell, self.hidden_size, num_layers=self.num_layers,
                       dropout=self.dropout), Dense(n_out)]  # fmt: skip
        self.network_ = Network(layers, dtype=self.dtype).build(X_rel.shape[1:], seed)
        batch = (int(np.clip(len(X_rel) // 8, 8, 32)) if self.batch_size == "auto"
                 else self.batch_size)  # fmt: skip
        try:
            history = fit_network(
                self.network_.to(self.device_), X_rel, Y_rel.reshape(len(Y_rel), -1),
                loss=Pinball(self.quantiles_), optimizer=Adam(self.learning_rate),
                epochs=self.max_epochs, batch_size=batch, patience=self.patience,
                min_delta=1e-4, restore_best=False, clip_norm=1.0, random_state=seed,
            )  # fmt: skip
        finally:
            self.network_.to("cpu")
        self.loss_curve_ = history.loss_curve
        self._history_values = values
        self._exog = exog

    def _relative(self, inputs, targets=None):
        """Window inputs (and targets) relative to the window's last value, scaled."""
        k = self.n_targets_
        last = inputs[:, -1:, :k]
        rel = inputs.copy()
        rel[:, :, :k] = (inputs[:, :, :k] - last) / self.scale_
        if targets is None:
            return rel
        return rel, (targets - last) / self.scale_

    def _raw_quantiles(self, values, exog, steps):
        """Quantile forecasts (steps, n_targets, n_quantiles) from the end of ``values``."""
        window = values[-self.window :]
        if exog is not None:
            window = np.concatenate([window, exog[-self.window :]], axis=1)
        window = window[None]
        out = self.network_.predict(self._relative(window))
        Q = len(self.quantiles_)
        out = out.reshape(steps, self.n_targets_, Q) * self.scale_[None, :, None]
        # Separate quantile heads can cross (early in training, or far out of sample);
        # sorting them is the monotone rearrangement of Chernozhukov et al. (2010),
        # which never increases the pinball loss.
        out = np.sort(out, axis=-1)
        return out + window[0, -1, : self.n_targets_][None, :, None]

    def _quantile_path(self, horizon):
        if not hasattr(self, "network_"):
            raise ValueError("this Forecaster is not fitted yet; call fit first")
        horizon = self.horizon if horizon is None else horizon
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
        if self.strategy == "direct":
            if horizon > self.horizon:
                raise ValueError(
                    f"this Forecaster was fitted for horizon={self.horizon}; refit with a "
                    f"larger horizon to forecast {horizon} steps"
                )
            return self._raw_quantiles(self._history_values, self._exog, self.horizon)[:horizon]
        if self._exog is not None:
            raise ValueError("strategy='recursive' cannot forecast exogenous features; "
                             "use strategy='direct'")  # fmt: skip
        values = self._history_values
        median = int(np.argmin(np.abs(self.quantiles_ - 0.5)))
        path = []
        for _ in range(horizon):
            q = self._raw_quantiles(values, None, 1)[0]
            path.append(q)
            values = np.vstack([values, q[None, :, median]])
        return np.stack(path)

    def predict(self, horizon=None):
        """Median forecasts for the next ``horizon`` steps, indexed by future time
        (a pandas Series/DataFrame or xarray DataArray when fitted on one)."""
        q = self._quantile_path(horizon)
        median = int(np.argmin(np.abs(self.quantiles_ - 0.5)))
        return self._wrap(q[:, :, median])

    def predict_interval(self, coverage=0.9, horizon=None):
        """Lower and upper bounds with the given nominal coverage, as ``(lower, upper)``."""
        lo_q, hi_q = (1 - coverage) / 2, (1 + coverage) / 2
        lo = np.flatnonzero(np.isclose(self.quantiles_, lo_q))
        hi = np.flatnonzero(np.isclose(self.quantiles_, hi_q))
        if not 0 < coverage < 1 or lo.size == 0 or hi.size == 0:
            raise ValueError(f"coverage={coverage} needs the quantiles {lo_q:g} and {hi_q:g}; "
                             f"this Forecaster has {list(self.quantiles_)}")  # fmt: skip
        q = self._quantile_path(horizon)
        lower, upper = q[:, :, lo[0]], q[:, :, hi[0]]
        widen = self.interval_widening_.get((lo[0], hi[0]), 0.0) * (upper - lower)
        return self._wrap(lower - widen), self._wrap(upper + widen)

    def _wrap(self, values):
        meta = self._meta
        steps = values.shape[0]
        if meta["kind"] == "numpy":
            return values[:, 0] if meta["univariate"] else values
        index = _future_index(meta["index"], steps)
        if meta["kind"] == "pandas":
            if meta.get("frame"):
                return pd.DataFrame(values, index=index, columns=meta["names"])
            return pd.Series(values[:, 0], index=index, name=meta["names"])
        import xarray as xr

        coords = {meta["dim"]: index.values}
        if meta.get("other_coords"):
            coords.update(meta["other_coords"])
            dims = (meta["dim"],) + tuple(meta["other"])
            return xr.DataArray(values, dims=dims, coords=coords, name=meta["name"])
        return xr.DataArray(values[:, 0], dims=(meta["dim"],), coords=coords, name=meta["name"])


def backtest(forecaster, y, initial_window, step, horizon):
    """Rolling-origin evaluation: refit on ``y[:origin]`` and forecast ``horizon`` steps,
    for origins ``initial_window, initial_window + step, ...``.

    Returns
    -------
    dict with 'folds' (a DataFrame of per-fold origin, MAE, RMSE, MAPE) and 'mae',
    'rmse', 'mape' over all forecast points.
    """
    values, _ = _series(y)
    n = values.shape[0]
    if initial_window + horizon > n:
        raise ValueError(f"initial_window + horizon = {initial_window + horizon} exceeds the "
                         f"series length {n}")  # fmt: skip
    rows, all_true, all_pred = [], [], []
    for origin in range(initial_window, n - horizon + 1, step):
        model = clone(forecaster).set_params(horizon=horizon).fit(values[:origin])
        pred = np.asarray(model.predict()).reshape(horizon, -1)
        true = values[origin : origin + horizon]
        rows.append({"origin": origin, "mae": mean_absolute_error(true, pred),
                     "rmse": root_mean_squared_error(true, pred),
                     "mape": mean_absolute_percentage_error(true, pred)})  # fmt: skip
        all_true.append(true)
        all_pred.append(pred)
    true, pred = np.vstack(all_true), np.vstack(all_pred)
    return {"folds": pd.DataFrame(rows), "mae": mean_absolute_error(true, pred),
            "rmse": root_mean_squared_error(true, pred),
            "mape": mean_absolute_percentage_error(true, pred)}  # fmt: skip
