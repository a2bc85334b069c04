"""Forecaster: multi-step forecasts from an ensemble of recurrent networks.

The forecasts come with calibrated prediction intervals.

Representation
--------------
Each training sample is a window of ``window`` past values, taken *relative to
the window's last value*, and the ``horizon`` values after it, taken relative to
their *anchor*: the value one seasonal cycle before each of them (the seasonal
naive forecast) when the index has a known season that fits in the window, else
the window's last value (the naive forecast). Both are divided by the spread of
one-step changes in the training series. The network therefore learns how the
future departs from the naive forecast rather than the level, which lets it follow
a trend beyond the range seen in training (on the airline series the last-value
anchor turned an LSTM from worse than seasonal naive into a third of its error;
the seasonal anchor took the mean MASE over three seeds from 1.13 to 0.92 there,
and from 2.50 to 1.34 on wineind). The scaling is fitted on the training data only.

Ensemble
--------
A single network's forecast depends on its seed as much as on the data (on public
series the RMSE of three seeds differed by up to 4x). ``n_ensemble`` networks are
trained from different seeds and every quantile is the median of the members'
(N-BEATS' recipe); the elementwise median of sorted quantile vectors stays sorted.

Intervals
---------
The output layer has one head per (step, target, quantile) trained with the
pinball loss for ``quantiles`` (default 5%, 50%, 95%); the point forecast is the
median head, and ``predict_interval(coverage)`` returns the heads at
(1 - coverage) / 2 and (1 + coverage) / 2. Heads fitted in-sample are
overconfident (on the airline series the 90% band covered 50-71% of a 24-month
hold-out), so the band is conformalised (Romano et al., 2019): a first fit on the
series without its last ``calibration_fraction`` measures how far true values fall
outside the band there, and the final fit on all the data widens its band by the
finite-sample conformal quantile of those misses, in proportion to the band's width
or by a margin in units of the series' one-step spread, whichever is narrower on the
calibration values (see :mod:`tsrnn.forecasting._intervals`).

Blend
-----
The same held-out forecasts choose how much of the network to trust: the forecast
keeps a share ``anchor_weight_`` of the network's departure from a simple forecast
``blend_anchor_`` (the training anchor, the seasonal mean of up to six cycles, or
seasonal naive plus their drift; see ``anchor_window_``; on a panel also the
least-squares seasonal trend of each series' whole history), the pair with the lowest
held-out absolute error, or the one keeping the least of the network within two
standard errors of it (see :mod:`tsrnn.forecasting._selection`). On the noisy
wineind, woolyrnq and ausbeer series this took the ensemble from worse than seasonal
naive to better. The bands are calibrated on blended forecasts too, but cross-fitted:
the held-out windows are split in two folds in time, purged of the windows between
them whose targets reach into the other fold's, and each value is scored with the
blend chosen on the fold that did not forecast it, so that no residual is scored
under a blend it helped choose (with at most as many held-out windows as each
forecasts steps, ``horizon`` with ``strategy='direct'`` and one with ``'recursive'``,
no two folds can be made and the network is kept unblended).

A series too short to spare a calibration stretch (fewer points than the horizon
after the window) cannot be calibrated. Its bands are then never narrower than a
random walk's: at step ``k`` the half-width is at least ``z * sigma * sqrt(k)``,
with ``sigma`` the standard deviation of the series' one-step changes and ``z`` the
normal quantile of the band, and a :class:`UncalibratedIntervalWarning` says so.

Panels
------
``fit`` on a panel (a long ``unique_id, ds, y`` DataFrame, a ``(series, time)``
MultiIndex, a wide DataFrame with ``wide=True``, a DataArray with a ``series``
dimension, or a dict or list of Series) trains one global ensemble on the windows of
every series, each series scaled by itself (see :mod:`tsrnn.forecasting._global`).
The automatic window is longer than one series' (up to six cycles, as the shorter
series allow), an automatic batch grows with the number of windows, a panel with
two windows per weight also feeds the flattened window to the output layer (a linear
autoregression beside the LSTM), and only the series long enough to spare a
calibration stretch score the conformal widening. The window is capped by the
shortest series, so a panel's blend may also take a line and seasonal profile
fitted to each series' whole history (see
:func:`~tsrnn.forecasting._selection.seasonal_trend`). ``predict`` forecasts every
series, dated from its own end, in the form the panel came in, and forecasts new
series the same way.
"""

import math
import numbers
import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from tsrnn._random import draw_seeds
from tsrnn._threads import single_blas_thread
from tsrnn._validation import BATCH_SIZE, NON_NEGATIVE_INT, POSITIVE_INT, check_positive_int
from tsrnn.backend import resolve_device
from tsrnn.estimators._params import estimator_params
from tsrnn.forecasting._covariates import known_windows, with_known
from tsrnn.forecasting._global import GlobalMixin
from tsrnn.forecasting._intervals import calibrate_band, margin_unit, step_unit
from tsrnn.forecasting._known import KnownCovariatesMixin
from tsrnn.forecasting._panel import is_panel
from tsrnn.forecasting._scaling import (
    TrainingDivergedError,
    UncalibratedIntervalWarning,
    power_of_two,
)
from tsrnn.forecasting._selection import (
    ANCHORS,
    blend_anchor,
    candidate_anchors,
    cross_fit,
    purged_folds,
    toward_anchor,
)
from tsrnn.forecasting._series import future_index, season_length, to_values
from tsrnn.layers import RNN, Conv1D, Dense, Flatten, Parallel
from tsrnn.losses import Pinball
from tsrnn.network import Network
from tsrnn.persistence import SaveMixin
from tsrnn.training import Adam, NonFiniteLossError
from tsrnn.training import fit as fit_network
from tsrnn.training.loop import TrainingHistory, resolve_batch_size
from tsrnn.training.schedules import CosineLR
from tsrnn.windows import make_windows

