"""Covariate columns of a user's CSV file, for ``tsrnn forecast --covariates``.

Covariates are columns known in advance (promotions, planned prices, holidays): the
model reads them over its window and over the forecast horizon, so their values on
the forecast time stamps are needed too. A user gives those either as rows after the
end of the series in the same file (the target's cell empty, the covariates filled),
as neuralforecast's ``futr_df`` continues a frame, or in a second CSV (``--future``)
with the time column, the covariate columns and, for several series, the id column.

In the history, covariate gaps are filled as the target's are (``--fill``); after the
end of the series every covariate needs a value.
"""

import numpy as np
import pandas as pd

from tsrnn._csv_input import (
    CSVInputError,
    _check_spacing,
    _column_values,
    _columns,
    _layout,
    _numeric,
    _where,
    read_frame,
    read_groups,
    time_label,
)


def check_names(frame, path, covariates, **options):
    """Refuse covariate names that are not columns, repeat, or name another role.

    ``options`` maps an option (``column``, ``date_column``, ``id_column``) to the
    column it names, or None.
    """
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise CSVInputError(
            f"no column {missing[0]!r} in {path} for --covariates; columns: {_columns(frame)}"
        )
    repeated = [c for c in dict.fromkeys(covariates) if covariates.count(c) > 1]
    if repeated:
        raise CSVInputError(f"--covariates names {repeated[0]!r} twice")
    for option, name in options.items():
        if name in covariates:
            flag = "--" + option.replace("_", "-")
            raise CSVInputError(f"{flag} and --covariates both name {name!r}")


def series_with_covariates(frame, path, covariates, column, date_column, sep, fill):
    """The target series and its covariates, from a frame of one series.

    Returns
    -------
    series : pandas.Series
        The target up to its last value, as :func:`tsrnn._csv_input.read_series`
        reads it.
    X : pandas.DataFrame
        The covariates on the series' time stamps and on the rows after its end.
    """
    date_column, index, column = _layout(frame, path, column, date_column, exclude=covariates)
    present = np.flatnonzero(frame[column].notna().to_numpy())
    if present.size == 0:
        raise CSVInputError(f"column {column!r} has no values")
    n = int(present[-1]) + 1
    series = _column_values(frame.iloc[:n], column, index[:n], sep, fill)
    _check_spacing(index, date_column)  # the rows after the end continue the series
    X = {}
    for name in covariates:
        history = _column_values(frame.iloc[:n], name, index[:n], sep, fill).to_numpy()
        future = _numeric(frame[name].iloc[n:], sep).to_numpy()
        bad = np.flatnonzero(~np.isfinite(future))
        if bad.size:
            raise CSVInputError(
                f"covariate {name!r} has no number in {_where(n + int(bad[0]), index)}, "
                "after the end of the series; every covariate needs a value there"
            )
        X[name] = np.concatenate([history, future])
    return series, pd.DataFrame(X, index=index)


def _time_like(column, index, name, path):
    """The times of ``column`` as the same kind of index as the series' ``index``."""
    try:
        if isinstance(index, pd.PeriodIndex):
            return pd.PeriodIndex(column.astype(str), freq=index.freq, name=name)
        if isinstance(index, pd.DatetimeIndex):
            return pd.DatetimeIndex(pd.to_datetime(column, format="mixed"), name=name)
        return pd.Index(column.to_numpy(np.int64), name=name)
    except (TypeError, ValueError, OverflowError):
        raise CSVInputError(
            f"the time column {name!r} of {path} holds times unlike the series' "
            f"(e.g. {column.iloc[0]!r})"
        ) from None


def read_future(path, covariates, index, id_column=None):
    """The covariates' values on future time stamps, from a second CSV file.

    Parameters
    ----------
    path : str or path-like
        A CSV with the series' time column, the covariate columns and, for several
        series, the id column (its separator is sniffed).
    covariates : list of str
        The covariate columns.
    index : pandas.Index
        The time index of (one of) the series, named after its time column: the
        future file's times are read as the same kind of time.
    id_column : str, optional
        The column naming the series of each row.

    Returns
    -------
    dict
        ``{series id: DataFrame of the covariates indexed by time}``; the single key
        None without ``id_column``.
    """
    frame, sep = read_frame(path)
    time = index.name
    if time is None or time == "row":
        raise CSVInputError(
            "--future needs a series with a time column, to match its rows to the "
            "forecast's time stamps"
        )
    needed = [time, *covariates] + ([id_column] if id_column else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CSVInputError(
            f"no column {missing[0]!r} in the --future file {path}; it needs "
            f"{', '.join(map(repr, needed))} (columns: {_columns(frame)})"
        )
    groups = (
        frame.groupby(frame[id_column].astype(str), sort=False) if id_column else [(None, frame)]
    )
    out = {}
    for key, rows in groups:
        times = _time_like(rows[time], index, time, path)
        if not times.is_unique:
            where = f" for series {key!r}" if key is not None else ""
            repeated = time_label(times[times.duplicated()][0])
            raise CSVInputError(f"the --future file {path} repeats time {repeated}{where}")
        values = {}
        for name in covariates:
            numbers = _numeric(rows[name], sep).to_numpy()
            bad = np.flatnonzero(~np.isfinite(numbers))
            if bad.size:
                at = time_label(times[int(bad[0])])
                raise CSVInputError(
                    f"covariate {name!r} has no number at {time} {at} in the --future file {path}"
                )
            values[name] = numbers
        out[key] = pd.DataFrame(values, index=times)
    return out


def read_with_covariates(
    path, covariates, column=None, date_column=None, sep=None, fill=None, id_column=None
):
    """Read the series of a CSV file with their covariates.

    Parameters
    ----------
    path : str or path-like
    covariates : list of str
        The covariate columns.
    column, date_column, sep, fill
        As :func:`tsrnn._csv_input.read_series`.
    id_column : str, optional
        Read a long-format file of several series keyed by this column.

    Returns
    -------
    dict
        ``{series id: (series, X)}`` as :func:`series_with_covariates` returns them,
        the single key None without ``id_column``.
    """
    frame, sep = read_frame(path, sep)
    check_names(
        frame, path, covariates, column=column, date_column=date_column, id_column=id_column
    )

    def read(rows):
        return series_with_covariates(rows, path, covariates, column, date_column, sep, fill)

    if id_column is None:
        return {None: read(frame)}
    return read_groups(frame, path, id_column, read, column=column, date_column=date_column)
