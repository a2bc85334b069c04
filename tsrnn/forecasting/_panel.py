"""Panels in and out: many series, each with its own time index, for one global model.

A panel comes as a long DataFrame (one row per series and time stamp, the columns
named like neuralforecast's ``unique_id, ds, y``), a Series or DataFrame with a
``(series, time)`` MultiIndex, a wide DataFrame (one column per series, on request),
an xarray DataArray with a series dimension, or a dict or list of pandas Series.
:func:`to_panel` turns any of them into per-series values and time indexes, and
:func:`from_panel` gives per-series forecasts back in the form the panel came in.
"""

import numpy as np
import pandas as pd

from tsrnn.forecasting._series import infer_freq

# Default column names of a long DataFrame, as neuralforecast and statsforecast use.
ID_COLUMN, TIME_COLUMN, VALUE_COLUMN = "unique_id", "ds", "y"
# Names of an xarray dimension that holds series (besides ``id_column``).
_SERIES_DIMS = ("series", "unique_id", "id")


class PanelError(ValueError):
    """The panel cannot be read as series sharing one frequency."""


def is_panel(y, id_column=None, wide=False):
    """Whether ``y`` is a panel of several series rather than one (multivariate) series.

    A plain DataFrame stays one multivariate series unless it has the id column
    (long format), a two-level MultiIndex, or ``wide`` is set.
    """
    if wide or isinstance(y, dict):
        return True
    if isinstance(y, (list, tuple)):
        return len(y) > 0 and all(isinstance(s, pd.Series) for s in y)
    if isinstance(y, (pd.Series, pd.DataFrame)) and isinstance(y.index, pd.MultiIndex):
        return True
    if isinstance(y, pd.DataFrame):
        if id_column is not None and id_column not in y.columns:
            raise PanelError(
                f"no id column {id_column!r} in the DataFrame; columns: "
                f"{', '.join(map(str, y.columns))}"
            )
        return (id_column or ID_COLUMN) in y.columns
    if hasattr(y, "dims"):
        return _series_dim(y, id_column) is not None
    return False


def _series_dim(array, id_column):
    names = (id_column,) + _SERIES_DIMS if id_column else _SERIES_DIMS
    return next((d for d in array.dims if d in names), None)