# Gradient steps an automatic ``max_epochs`` aims at (batch 32, learning rate 0.01):
# over the 8 series of benchmarks/forecast.py the ensemble's mean MASE was 0.938
# with 400 steps and 0.951 with 600, at 0.91 instead of 1.31 CPU s per fit; a long
# series reaches the same loss in as many steps as a short one.
_AUTO_STEPS = 400
_AUTO_EPOCHS = (30, 200)
# An automatic ``window`` reads two seasonal cycles, and at least 16 steps: on the
# quarterly series of benchmarks/forecast.py 16 steps instead of 8 took the mean
# MASE over three seeds from 2.06 to 1.58 (woolyrnq) and from 1.20 to 0.62 (ausbeer).
_AUTO_CYCLES = 2
_AUTO_WINDOW_MIN = 16
# A panel has many more windows than one series: an automatic batch covers about
# 1/100 of them (32 to 1024 windows), so an epoch is about 100 gradient steps. A
# global model takes 800 steps (at least 3 epochs), its learning rate annealed to 0
# by a cosine over the epochs: on the 200 monthly series of ``benchmarks.forecast
# --panel`` the mean MASE at window 57 was 0.5200 with 800 steps at a constant rate,
# 0.5163 with 800 annealed and 0.5148 with 1200 annealed (24, 24 and 40 CPU s; 0.523
# with 400 steps at window 60, 12 CPU s).
_PANEL_BATCHES = 100
_PANEL_BATCH_MAX = 1024
_PANEL_STEPS = 800
_PANEL_MIN_EPOCHS = 3
# A panel's automatic window reads up to six seasonal cycles: its windows come from
# every series, so the network can afford a longer input, and the seasonal profile
# and trend are averaged over more cycles. On the 200 monthly series of
# ``benchmarks.forecast --panel`` a least-squares forecast from the window had a mean
# MASE of 0.574, 0.540, 0.519 and 0.512 with 24, 36, 48 and 60 steps (AutoETS 0.514),
# and the global model 0.5163 with 57 steps and 0.5131 with 64 (800 annealed steps).
_PANEL_CYCLES = 6
# The simple forecasts the network is blended with (see _selection) read up to six
# cycles of one series too, however short the network's window: a seasonal profile
# and a drift averaged over more cycles carry less of the noise of single cycles.
# Over the 8 series of ``benchmarks.forecast`` and seeds 0-2, the default ensemble's
# mean MASE went from 0.746 to 0.712 (woolyrnq 1.350 to 1.298, wineind 1.125 to
# 0.895; ausbeer 0.429 to 0.459).
_ANCHOR_CYCLES = 6


def _auto_series_batch(n_windows):
    """Keras' 32 windows per batch, or all of a short series' windows."""
    return min(32, n_windows)


def _auto_panel_batch(n_windows):
    """About 1/100 of a panel's windows per batch, 32 to 1024."""
    return int(np.clip(math.ceil(n_windows / _PANEL_BATCHES), 32, _PANEL_BATCH_MAX))


def _validate_quantiles(quantiles):
    """Sorted quantiles as a float array, or a ValueError naming the problem."""
    try:
        q = np.asarray(quantiles, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"quantiles must be numbers in (0, 1), got {quantiles!r}") from None
    if q.ndim != 1 or q.size == 0:
        raise ValueError(f"quantiles must be a 1-D sequence of numbers, got {quantiles!r}")
    if not ((q > 0) & (q < 1)).all():  # NaN fails both comparisons
        raise ValueError(f"quantiles must be numbers in (0, 1), got {quantiles!r}")
    if not np.isclose(q, 0.5).any():
        raise ValueError(f"quantiles must include 0.5 (the point forecast), got {quantiles!r}")
    return np.sort(q)


