"""Covariates known over the forecast horizon: future covariates, calendar, static.

A network that reads future-known covariates sees a longer sequence than the
``window`` of past values: ``window + horizon`` steps. Over the window its channels
are the usual relative values (and past exogenous features); over the horizon those
channels are zero and an indicator channel is one, so no target value after the
forecast origin ever enters an input. The known covariates (the user's future
covariates, calendar features from the time index and a series' static covariates)
fill their own channels over all ``window + horizon`` steps, standardised by the
mean and spread they had in training.

:class:`CovariateMixin` gives the Forecaster the reading and checking of covariates;
the functions below build calendar features and the extended network inputs.
"""

import numpy as np
import pandas as pd

from tsrnn.forecasting._panel import _SERIES_DIMS, _series_dim, _time_index
from tsrnn.forecasting._series import infer_freq

# Calendar features: (cycle length, position in the cycle from a DatetimeIndex).
CALENDAR = {
    "hour": (24, lambda t: t.hour + t.minute / 60),
    "dayofweek": (7, lambda t: t.day_of_week),
    "dayofmonth": (31, lambda t: t.day - 1),
    "dayofyear": (366, lambda t: t.day_of_year - 1),
    "month": (12, lambda t: t.month - 1),
    "quarter": (4, lambda t: t.quarter - 1),
}
# What calendar='auto' reads, by the leading letters of the index's frequency: the
# cycles a series of that frequency can show (one step must be shorter than a cycle).
_AUTO_CALENDAR = (
    ("QS", ("quarter",)),
    ("Q", ("quarter",)),
    ("MS", ("month",)),
    ("ME", ("month",)),
    ("M", ("month",)),
    ("W", ("month",)),
    ("B", ("dayofweek", "month")),
    ("D", ("dayofweek", "month")),
    ("h", ("hour", "dayofweek")),
    ("H", ("hour", "dayofweek")),
    ("min", ("hour", "dayofweek")),
    ("T", ("hour", "dayofweek")),
    ("s", ("hour", "dayofweek")),
)


class CovariateError(ValueError):
    """Covariates that are missing, misaligned or malformed."""


def _timestamps(index):
    """``index`` as a DatetimeIndex, or None when it holds no dates."""
    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp()
    if isinstance(index, pd.DatetimeIndex):
        return index
    return None


def resolve_calendar(calendar, index):
    """The calendar features to build for a series with time index ``index``.

    ``None`` gives none; ``'auto'`` those of the index's frequency (none for an index
    without dates or of annual frequency); a list names them (keys of ``CALENDAR``).
    """
    if calendar is None:
        return []
    times = _timestamps(index)
    if calendar == "auto":
        if times is None or len(times) < 3:
            return []
        if isinstance(index, pd.PeriodIndex):
            freq = index.freqstr
        else:
            offset = index.freq or infer_freq(index)
            freq = None if offset is None else getattr(offset, "freqstr", str(offset))
        freq = (freq or "").lstrip("0123456789")
        chosen = (names for prefix, names in _AUTO_CALENDAR if freq.startswith(prefix))
        return list(next(chosen, ()))
    names = [calendar] if isinstance(calendar, str) else list(calendar)
    unknown = [n for n in names if n not in CALENDAR]
    if unknown:
        raise CovariateError(
            f"unknown calendar feature(s) {unknown}; choose from {sorted(CALENDAR)} or 'auto'"
        )
    if names and times is None:
        raise CovariateError(
            f"calendar features {names} need a DatetimeIndex or PeriodIndex, got "
            f"{type(index).__name__}"
        )
    return names


def calendar_features(index, names):
    """(len(index), 2 * len(names)) sine and cosine of each calendar position."""
    if not names:
        return np.zeros((len(index), 0))
    times = _timestamps(index)
    columns = []
    for name in names:
        period, position = CALENDAR[name]
        angle = 2 * np.pi * np.asarray(position(times), dtype=np.float64) / period
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1)


