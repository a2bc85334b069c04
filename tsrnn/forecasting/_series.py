"""Series in and out: conversion to (time, targets) arrays, time indexes, seasonality."""

import re

import numpy as np
import pandas as pd


def to_values(y):
    """Convert a series to float64 values and the metadata to rebuild it.

    ``(values (n, k) float64, meta)`` from a pandas Series/DataFrame, xarray
    DataArray or array; ``meta`` records how to give forecasts back in that form.
    """
    meta = {"kind": "numpy", "index": None, "names": None, "dim": None}
    if isinstance(y, (pd.Series, pd.DataFrame)):
        frame = isinstance(y, pd.DataFrame)
        meta.update(
            kind="pandas", index=y.index, frame=frame, names=list(y.columns) if frame else y.name
        )
        values = y.to_numpy()
    elif hasattr(y, "dims"):
        time_dim = next(
            (d for d in y.dims if str(d).lower() in ("time", "date", "step")), y.dims[0]
        )
        y = y.transpose(time_dim, ...)
        meta.update(
            kind="xarray",
            dim=time_dim,
            name=y.name,
            index=pd.Index(y[time_dim].values),
            other=y.dims[1:],
        )
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
        raise ValueError(
            "the time index must be sorted and without duplicates: sort it "
            "(sort_index) and aggregate repeated timestamps first"
        )
    return values, meta


def infer_freq(index):
    """Infer the frequency of a time index quietly.

    ``pd.infer_freq`` (an offset, or None), without pandas 3's FutureWarning about
    its return type changing: opt into the future behaviour where it exists.
    """
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            return pd.infer_freq(index)
    except (KeyError, pd.errors.OptionError):
        return pd.infer_freq(index)


def future_index(index, horizon):
    """The ``horizon`` time stamps after the end of ``index``."""
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq or infer_freq(index)
        if freq is None:
            raise ValueError(
                "cannot infer the frequency of the time index to date the forecast; "
                "give the index a freq"
            )
        return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    if len(index) >= 2 and np.issubdtype(np.asarray(index).dtype, np.number):
        step = index[-1] - index[-2]
        return pd.Index(index[-1] + step * np.arange(1, horizon + 1))
    return pd.RangeIndex(len(index), len(index) + horizon)


# Steps per seasonal cycle, by the leading letters of a pandas frequency string.
_SEASON_BY_FREQ = (
    ("QS", 4),
    ("Q", 4),
    ("MS", 12),
    ("ME", 12),
    ("M", 12),
    ("W", 52),
    ("B", 5),
    ("D", 7),
    ("h", 24),
    ("H", 24),
)


def season_length(index):
    """Steps per seasonal cycle of a time index.

    Steps per seasonal cycle from a time index's frequency (12 for monthly data,
    4 quarterly, 52 weekly, 7 daily, 24 hourly), or 1 when none is known (annual
    data, plain arrays, integer indexes).
    """
    if isinstance(index, pd.PeriodIndex):
        freq = index.freqstr
    elif isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        offset = index.freq or infer_freq(index)
        freq = None if offset is None else getattr(offset, "freqstr", str(offset))
    else:
        return 1
    if freq is None:
        return 1
    multiple = re.match(r"\d*", freq).group()
    freq = freq[len(multiple) :]
    multiple = int(multiple or 1)
    for prefix, length in _SEASON_BY_FREQ:
        if freq.startswith(prefix):
            return length // multiple if length % multiple == 0 else 1
    return 1