@estimator_params
class Forecaster(GlobalMixin, KnownCovariatesMixin, SaveMixin, BaseEstimator):
    """Multi-step forecasting of one or several series with recurrent networks.

    Parameters
    ----------
    window : int or 'auto', default='auto'
        Past steps the network reads. 'auto' reads two seasonal cycles and at
        least 16 steps (24 steps of monthly data, 104 of weekly, 16 of quarterly,
        daily or annual data), at most half of the series left after the horizon,
        so that short series still give training windows. On a panel it reads up to
        six cycles (72 steps of monthly data), as many as leave the shortest series a
        horizon's worth of windows and half of the series their calibration stretch
        and a window before it.
    horizon : int, default=12
        Steps forecast by ``predict`` (at most this many with ``strategy='direct'``).
    strategy : {'direct', 'recursive'}, default='direct'
        'direct' forecasts all steps at once (one output per step); 'recursive'
        trains a one-step model and feeds its median forecasts back in.
    quantiles : tuple of float, default=(0.05, 0.5, 0.95)
        Quantile heads, each in (0, 1); must include 0.5. Intervals are available
        for the symmetric pairs.
    n_ensemble : int, default=3
        Networks trained from different seeds; every quantile forecast is the
        median over them, which makes the forecast depend far less on the seed.
    season_length : int or 'auto', default='auto'
        Steps per seasonal cycle; 'auto' reads it from a time index's frequency
        (12 for monthly data, 4 quarterly, 52 weekly, 7 daily, 24 hourly; 1 for
        annual data and arrays). It sets the automatic window and the anchor the
        targets are taken relative to (see the module docstring).
    hidden_size : int, default=16
        Units of the recurrent layer. Over the 8 series of
        ``benchmarks/forecast.py`` and 3 seeds, an ensemble of 16-unit LSTMs had a
        mean MASE of 0.785 against 0.806 with 32 units, at 55% of the CPU time.
    cell, num_layers, conv_filters, dropout, dtype
        As :class:`~tsrnn.SequenceRegressor`.
    learning_rate : float, default=0.01
        Adam's step size.
    max_epochs : int or 'auto', default='auto'
        Passes over the windows; 'auto' gives about 400 gradient steps (between 30
        and 200 epochs), so a long series costs about what a short one does. On a
        panel 'auto' gives about 800 steps (at least 3 epochs); a panel's learning
        rate is annealed to 0 by a cosine over the epochs, 'auto' or not.
    patience : int or None, default=20
        Stop after this many epochs without a training-loss improvement of 1e-4.
    batch_size : int or 'auto', default='auto'
        Windows per gradient step; 'auto' is 32 (or all windows, if fewer).
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where training runs (as :class:`~tsrnn.SequenceRegressor`). Forecasts read
        one window at a time, which the CPU does faster than a round trip to a GPU,
        so ``predict`` always runs on the CPU.
    scale_target : bool, default=True
        Divide the level-relative windows by the spread of one-step changes.
    calibration_fraction : float in [0, 1), default=0.2
        Share of the series (its end) used to calibrate the interval width and to
        choose the blend with a simple forecast. 0 leaves the quantile heads
        uncalibrated and the network unblended; a series too short to spare it gets
        the random-walk floor described in the module docstring, with a warning.
    future_covariates : bool, default=False
        How ``fit`` reads ``X``. False: past-only exogenous features, read over the
        window (``predict`` takes ``X`` aligned with ``y``). True: covariates known in
        advance (promotions, holidays, planned prices), read over the window *and*
        the horizon, as neuralforecast's ``futr_exog_list`` and darts'
        ``future_covariates``: ``predict(X=...)`` then takes their values on the
        ``horizon`` forecast time stamps. Needs ``strategy='direct'``.
    calendar : None, 'auto' or list of str, default=None
        Calendar features built from the time index, as sine and cosine pairs: any
        of 'hour', 'dayofweek', 'dayofmonth', 'dayofyear', 'month', 'quarter'.
        'auto' picks them from the frequency (month of year for monthly and weekly
        data, quarter for quarterly, day of week and month for daily, hour of day
        and day of week for hourly; none for annual data or an index without
        dates). They are known in advance, so ``predict`` needs no ``X`` for them.
        Needs ``strategy='direct'``.
    random_state : int, RandomState instance or None, default=None
        Seeds every member; the same seed gives bit-identical fitted networks (and
        forecasts, on the same number of BLAS threads).

    Attributes
    ----------
    networks_ : list of Network
        The ensemble's members (``network_`` is the first).
    loss_curve_ : list of float
        Training loss per epoch of the first member's final fit.
    quantiles_ : ndarray
        The sorted quantile levels.
    window_ : int
        The window used (``window`` resolved from the data when 'auto').
    season_length_ : int
        Steps per seasonal cycle read from the time index (1 if unknown).
    n_targets_ : int
        Number of series forecast jointly (1 for a panel: its series are forecast
        one by one with the same model).
    series_ids_ : list
        A panel's series keys, in their order (only after a fit on a panel).
    n_series_ : int
        Number of series in the panel (only after a fit on a panel).
    linear_path_ : bool
        Whether the output layer also reads the flattened window, a linear
        autoregression beside the recurrent layer (only after a fit on a panel: one
        with two windows per weight of that path, or with known covariates, which
        the head always reads flattened).
    scale_ : ndarray of shape (n_targets,) or (n_series,)
        Spread of one-step changes the windows were divided by (in units of
        ``magnitude_``; for a panel one per series, in units of its own power of two).
    magnitude_ : float
        Power of two the series was divided by before training (exact, and keeps
        series near the float limits finite).
    device_ : str
        Where training ran.
    interval_widening_ : dict
        Conformal widening of each symmetric band, keyed by quantile index pairs: the
        share of the band's width added on each side (negative: the band narrows).
    interval_offset_ : dict
        The additive margin of each band on each side, in units of the spread of the
        history's one-step changes, or of its power of two (``magnitude_``) where the
        changes have no spread (0 where the relative widening was kept).
    blend_anchor_ : str
        The simple forecast the network is blended with: 'training anchor',
        'seasonal mean', 'drift' or, on a panel with the direct strategy,
        'seasonal trend' (read from each series' whole history; see the module
        docstring).
    anchor_window_ : int
        Past steps the simple forecasts of the blend read: up to six seasonal cycles
        and at least ``window_`` (``window_`` for a panel, whose seasonal trend
        reads each series' whole history). A history given to ``predict`` with
        fewer steps reads what it has; one shorter than the two seasonal cycles the
        seasonal mean and the drift need (two steps without a season) is blended
        with the training anchor instead, with the same weight.
    anchor_weight_ : float
        Share of the network's departure from ``blend_anchor_`` the forecast keeps
        (1: the network alone; 1 when the intervals are not conformal, or when the
        calibration stretch holds no more windows than each forecasts steps: the
        horizon with ``strategy='direct'``, one with ``'recursive'``).
    interval_method_ : {'conformal', 'random-walk floor', 'none'}
        How the intervals were calibrated.
    interval_calibration_ : dict
        Per nominal coverage (e.g. 0.9): ``rule`` ('relative' or 'additive'),
        ``raw_coverage`` (share of calibration values inside the blended band
        before widening), ``coverage`` and ``mean_width`` (after widening, on the
        calibration stretch), ``widening``, ``offset`` and ``n_values`` (calibration
        values scored). The scored forecasts are cross-fitted: each calibration
        value is blended as the fold of windows that did not forecast it chose.
        Empty unless conformal.
    covariate_columns_ : list
        The future covariates read (columns of ``X`` with ``future_covariates=True``).
    calendar_ : list of str
        The calendar features built from the time index.
    static_columns_ : list
        The static covariates of a panel's series (columns of ``static``).

    Notes
    -----
    With known covariates (future covariates, calendar or static), the network reads
    ``window + horizon`` steps: over the window the relative values (and past
    features), over the horizon zeros and an indicator, and on every step the
    covariates, standardised by their training mean and spread (static ones are
    constant over the sequence). No target value after the forecast origin enters an
    input.

    Examples
    --------
    A promotion flag known in advance, and the day of the week from the index:

    >>> import numpy as np, pandas as pd
    >>> from tsrnn import Forecaster
    >>> days = pd.date_range("2024-01-01", periods=120, freq="D")
    >>> promo = pd.DataFrame({"promo": (np.arange(127) % 9 == 0) * 1.0},
    ...                      index=pd.date_range("2024-01-01", periods=127, freq="D"))
    >>> y = pd.Series(10 + 5 * promo["promo"].to_numpy()[:120], index=days)
    >>> model = Forecaster(horizon=7, future_covariates=True, calendar="auto",
    ...                    n_ensemble=1, max_epochs=5, random_state=0)
    >>> model = model.fit(y, X=promo.iloc[:120])
    >>> model.predict(X=promo.iloc[120:]).shape
    (7,)
    """

    # Anchor targets on the seasonal naive forecast (see the module docstring).
    _seasonal_anchor = True

    #: Parameters newer than some saved models, with the value those models had
    #: (see :mod:`tsrnn.modelfile.schema`).
    _params_added_later = {"future_covariates": False, "calendar": None}

    _parameter_constraints = {
        "window": [POSITIVE_INT, StrOptions({"auto"})],
        "horizon": [POSITIVE_INT],
        "strategy": [StrOptions({"direct", "recursive"})],
        "quantiles": ["array-like"],
        "n_ensemble": [POSITIVE_INT],
        "season_length": [
            POSITIVE_INT,
            StrOptions({"auto"}),
        ],
        "cell": [StrOptions({"lstm", "gru", "rnn"})],
        "hidden_size": [POSITIVE_INT],
        "num_layers": [POSITIVE_INT],
        "conv_filters": [NON_NEGATIVE_INT],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [POSITIVE_INT, StrOptions({"auto"})],
        "patience": [POSITIVE_INT, None],
        "batch_size": BATCH_SIZE,
        "dtype": [StrOptions({"float32", "float64"})],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "scale_target": ["boolean"],
        "calibration_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "future_covariates": ["boolean"],
        "calendar": [None, StrOptions({"auto"}), list, tuple],
    }

    # The parameters and their defaults, in the order the generated __init__ takes them.
    window: int | str = "auto"
    horizon: int = 12
    strategy: str = "direct"
    quantiles: tuple = (0.05, 0.5, 0.95)
    n_ensemble: int = 3
    season_length: int | str = "auto"
    cell: str = "lstm"
    hidden_size: int = 16
    num_layers: int = 1
    conv_filters: int = 0
    dropout: float = 0.0
    learning_rate: float = 1e-2
    max_epochs: int | str = "auto"
    patience: int | None = 20
    batch_size: int | str = "auto"
    dtype: str = "float32"
    device: str = "cpu"
    scale_target: bool = True
    calibration_fraction: float = 0.2
    random_state: int | np.random.RandomState | None = None
    future_covariates: bool = False
    calendar: str | list | None = None

    @property
    def network_(self):
        """The first member of the ensemble."""
        try:
            return self.networks_[0]
        except AttributeError:
            raise AttributeError("this Forecaster is not fitted yet; call fit first") from None

    # --- fitting ------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        y,
        X=None,
        *,
        static=None,
        id_column=None,
        time_column=None,
        value_column=None,
        wide=False,
    ):
        """Fit the forecaster.

        Fit on the series ``y``, with lagged exogenous features ``X``, or one global
        model on a panel of series.

        Parameters
        ----------
        y : array-like, pandas Series/DataFrame, xarray DataArray, dict or list
            One series, (n_steps,) or (n_steps, n_targets), ordered in time; or a
            panel of series (one model for all, each series scaled by itself):

            - a long DataFrame with an id column (``unique_id`` unless ``id_column``
              names another), a time column (``ds``) and a value column (``y``), as
              neuralforecast and statsforecast take;
            - a Series, or a one-column DataFrame, with a ``(series, time)`` MultiIndex;
            - a wide DataFrame, one column per series, with ``wide=True`` (without it
              a DataFrame is one multivariate series);
            - an xarray DataArray with a ``series`` (or ``unique_id``, ``id``)
              dimension;
            - a dict of Series (or arrays) keyed by series, or a list of Series.

            A panel's series may differ in length and start, but share one frequency.
        X : array-like of shape (n_steps, n_features), DataFrame or list of str, optional
            Features aligned with ``y``. With ``future_covariates=False`` past-only
            exogenous features: the network reads their values over the window
            (never values from the forecast period); not with a panel. With
            ``future_covariates=True`` covariates known in advance, read over the
            window and the horizon (``predict`` then needs their future values). A
            dated DataFrame must carry ``y``'s time stamps. For a panel: a long
            DataFrame with the id and time columns (the fit's names) and one column
            per covariate, a DataFrame with a ``(series, time)`` MultiIndex, an
            xarray Dataset with a series and a time dimension (one variable per
            covariate), or the names of covariate columns of the long DataFrame ``y``.
        static : DataFrame, optional
            Static covariates of a panel's series, indexed by series id, one numeric
            column each; constant input channels of every window of that series.
        id_column, time_column, value_column : str, optional
            Column names of a long DataFrame (default ``unique_id``, ``ds``, ``y``; the
            value column may also be the only column besides id and time).
        wide : bool, default=False
            Read a DataFrame as one series per column.

        Returns
        -------
        self
        """
        self.quantiles_ = _validate_quantiles(self.quantiles)
        self.device_ = resolve_device(self.device)
        self._panel = None
        for name in ("series_ids_", "n_series_", "linear_path_"):
            vars(self).pop(name, None)
        if is_panel(y, id_column, wide):
            steps = self.horizon if self.strategy == "direct" else 1
            options = dict(
                id_column=id_column, time_column=time_column, value_column=value_column, wide=wide
            )
            return self._fit_panel(y, options, steps, self._seeds(), X, static)
        values, self._meta = to_values(y)
        index = self._meta["index"]
        known = self._fit_known(X, static, index, values.shape[0])
        if self._cov["future"]:
            X = None  # read as known covariates, not past features
        exog = None
        if X is not None:
            exog, _ = to_values(X)
            if exog.shape[0] != values.shape[0]:
                raise ValueError(f"X has {exog.shape[0]} steps but y has {values.shape[0]}")
        if index is not None and len(index) >= 3:
            future_index(index, 1)  # an index that cannot be extended fails now
        if self.season_length != "auto":
            self.season_length_ = self.season_length
        else:
            self.season_length_ = 1 if index is None else season_length(index)
        self.n_targets_ = values.shape[1]
        steps = self.horizon if self.strategy == "direct" else 1
        self.window_ = self._resolve_window(values.shape[0], steps)
        self.anchor_window_ = self._resolve_anchor_window(values.shape[0])
        self.magnitude_ = power_of_two(values)
        values = values / self.magnitude_
        self._exog_magnitude = None if exog is None else power_of_two(exog)
        if exog is not None:
            exog = exog / self._exog_magnitude
        seeds = self._seeds()
        with single_blas_thread():
            self._calibrate(values, exog, steps, seeds, known)
            members = [self._train(values, exog, steps, seed, known) for seed in seeds]
        self.networks_ = [net for net, _ in members]
        self.loss_curve_ = members[0][1]
        self._set_history(values, exog)
        self._known = known
        return self

    def _seeds(self):
        return draw_seeds(self.random_state, self.n_ensemble)

    def _resolve_window(self, n, steps, median=None):
        """The window for a series of ``n`` steps.

        For a panel ``n`` is its shortest series' length and ``median`` the median
        length (None for one series).
        """
        if self.window != "auto":
            window = self.window
        else:
            m = self.season_length_
            cycles = _AUTO_CYCLES if median is None else _PANEL_CYCLES
            wanted = max(cycles * m, _AUTO_WINDOW_MIN)
            # One series must give its own training windows: the window takes at most
            # half of what the horizon leaves. A panel's windows come from every
            # series: its shortest need only give a horizon's worth of them, as long
            # as half of the series keep a calibration stretch and a window before it.
            room = (n - steps) // 2
            if median is not None:
                calibrated = median - round(self.calibration_fraction * median) - steps - 1
                room = max(room, min(n - 2 * steps, calibrated))
            window = max(1, min(wanted, room))
        if n < window + steps + 1:
            raise ValueError(
                f"the series has {n} steps: too short for window={window} and "
                f"horizon={steps} (needs at least {window + steps + 1})"
            )
        return window

    def _resolve_anchor_window(self, n):
        """Past steps the simple forecasts read: up to six cycles, at least ``window_``.

        At most the steps before the calibration stretch, so that every held-out
        window has them.
        """
        n_fit = n - int(round(self.calibration_fraction * n))
        wanted = _ANCHOR_CYCLES * self.season_length_
        return max(self.window_, min(wanted, n_fit))

    def _set_history(self, values, exog):
        self._history_values = values
        self._exog = exog
        # One-step spread of the series, in its own units: the random-walk floor.
        diffs = np.diff(values, axis=0)
        sigma = diffs.std(axis=0) if len(diffs) > 1 else np.zeros(self.n_targets_)
        self._step_sigma = sigma * self.magnitude_

    def _calibrate(self, values, exog, steps, seeds, known=None):
        """Calibrate the intervals on the end of the series.

        Set the conformal widening of each symmetric band from members fitted without
        the last ``calibration_fraction`` of the series, or fall back to the floor.
        """
        if not self._start_calibration():
            return
        n = values.shape[0]
        n_cal = int(round(self.calibration_fraction * n))
        n_fit = n - n_cal
        if n_cal < steps or n_fit < self.window_ + steps + 1:
            self.interval_method_ = "random-walk floor"
            warnings.warn(
                f"the series ({n} steps) is too short to calibrate the intervals: "
                f"calibration_fraction={self.calibration_fraction} keeps {n_cal} steps to "
                f"score a horizon of {steps} and leaves {n_fit} to fit window={self.window_}; "
                "the bands are widened to at least a random walk's (z * sigma * sqrt(step), "
                "sigma the spread of one-step changes)",
                UncalibratedIntervalWarning,
                stacklevel=4,
            )
            return
        self.interval_method_ = "conformal"
        fit_exog = None if exog is None else exog[:n_fit]
        fit_known = None if known is None else known[:n_fit]
        networks = [
            self._train(values[:n_fit], fit_exog, steps, seed, fit_known)[0] for seed in seeds
        ]
        origins = np.arange(n_fit, n - steps + 1)
        windows = self._windows_at(values, exog, origins)
        covariates = None if known is None else known_windows(known, origins, self.window_, steps)
        lookback = self._lookback_at(values, origins)
        q = self._quantiles_of(windows, steps, networks, self.scale_, covariates, lookback)
        true = np.stack([values[o : o + steps] for o in origins])
        q = self._select_anchor_weight(q, lookback, true, np.zeros(len(origins)))
        unit = step_unit(values[:n_fit])[None, None, :, None]
        self._score_bands(q, true[..., None], unit, self.magnitude_)

    def _start_calibration(self):
        """Reset what an earlier fit calibrated; False when there is nothing to calibrate."""
        self.interval_widening_ = {}
        self.interval_offset_ = {}
        self.interval_calibration_ = {}
        self.blend_anchor_, self.anchor_weight_ = ANCHORS[0], 1.0
        if self.calibration_fraction == 0:
            self.interval_method_ = "none"
            return False
        return True

    def _select_anchor_weight(self, q, windows, true, owner, history=None):
        """Choose the blend on held-out forecasts; return the forecasts to score.

        Set ``blend_anchor_`` and ``anchor_weight_`` from the held-out windows (the
        values before each origin that the simple forecasts read; the series of each
        in ``owner``), and return their forecasts cross-fitted: each value moved by
        the blend chosen on the fold of windows that did not forecast it (see
        :func:`~tsrnn.forecasting._selection.cross_fit`). ``history``, the whole
        history before each origin (a panel's), adds the seasonal trend's candidate.
        """
        anchors = self._candidate_anchors(windows, q.shape[1], history)
        fold, boundary = purged_folds(owner, q.shape[1])
        self.blend_anchor_, self.anchor_weight_, q = cross_fit(
            q, anchors, true, self._median_index(), fold, boundary
        )
        return q

    def _candidate_anchors(self, windows, steps, history=None):
        anchor = self._anchor(windows, steps)
        m, k = self.season_length_, self.n_targets_
        return candidate_anchors(windows, steps, m, k, anchor, history)

    def _score_bands(self, q, true, unit, magnitude):
        """Set the conformal widening of each band from forecasts.

        Set each symmetric band's conformal widening from quantile forecasts ``q``
        of the values ``true`` (see :mod:`tsrnn.forecasting._intervals`); ``unit``
        is the additive margin's unit per value, and widths are reported times
        ``magnitude``.
        """
        self.interval_offset_ = {}
        for lo, hi in self._bands():
            nominal = self.quantiles_[hi] - self.quantiles_[lo]
            report = calibrate_band(q[..., lo : lo + 1], q[..., hi : hi + 1], true, unit, nominal)
            self.interval_widening_[(lo, hi)] = report["relative"]
            self.interval_offset_[(lo, hi)] = report["additive"]
            self.interval_calibration_[round(float(nominal), 6)] = {
                "rule": report["rule"],
                "raw_coverage": report["raw_coverage"],
                "coverage": report["coverage"],
                "mean_width": report["mean_width"] * magnitude,
                "widening": report["relative"],
                "offset": report["additive"],
                "n_values": report["n_values"],
            }

    def _bands(self):
        """Index pairs of symmetric quantiles (q, 1 - q) with q < 0.5."""
        q = self.quantiles_
        return [
            (i, j)
            for i in range(len(q))
            for j in range(len(q))
            if q[i] < 0.5 and np.isclose(q[i] + q[j], 1.0)
        ]

    def _batch(self, n_windows, panel=False):
        return resolve_batch_size(
            self.batch_size, n_windows, _auto_panel_batch if panel else _auto_series_batch
        )

    def _epochs(self, n_windows, batch, panel=False):
        if self.max_epochs != "auto":
            return self.max_epochs
        batches = math.ceil(n_windows / batch)
        low = _PANEL_MIN_EPOCHS if panel else _AUTO_EPOCHS[0]
        wanted = _PANEL_STEPS if panel else _AUTO_STEPS
        return int(np.clip(math.ceil(wanted / batches), low, _AUTO_EPOCHS[1]))

    def _train(self, values, exog, steps, seed, known=None):
        """One member trained on ``values`` (and known covariates): ``(network, loss curve)``."""
        diffs = np.abs(np.diff(values, axis=0))
        scale = diffs.std(axis=0) if self.scale_target else np.ones(self.n_targets_)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        inputs, targets, _ = make_windows(values, self.window_, steps, exog=exog)
        X_rel, Y_rel = self._relative(inputs, targets)
        if known is not None:
            origins = np.arange(self.window_, values.shape[0] - steps + 1)
            X_rel = with_known(X_rel, known_windows(known, origins, self.window_, steps))
        return self._fit_member(X_rel, Y_rel, steps, seed)

    def _fit_member(self, X_rel, Y_rel, steps, seed, panel=False):
        """One network trained on relative windows: ``(network, loss curve)``."""
        n_out = steps * self.n_targets_ * len(self.quantiles_)
        layers = [Conv1D(self.conv_filters, 3, padding="causal")] if self.conv_filters else []
        rnn = RNN(self.cell, self.hidden_size, num_layers=self.num_layers, dropout=self.dropout)
        block = self._with_skip(rnn)
        if panel and self.linear_path_ and block is rnn:
            block = Parallel([[rnn], [Flatten()]])  # see _global.linear_path
        layers += [block, Dense(n_out)]
        network = Network(layers, dtype=self.dtype).build(X_rel.shape[1:], seed)
        batch = self._batch(len(X_rel), panel)
        epochs = self._epochs(len(X_rel), batch, panel)
        history = TrainingHistory()
        try:
            fit_network(
                network.to(self.device_),
                X_rel,
                Y_rel.reshape(len(Y_rel), -1),
                loss=Pinball(self.quantiles_),
                optimizer=Adam(self.learning_rate),
                epochs=epochs,
                batch_size=batch,
                patience=self.patience,
                min_delta=1e-4,
                restore_best=False,
                clip_norm=1.0,
                schedule=CosineLR(period=epochs) if panel else None,
                random_state=seed,
                history=history,
            )
        except NonFiniteLossError as exc:
            raise TrainingDivergedError(
                f"training diverged after {history.n_epochs} epochs ({exc}); lower "
                f"learning_rate (now {self.learning_rate:g})"
            ) from None
        finally:
            network.to("cpu")
        return network, history.loss_curve

    def _relative(self, inputs, targets=None, scale=None):
        """Express windows relative to their anchors.

        Window inputs relative to the window's last value (and targets relative to
        their anchor), divided by ``scale`` (default ``scale_``; in a panel one per
        window, shape (n_windows, 1, 1)).
        """
        scale = self.scale_ if scale is None else scale
        k = self.n_targets_
        last = inputs[:, -1:, :k]
        rel = inputs.copy()
        rel[:, :, :k] = (inputs[:, :, :k] - last) / scale
        if targets is None:
            return rel
        return rel, (targets - self._anchor(inputs, targets.shape[1])) / scale

    def _anchor(self, inputs, steps):
        """The values the network forecasts departures from.

        (n_windows, steps, n_targets) values the network forecasts departures from:
        the window's last value, or with a seasonal anchor the value one cycle before
        each target step (the seasonal naive forecast).
        """
        m = self.season_length_ if self._seasonal_anchor else 1
        if m > 1 and self.window_ >= m:
            positions = np.arange(steps) % m - m
        else:
            positions = np.full(steps, -1)
        return inputs[:, positions, : self.n_targets_]

    def _quantiles_at(self, values, exog, origins, steps, networks, known=None):
        """Quantile forecasts from several origins.

        Quantile forecasts (n_origins, steps, n_targets, n_quantiles) made at each
        origin from the ``window_`` values before it (and the known covariates from
        ``window_`` steps before it to ``steps`` after it): the median over ``networks``.
        """
        windows = self._windows_at(values, exog, origins)
        if known is not None:
            known = known_windows(known, origins, self.window_, steps)
        lookback = self._lookback_at(values, origins)
        return self._quantiles_of(windows, steps, networks, self.scale_, known, lookback)

    def _lookback_at(self, values, origins):
        """The targets the simple forecasts read before each origin.

        (n_origins, span, n_targets): ``anchor_window_`` steps, or as many as the
        earliest origin has.
        """
        # Model files written before the anchor window existed read the window.
        span = min(getattr(self, "anchor_window_", self.window_), int(np.min(origins)))
        return np.stack([values[o - span : o, : self.n_targets_] for o in origins])

    def _windows_at(self, values, exog, origins):
        """The ``window_`` inputs before each origin (n_origins, window, n_features)."""
        inputs = values if exog is None else np.concatenate([values, exog], axis=1)
        return np.stack([inputs[o - self.window_ : o] for o in origins])

    def _quantiles_of(self, windows, steps, networks, scale, known=None, lookback=None):
        """Quantile forecasts after each window.

        Quantile forecasts (n_windows, steps, n_targets, n_quantiles) after each of
        ``windows``; ``scale`` is ``scale_``'s shape (n_targets,) or one per window
        (n_windows, 1, 1); ``known`` the known covariates of each window and its
        horizon (n_windows, window + steps, n_known); ``lookback`` the targets before
        each window's end that the blend's simple forecast reads (default: the
        window's).
        """
        rel = self._relative(windows, scale=scale)
        if known is not None:
            rel = with_known(rel, known)
        shape = (len(windows), steps, self.n_targets_, len(self.quantiles_))
        scale = scale[None, None, :, None] if scale.ndim == 1 else scale[..., None]
        members = []
        for network in networks:
            out = network.predict(rel).reshape(shape) * scale
            # Separate quantile heads can cross (early in training, or far out of
            # sample); sorting them is the monotone rearrangement of Chernozhukov et
            # al. (2010), which never increases the pinball loss.
            members.append(np.sort(out, axis=-1))
        q = members[0] if len(members) == 1 else np.median(np.stack(members), axis=0)
        anchor = self._anchor(windows, steps)
        q = q + anchor[..., None]
        # Model files written before the blend existed keep the network's forecast.
        weight = getattr(self, "anchor_weight_", 1.0)
        if weight == 1.0:
            return q
        m, k = self.season_length_, self.n_targets_
        lookback = windows if lookback is None else lookback
        blend = blend_anchor(self.blend_anchor_, lookback, steps, m, k, anchor)
        return toward_anchor(q, blend, weight, self._median_index())

    # --- forecasting --------------------------------------------------------------------

    def _check_fitted(self):
        if not hasattr(self, "networks_"):
            if "network_" in vars(self):  # a model file written before ensembles
                raise ValueError(
                    "this Forecaster was saved by an earlier tsrnn version, whose model "
                    "this one cannot use; fit it again"
                )
            raise ValueError("this Forecaster is not fitted yet; call fit first")

    def _history(self, y, X):
        """Scaled values, exogenous features and output meta to forecast from."""
        self._check_fitted()
        if is_panel(y):
            raise ValueError(
                "this Forecaster was fitted on one series; fit it on a panel to forecast many"
            )
        if y is None:
            if X is not None:
                raise ValueError("X given without y: pass the history y that X belongs to")
            return self._history_values, self._exog, self._meta
        values, meta = to_values(y)
        if values.shape[1] != self.n_targets_:
            raise ValueError(
                f"y has {values.shape[1]} series but this Forecaster was fitted on "
                f"{self.n_targets_}"
            )
        if values.shape[0] < self.window_:
            raise ValueError(
                f"y has {values.shape[0]} steps; forecasting needs the last window={self.window_}"
            )
        if (X is None) != (self._exog is None):
            raise ValueError(
                "this Forecaster was fitted with exogenous features X: pass X with y"
                if X is None
                else "this Forecaster was fitted without exogenous features; drop X"
            )
        exog = None
        if X is not None:
            exog, _ = to_values(X)
            if exog.shape != (values.shape[0], self._exog.shape[1]):
                raise ValueError(
                    f"X has shape {exog.shape}; expected ({values.shape[0]}, "
                    f"{self._exog.shape[1]}) to match y"
                )
            exog = exog / self._exog_magnitude
        return values / self.magnitude_, exog, meta

    def _check_horizon(self, horizon):
        horizon = self.horizon if horizon is None else horizon
        check_positive_int(horizon, "horizon")
        if self.strategy == "direct" and horizon > self.horizon:
            raise ValueError(
                f"this Forecaster was fitted for horizon={self.horizon}; refit with a "
                f"larger horizon to forecast {horizon} steps"
            )
        return horizon

    def _median_index(self):
        return int(np.argmin(np.abs(self.quantiles_ - 0.5)))

    def _is_global(self):
        return getattr(self, "_panel", None) is not None

    def _quantile_path(self, horizon, y, X):
        """Quantile forecasts in the series' units.

        Quantile forecasts (horizon, n_targets, n_quantiles) in the series' units,
        and the meta of the history they continue.
        """
        known = None
        if self._uses_known():
            values, exog, meta = self._history(y, None if self._cov["future"] else X)
            known = self._forecast_known(y, X, values.shape[0], meta)
        else:
            values, exog, meta = self._history(y, X)
        horizon = self._check_horizon(horizon)
        end = np.array([values.shape[0]])
        if self.strategy == "direct":
            q = self._quantiles_at(values, exog, end, self.horizon, self.networks_, known)[0]
            return q[:horizon] * self.magnitude_, meta
        if exog is not None:
            raise ValueError(
                "strategy='recursive' cannot forecast exogenous features; use strategy='direct'"
            )
        median = self._median_index()
        path = []
        for _ in range(horizon):
            q = self._quantiles_at(values, None, np.array([len(values)]), 1, self.networks_)
            path.append(q[0, 0])
            values = np.vstack([values, q[0, 0][None, :, median]])
        return np.stack(path) * self.magnitude_, meta

    def predict(self, horizon=None, y=None, X=None, static=None):
        """Median forecasts for the next ``horizon`` steps.

        Parameters
        ----------
        horizon : int, optional
            Steps to forecast (default: the fitted ``horizon``).
        y : array-like, Series, DataFrame or DataArray, optional
            Forecast from the end of this history instead of the training series
            (the fitted networks are reused; nothing is refitted): at least
            ``window_`` steps, of which the blend's simple forecast reads up to
            ``anchor_window_`` (see there). A model fitted on a panel takes a panel
            in any of the forms :meth:`fit` reads (with the fit's column names), or a
            single Series, and forecasts every series in it, including series it
            never saw.
        X : array-like or DataFrame, optional
            For a model fitted with past-only features: their values aligned with
            ``y``. For a model fitted with ``future_covariates=True``: their values on
            the fitted ``horizon``'s forecast time stamps (exactly ``horizon`` rows,
            dated like them when a DataFrame); with ``y``, on ``y``'s steps followed
            by the horizon. For a panel, a long or MultiIndex DataFrame keyed by
            (series, time) covering each series' forecast time stamps (with ``y``,
            also its last ``window_`` steps). Missing rows, other columns, NaN or
            other dates raise a ValueError naming the problem.
        static : DataFrame, optional
            Static covariates of the series of ``y`` (indexed by series id), for a
            panel model fitted with them; by default the fit's rows for those series.

        Returns
        -------
        ndarray, Series, DataFrame, DataArray, dict or list
            Indexed by future time when the history had a time index. A panel's
            forecasts come in the panel's form, each series dated from its own end:
            a long DataFrame (the same id, time and value columns), a MultiIndex
            Series or DataFrame, a wide DataFrame or DataArray (over the union of
            the series' future dates, NaN outside each), a dict or a list.
        """
        self._check_fitted()
        if self._is_global():
            return self._predict_panel(horizon, y, X, static)
        self._no_static(static)
        q, meta = self._quantile_path(horizon, y, X)
        return self._wrap(q[:, :, self._median_index()], meta)

    def predict_interval(self, coverage=0.9, horizon=None, y=None, X=None, static=None):
        """Lower and upper bounds with the given nominal coverage.

        Parameters
        ----------
        coverage : float, default=0.9
            Needs the quantiles (1 - coverage) / 2 and (1 + coverage) / 2.
        horizon, y, X, static
            As in :meth:`predict`.

        Returns
        -------
        (lower, upper)
            Each in the form :meth:`predict` returns.
        """
        lo_q, hi_q = (1 - coverage) / 2, (1 + coverage) / 2
        lo = np.flatnonzero(np.isclose(self.quantiles_, lo_q)) if 0 < coverage < 1 else []
        hi = np.flatnonzero(np.isclose(self.quantiles_, hi_q)) if 0 < coverage < 1 else []
        if len(lo) == 0 or len(hi) == 0:
            raise ValueError(
                f"coverage={coverage} needs the quantiles {lo_q:g} and {hi_q:g}; "
                f"this Forecaster has {list(self.quantiles_)}"
            )
        self._check_fitted()
        if self._is_global():
            return self._predict_interval_panel((lo[0], hi[0]), coverage, horizon, y, X, static)
        self._no_static(static)
        q, meta = self._quantile_path(horizon, y, X)
        lower, upper = self._band(q, (lo[0], hi[0]), coverage, self._step_sigma, self.magnitude_)
        return self._wrap(lower, meta), self._wrap(upper, meta)

    def _band(self, q, band, coverage, sigma, magnitude):
        """Interval bounds from quantile forecasts.

        Lower and upper bounds (horizon, n_targets) of quantile forecasts ``q``
        (horizon, n_targets, n_quantiles): the band's heads, conformally widened, or
        floored by a random walk of one-step spread ``sigma`` (n_targets,); the
        additive margin's unit is ``sigma``, or the series' power of two
        ``magnitude`` where ``sigma`` is 0 (see
        :func:`~tsrnn.forecasting._intervals.margin_unit`).
        """
        lo, hi = band
        lower, upper = q[:, :, lo], q[:, :, hi]
        widen = self.interval_widening_.get((lo, hi), 0.0) * (upper - lower)
        # Model files written before the additive margin existed have none.
        offset = getattr(self, "interval_offset_", {}).get((lo, hi), 0.0)
        widen = widen + offset * margin_unit(sigma, magnitude)
        lower, upper = lower - widen, upper + widen
        if self.interval_method_ == "random-walk floor":
            median = q[:, :, self._median_index()]
            step = np.arange(1, len(q) + 1)[:, None]
            half = norm.ppf((1 + coverage) / 2) * sigma[None, :] * np.sqrt(step)
            lower, upper = np.minimum(lower, median - half), np.maximum(upper, median + half)
        return lower, upper

    def _wrap(self, values, meta):
        steps = values.shape[0]
        if meta["kind"] == "numpy":
            return values[:, 0] if meta["univariate"] else values
        index = future_index(meta["index"], steps)
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