def standardizer(values):
    """(center, spread) of each column; a constant column gets spread 1."""
    center = values.mean(axis=0)
    spread = values.std(axis=0)
    return center, np.where(spread > 0, spread, 1.0)


def known_windows(known, origins, window, steps):
    """Slices ``known[o - window : o + steps]`` for each origin: (n, window + steps, f)."""
    views = np.lib.stride_tricks.sliding_window_view(known, window + steps, axis=0)
    return np.ascontiguousarray(views[np.asarray(origins) - window].transpose(0, 2, 1))


def with_known(rel, known):
    """Network inputs of relative windows ``rel`` and known covariates ``known``.

    ``rel`` (n, window, c) is zero-padded over the horizon, an indicator channel is
    one on the horizon steps, and ``known`` (n, window + steps, f) fills the last
    channels: (n, window + steps, c + 1 + f).
    """
    n, window, c = rel.shape
    length = known.shape[1]
    out = np.zeros((n, length, c + 1 + known.shape[2]), dtype=np.float64)
    out[:, :window, :c] = rel
    out[:, window:, c] = 1.0
    out[:, :, c + 1 :] = known
    return out


def _span(index):
    return f"{index[0]} .. {index[-1]}" if len(index) else "nothing"


def _check_finite(values, columns, what):
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise CovariateError(
            f"{what} contains NaN or infinity (column {columns[col]!r}, row {row}); "
            "fill the gaps first"
        )