def _clean(key, values, index):
    """(values as float64, index) of one series, sorted checks and NaN ends trimmed."""
    values = np.asarray(values)
    if values.dtype.kind not in "fiub":
        raise PanelError(f"series {key!r} must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    finite = np.flatnonzero(~np.isnan(values))
    if finite.size == 0:
        raise PanelError(f"series {key!r} has no values")
    # Wide frames and DataArrays pad series of different lengths with NaN at the ends.
    values, index = values[finite[0] : finite[-1] + 1], index[finite[0] : finite[-1] + 1]
    if not np.isfinite(values).all():
        raise PanelError(f"series {key!r} contains NaN or infinity; fill or drop the gaps first")
    if not (index.is_monotonic_increasing and index.is_unique):
        raise PanelError(f"the time index of series {key!r} must be sorted and without duplicates")
    return values, index


def _frequency(key, index):
    """A comparable description of the spacing of ``index`` (None when unknown)."""
    if isinstance(index, pd.PeriodIndex):
        return index.freqstr
    if isinstance(index, pd.DatetimeIndex):
        if len(index) < 3:
            return index.freqstr if index.freq is not None else None
        offset = index.freq or infer_freq(index)
        if offset is None:
            raise PanelError(
                f"cannot infer the frequency of series {key!r}: its time stamps are not "
                "evenly spaced"
            )
        return getattr(offset, "freqstr", str(offset))
    if len(index) >= 2 and np.issubdtype(np.asarray(index).dtype, np.number):
        steps = np.unique(np.diff(np.asarray(index)))
        if steps.size != 1:
            raise PanelError(f"the time steps of series {key!r} are not evenly spaced")
        return f"step {steps[0]}"
    return None


def _with_frequency(index, freq):
    if isinstance(index, pd.DatetimeIndex) and index.freq is None:
        return pd.DatetimeIndex(index, freq=freq)
    return index


def _check_frequencies(ids, indexes):
    """One frequency for all series, else a PanelError naming two that differ."""
    freqs = [_frequency(key, index) for key, index in zip(ids, indexes, strict=True)]
    known = {f for f in freqs if f is not None}
    if len(known) > 1:
        first = next(i for i, f in enumerate(freqs) if f is not None)
        other = next(i for i, f in enumerate(freqs) if f is not None and f != freqs[first])
        raise PanelError(
            f"the series must share one frequency: {ids[first]!r} is {freqs[first]} but "
            f"{ids[other]!r} is {freqs[other]}; resample them to one frequency first"
        )
    freq = known.pop() if known else None
    if freq is None or freq.startswith("step"):
        return indexes
    return [_with_frequency(index, freq) for index in indexes]


def _time_index(column, name):
    """A time column as an index: numbers and dates as they are, date strings parsed."""
    if column.dtype.kind in "Mmiuf" or isinstance(column.dtype, pd.PeriodDtype):
        return pd.Index(column.to_numpy() if column.dtype.kind in "Miuf" else column)
    try:
        return pd.DatetimeIndex(pd.to_datetime(column.to_numpy()))
    except (TypeError, ValueError):
        raise PanelError(
            f"the time column {name!r} holds neither dates nor numbers, e.g. {column.iloc[0]!r}"
        ) from None


def _from_long(y, id_column, time_column, value_column):
    id_column = id_column or ID_COLUMN
    columns = list(y.columns)
    if id_column not in columns:
        raise PanelError(
            f"no id column {id_column!r} in the DataFrame; columns: {', '.join(map(str, columns))}"
        )
    for name, given, option in (
        (time_column, time_column, "time_column"),
        (value_column, value_column, "value_column"),
    ):
        if given is not None and name not in columns:
            raise PanelError(
                f"no {option} {name!r} in the DataFrame; columns: {', '.join(map(str, columns))}"
            )
    if time_column is None:
        time_column = TIME_COLUMN if TIME_COLUMN in columns else None
    if value_column is None:
        others = [c for c in columns if c not in (id_column, time_column)]
        value_column = VALUE_COLUMN if VALUE_COLUMN in columns else None
        if value_column is None and len(others) == 1:
            value_column = others[0]
        if value_column is None:
            raise PanelError(
                "cannot tell which column holds the values: name it with value_column "
                f"(columns: {', '.join(map(str, columns))})"
            )
    meta = {
        "kind": "long",
        "id_column": id_column,
        "time_column": time_column,
        "value_column": value_column,
    }
    ids, values, indexes = [], [], []
    for key, rows in y.groupby(id_column, sort=False):
        if time_column is None:
            index = pd.RangeIndex(len(rows))
        else:
            rows = rows.sort_values(time_column, kind="stable")
            index = _time_index(rows[time_column], time_column)
        ids.append(key)
        values.append(rows[value_column].to_numpy())
        indexes.append(index)
    return ids, values, indexes, meta


def to_panel(y, id_column=None, time_column=None, value_column=None, wide=False):
    """Per-series values and time indexes of a panel, and how to give forecasts back.

    Returns
    -------
    ids : list
        The series' keys, in the order they came.
    values : list of ndarray
        Each series' values (float64, 1-D, NaN ends of padded series trimmed).
    indexes : list of pandas.Index
        Each series' time index (a DatetimeIndex carries the shared frequency).
    meta : dict
        What :func:`from_panel` needs to rebuild the input's form.
    """
    if isinstance(y, pd.DataFrame) and not isinstance(y.index, pd.MultiIndex) and not wide:
        ids, values, indexes, meta = _from_long(y, id_column, time_column, value_column)
    elif isinstance(y, (pd.Series, pd.DataFrame)) and isinstance(y.index, pd.MultiIndex):
        if y.index.nlevels != 2:
            raise PanelError(
                f"a MultiIndex panel needs two levels (series, time), got {y.index.nlevels}"
            )
        if isinstance(y, pd.DataFrame):
            if y.shape[1] != 1 and value_column is None:
                raise PanelError(
                    "the MultiIndex DataFrame has several columns; name the values with "
                    "value_column"
                )
            name = value_column if value_column is not None else y.columns[0]
            column = y[name]
        else:
            name, column = y.name, y
        meta = {"kind": "multiindex", "names": list(y.index.names), "value": name}
        meta["frame"] = isinstance(y, pd.DataFrame)
        ids, values, indexes = [], [], []
        for key in y.index.unique(level=0):
            part = column.xs(key, level=0)
            ids.append(key)
            values.append(part.to_numpy())
            indexes.append(pd.Index(part.index))
    elif isinstance(y, pd.DataFrame):  # wide
        meta = {"kind": "wide", "index_name": y.index.name}
        ids = list(y.columns)
        values = [y[c].to_numpy() for c in ids]
        indexes = [y.index] * len(ids)
    elif hasattr(y, "dims"):
        dim = _series_dim(y, id_column)
        if dim is None or y.ndim != 2:
            raise PanelError(
                "a DataArray panel needs two dimensions, one of them the series "
                f"({', '.join(_SERIES_DIMS)}), got {y.dims}"
            )
        time_dim = next(d for d in y.dims if d != dim)
        y = y.transpose(dim, time_dim)
        time = pd.Index(y[time_dim].values)
        meta = {"kind": "xarray", "series_dim": dim, "time_dim": time_dim, "name": y.name}
        ids = list(y[dim].values)
        values = list(y.values)
        indexes = [time] * len(ids)
    elif isinstance(y, dict):
        meta = {"kind": "dict", "pandas": all(isinstance(s, pd.Series) for s in y.values())}
        ids = list(y)
        values = [np.asarray(s) for s in y.values()]
        indexes = [
            s.index if isinstance(s, pd.Series) else pd.RangeIndex(len(s)) for s in y.values()
        ]
    elif isinstance(y, (list, tuple)):
        meta = {"kind": "list", "names": [s.name for s in y]}
        ids = list(range(len(y)))
        values = [s.to_numpy() for s in y]
        indexes = [s.index for s in y]
    elif isinstance(y, pd.Series):
        meta = {"kind": "series", "name": y.name}
        ids, values, indexes = [y.name], [y.to_numpy()], [y.index]
    else:
        raise PanelError(f"cannot read a panel from {type(y).__name__}")
    if len(ids) == 0:
        raise PanelError("the panel has no series")
    cleaned = [_clean(key, v, index) for key, v, index in zip(ids, values, indexes, strict=True)]
    values = [v for v, _ in cleaned]
    indexes = _check_frequencies(ids, [index for _, index in cleaned])
    return ids, values, indexes, meta


def from_panel(ids, forecasts, indexes, meta):
    """Per-series forecasts (1-D arrays, dated by ``indexes``) in the panel's own form."""
    kind = meta["kind"]
    if kind == "long":
        time = meta["time_column"] or "step"
        parts = [
            pd.DataFrame({meta["id_column"]: [key] * len(f), time: index, meta["value_column"]: f})
            for key, f, index in zip(ids, forecasts, indexes, strict=True)
        ]
        return pd.concat(parts, ignore_index=True)
    if kind == "multiindex":
        tuples = [(key, t) for key, index in zip(ids, indexes, strict=True) for t in index]
        index = pd.MultiIndex.from_tuples(tuples, names=meta["names"])
        column = pd.Series(np.concatenate(forecasts), index=index, name=meta["value"])
        return column.to_frame() if meta["frame"] else column
    if kind == "series":
        return pd.Series(forecasts[0], index=indexes[0], name=meta["name"])
    series = [pd.Series(f, index=index) for f, index in zip(forecasts, indexes, strict=True)]
    if kind == "dict":
        if meta["pandas"]:
            return {key: s.rename(key) for key, s in zip(ids, series, strict=True)}
        return {key: np.asarray(f) for key, f in zip(ids, forecasts, strict=True)}
    if kind == "list":
        return [s.rename(name) for s, name in zip(series, meta["names"], strict=True)]
    frame = pd.concat(series, axis=1, keys=ids, sort=True)  # wide, over the union of the dates
    if kind == "wide":
        frame.index.name = meta["index_name"]
        return frame
    import xarray as xr

    return xr.DataArray(
        frame.to_numpy().T,
        dims=(meta["series_dim"], meta["time_dim"]),
        coords={meta["series_dim"]: list(ids), meta["time_dim"]: frame.index.values},
        name=meta["name"],
    )