def covariate_rows(X, n_rows, what, columns=None, index=None):
    """Read single-series covariates: ``(values (n_rows, f) float64, column names)``.

    Parameters
    ----------
    X : array-like, Series or DataFrame
        The covariates, one row per time step.
    n_rows : int
        Rows ``X`` must have.
    what : str
        How error messages name ``X`` and the stretch it must cover.
    columns : list, optional
        The column names of the fit; a DataFrame must have exactly these.
    index : pandas.Index, optional
        The time stamps ``X`` must cover; a dated ``X`` must carry exactly these.
    """
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        names = list(X.columns)
        if columns is not None and names != list(columns):
            missing = [c for c in columns if c not in names]
            extra = [c for c in names if c not in columns]
            raise CovariateError(
                f"{what} has columns {names}; the model was fitted with {list(columns)}"
                + (f" (missing {missing})" if missing else "")
                + (f" (unexpected {extra})" if extra else "")
            )
        values = X.to_numpy()
    else:
        values = np.asarray(X)
        names = list(range(values.shape[1])) if values.ndim == 2 else [0]
    if values.dtype.kind not in "fiub":
        raise CovariateError(f"{what} must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise CovariateError(f"{what} must be 1-D or 2-D (time, features), got {values.shape}")
    if columns is not None and values.shape[1] != len(columns):
        raise CovariateError(
            f"{what} has {values.shape[1]} columns; the model was fitted with {len(columns)}"
        )
    if values.shape[0] != n_rows:
        raise CovariateError(f"{what} must have {n_rows} rows, got {values.shape[0]}")
    dated = isinstance(X, pd.DataFrame) and _timestamps(X.index) is not None
    if dated and index is not None and _timestamps(index) is not None:
        if not X.index.equals(index):
            raise CovariateError(
                f"{what} is dated {_span(X.index)} but must cover {_span(index)} "
                f"({len(index)} time stamps)"
            )
    _check_finite(values, names, what)
    return values, names


def _from_xarray(X, id_column):
    """An xarray Dataset (one variable per covariate) or DataArray as a MultiIndex frame."""
    if not hasattr(X, "data_vars"):  # a DataArray holds one covariate
        X = X.to_dataset(name=X.name if X.name is not None else "covariate")
    dim = _series_dim(X, id_column)
    if dim is None or len(X.dims) != 2:
        raise CovariateError(
            "an xarray X needs two dimensions, one of them the series "
            f"({', '.join(_SERIES_DIMS)}), got {tuple(X.dims)}"
        )
    time_dim = next(d for d in X.dims if d != dim)
    return X.to_dataframe(dim_order=[dim, time_dim])


def covariate_table(X, id_column, time_column, value_column=None, y=None):
    """Read panel covariates keyed by (series, time).

    ``X`` is a long DataFrame with the id and time columns, a DataFrame with a
    ``(series, time)`` MultiIndex, an xarray Dataset (one variable per covariate) or
    DataArray (one covariate) with a series and a time dimension, or a list of column
    names of the long DataFrame ``y``. Returns ``{series id: DataFrame of the features
    indexed by time}`` and the feature column names: every column but the id, the
    time and ``value_column`` (the target never enters as a covariate, so ``X`` may be
    the panel itself).
    """
    if isinstance(X, (list, tuple)) and all(isinstance(c, str) for c in X):
        if not isinstance(y, pd.DataFrame) or isinstance(y.index, pd.MultiIndex):
            raise CovariateError(
                "X as a list of column names needs y as a long DataFrame holding them"
            )
        missing = [c for c in X if c not in y.columns]
        if missing:
            raise CovariateError(f"X names columns {missing} that y does not have")
        X = y[[id_column, time_column, *X]]
    if hasattr(X, "dims") and hasattr(X, "to_dataframe"):
        X = _from_xarray(X, id_column)
    if isinstance(X, pd.DataFrame) and isinstance(X.index, pd.MultiIndex):
        if X.index.nlevels != 2:
            raise CovariateError("a MultiIndex X needs two levels (series, time)")
        names = X.index.names
        X = X.reset_index()
        id_column, time_column = X.columns[0], X.columns[1]
        if names[0] is not None:
            id_column, time_column = names[0], names[1]
    if not isinstance(X, pd.DataFrame):
        raise CovariateError(
            "X for a panel must be a long DataFrame with the id and time columns, a "
            f"(series, time) MultiIndex DataFrame, or column names; got {type(X).__name__}"
        )
    for column in (id_column, time_column):
        if column not in X.columns:
            raise CovariateError(
                f"X has no column {column!r} to match rows to series and time stamps; "
                f"columns: {list(X.columns)}"
            )
    columns = [c for c in X.columns if c not in (id_column, time_column, value_column)]
    if not columns:
        raise CovariateError("X has no covariate columns besides the id and time columns")
    table = {}
    for key, rows in X.groupby(id_column, sort=False):
        frame = rows[columns].set_axis(_time_index(rows[time_column], time_column))
        if not frame.index.is_unique:
            raise CovariateError(f"X has repeated time stamps for series {key!r}")
        table[key] = frame
    return table, columns


def series_rows(table, columns, key, index, what):
    """The covariates of series ``key`` at the time stamps ``index``: (len(index), f)."""
    if key not in table:
        raise CovariateError(f"{what} has no rows for series {key!r}")
    frame = table[key]
    if list(frame.columns) != list(columns):
        raise CovariateError(
            f"{what} has columns {list(frame.columns)}; the model was fitted with {list(columns)}"
        )
    present = index.isin(frame.index)
    if not present.all():
        missing = index[~present]
        raise CovariateError(
            f"{what} is missing {len(missing)} of the {len(index)} time stamps of series "
            f"{key!r} it must cover (first {missing[0]})"
        )
    values = frame.loc[index].to_numpy()
    if values.dtype.kind not in "fiub":
        raise CovariateError(f"{what} must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    _check_finite(values, list(columns), f"{what} for series {key!r}")
    return values


def static_rows(static, ids, what="static"):
    """The static covariates of the series ``ids``: ((n_series, f) float64, columns)."""
    if isinstance(static, pd.Series):
        static = static.to_frame()
    if not isinstance(static, pd.DataFrame):
        raise CovariateError(
            f"{what} must be a DataFrame indexed by series id, got {type(static).__name__}"
        )
    missing = [key for key in ids if key not in static.index]
    if missing:
        raise CovariateError(f"{what} has no row for series {missing[:5]}")
    values = static.loc[list(ids)].to_numpy()
    if values.dtype.kind not in "fiub":
        raise CovariateError(f"{what} must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    _check_finite(values, list(static.columns), what)
    return values, list(static.columns)
