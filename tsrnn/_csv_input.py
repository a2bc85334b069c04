"""Read one time series from a user's CSV file, for the ``tsrnn forecast`` command.

A CSV written by hand or exported from a spreadsheet rarely says which column is
time, what separates its fields, or how gaps are marked, so this module guesses
what it safely can and otherwise says what to pass:

* the separator is sniffed among ``,``, ``;``, tab and ``|`` unless ``sep`` is given;
* the time column is ``date_column``, else the first column whose name says so
  (``date``, ``year``, ``t``...), else the first column that holds dates or a
  regular integer count. Integers are never read as nanoseconds since 1970: a
  column of years (1900, 1901...) becomes annual periods, YYYYMMDD numbers become
  dates, and any other evenly spaced integers (t = 1, 2...) stay integers, so the
  forecast continues them;
* a file with a single column is indexed by row number (1, 2, 3...);
* missing values are named by row and date and filled only on request
  (``fill='interpolate'`` or ``'ffill'``).
"""

import csv

import numpy as np
import pandas as pd

FILL_METHODS = ("interpolate", "ffill")

_SEPARATORS = ",;\t|"
# Lower-case column names that mean "this column is time".
_TIME_NAMES = {
    "date",
    "datetime",
    "time",
    "timestamp",
    "ds",
    "period",
    "t",
    "step",
    "year",
    "month",
    "week",
    "day",
    "quarter",
    "index",
}
# Integer columns whose values all fall in this range, one apart, are read as years.
_YEARS = (1000, 2999)


class CSVInputError(ValueError):
    """The CSV file cannot be read as one evenly spaced numeric time series."""


def _columns(frame):
    return ", ".join(map(str, frame.columns))


def _check_is_text(path, head):
    """Refuse files that are clearly not CSV, naming what they look like."""
    stripped = head.lstrip()
    if head.startswith(b"PK\x03\x04"):
        raise CSVInputError(
            f"{path} is a zip archive (an Excel .xlsx file?), not a CSV file; save it as CSV first"
        )
    if head.startswith(b"PAR1"):
        raise CSVInputError(f"{path} is a Parquet file, not a CSV file; convert it to CSV first")
    if b"\x00" in head:
        raise CSVInputError(f"{path} is a binary file, not a CSV text file")
    if stripped[:1] in (b"{", b"["):
        raise CSVInputError(
            f"{path} looks like JSON, not CSV; tsrnn forecast reads a CSV file "
            "with a header row, e.g. 'date,value'"
        )


def _sniff_separator(text):
    """The separator of ``text`` (the file's first lines), or ',' when unclear."""
    try:
        return csv.Sniffer().sniff(text, delimiters=_SEPARATORS).delimiter
    except csv.Error:
        return ","


def read_frame(path, sep=None):
    """Read ``path`` as a CSV with a header row.

    Parameters
    ----------
    path : str or path-like
    sep : str, optional
        Field separator; sniffed among ``,``, ``;``, tab and ``|`` when None.

    Returns
    -------
    frame : pandas.DataFrame
    sep : str
        The separator used.

    Raises
    ------
    CSVInputError
        When the file is missing, is not CSV text, or has no data rows.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64 * 1024)
    except FileNotFoundError:
        raise CSVInputError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise CSVInputError(f"{path} is a folder, not a CSV file") from None
    if not head.strip():
        raise CSVInputError(f"{path} is empty")
    _check_is_text(path, head)
    if sep is None:
        sample = head.decode("utf-8", errors="replace")
        lines = sample.splitlines()
        sep = _sniff_separator("\n".join(lines[:-1] if len(lines) > 1 else lines))
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark, which
        # would otherwise become part of the first column's name.
        frame = pd.read_csv(
            path, sep=sep, skipinitialspace=True, encoding="utf-8-sig", encoding_errors="replace"
        )
    except pd.errors.EmptyDataError:
        raise CSVInputError(f"{path} is empty") from None
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc).split())
        raise CSVInputError(
            f"cannot read {path} as CSV (separator {sep!r}): {reason}; "
            "give the separator with --sep"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    # A pandas index written by DataFrame.to_csv: an unnamed 0, 1, 2... column.
    first = frame.columns[0]
    if first.startswith("Unnamed: ") and frame.shape[1] > 1:
        if (frame[first].to_numpy() == np.arange(len(frame))).all():
            frame = frame.drop(columns=first)
    if frame.empty:
        raise CSVInputError(f"{path} has a header ({_columns(frame)}) but no data rows")
    return frame, sep


def _integer_values(column):
    """The column as int64 when every value is a whole number, else None."""
    if column.dtype.kind in "iu":
        return column.to_numpy(np.int64)
    if column.dtype.kind == "f":
        values = column.to_numpy()
        # Beyond 2**53 a float cannot tell whole numbers apart: those are values.
        if (np.abs(values) < 2.0**53).all() and (values == np.round(values)).all():
            return values.astype(np.int64)
    return None


def _as_time_index(column, name):
    """A time index from ``column``, or None when it does not hold times.

    The index is a DatetimeIndex, an annual PeriodIndex or an integer Index.
    """
    if column.dtype.kind == "b":
        return None
    ints = _integer_values(column)
    if ints is not None:
        steps = np.diff(ints)
        if ints.size < 2 or (steps <= 0).any():
            return None
        if _YEARS[0] <= ints.min() and ints.max() <= _YEARS[1] and (steps == 1).all():
            return pd.PeriodIndex(ints.astype(str), freq="Y", name=name)
        if _YEARS[0] * 10_000 + 101 <= ints.min() and ints.max() <= _YEARS[1] * 10_000 + 1231:
            # Dates written as YYYYMMDD numbers (20200131).
            dates = pd.to_datetime(pd.Series(ints.astype(str)), format="%Y%m%d", errors="coerce")
            if dates.notna().all():
                return pd.DatetimeIndex(dates, name=name)
        return pd.Index(ints, name=name)
    if column.dtype.kind in "fc":
        return None
    if column.dtype.kind == "M":
        return pd.DatetimeIndex(column, name=name)
    text = column.astype("string").str.strip()
    if text.isna().all() or text.str.fullmatch(r"[-+]?[\d.,eE]+").fillna(False).any():
        return None  # numbers stored as text are values, not dates
    try:
        with np.errstate(all="ignore"):
            dates = pd.to_datetime(text, format="mixed")
    except (ValueError, TypeError, OverflowError):
        return None
    return pd.DatetimeIndex(dates, name=name)


def _find_time_column(frame, path, column, exclude=()):
    """(name, index) of the time column, or (None, None) for a one-column file.

    Columns in ``exclude`` (covariates) are never taken for time.
    """
    if frame.shape[1] - len(exclude) == 1:
        return None, None
    candidates = [c for c in frame.columns if c != column and c not in exclude]
    named = [c for c in candidates if c.lower() in _TIME_NAMES or "date" in c.lower()]
    # Unnamed columns of dates are likelier time than increasing integers (counts).
    others = [c for c in candidates if c not in named]
    others.sort(key=lambda c: _integer_values(frame[c]) is not None)
    for name in named + others:
        index = _as_time_index(frame[name], name)
        if index is not None:
            return name, index
    why = ""
    if named:
        # The user probably meant this column: say why it was not taken.
        why = f"; {named[0]!r} does not hold dates or evenly increasing integers"
    raise CSVInputError(
        f"no date column found in {path} (columns: {_columns(frame)}{why}); name it with "
        "--date-column"
    )


def _value_column(frame, path, date_column, exclude=()):
    others = [c for c in frame.columns if c != date_column and c not in exclude]
    if len(others) == 1:
        return others[0]
    numeric = [c for c in others if pd.to_numeric(frame[c], errors="coerce").notna().mean() > 0.5]
    if len(numeric) == 1:
        return numeric[0]
    if not numeric:
        raise CSVInputError(
            f"{path} has no numeric column to forecast (columns: {_columns(frame)})"
        )
    raise CSVInputError(
        f"{path} has several value columns; choose one with --column "
        f"({', '.join(map(str, numeric))})"
    )


def _numeric(values, sep):
    """Numbers from a column; with a ';' or tab separator, decimal commas are accepted."""
    numbers = pd.to_numeric(values, errors="coerce")
    if sep != "," and not pd.api.types.is_numeric_dtype(values):
        text = values.astype("string").str.replace(",", ".", regex=False)
        commas = pd.to_numeric(text, errors="coerce")
        if commas.notna().sum() > numbers.notna().sum():
            numbers = commas
    return numbers.astype(float)


def time_label(label):
    """A time as a user wrote it: a date without midnight's time of day."""
    if isinstance(label, pd.Timestamp):
        return label.strftime("%Y-%m-%d") if label == label.normalize() else str(label)
    return str(label)


def _where(position, index):
    """'row 5 (date 1953-05-01)': a data row (1 = first after the header) and its time."""
    if index.name in (None, "row"):
        return f"row {position + 1}"
    return f"row {position + 1} ({index.name} {time_label(index[position])})"


def _fill(values, index, column, fill):
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size == 0:
        return values
    if fill is None:
        raise CSVInputError(
            f"column {column!r} has {missing.size} missing value"
            f"{'s' if missing.size > 1 else ''}, the first in {_where(missing[0], index)}; "
            "fill them with --fill interpolate or --fill ffill"
        )
    if missing.size == len(values):
        raise CSVInputError(f"column {column!r} has no values")
    if fill == "interpolate":
        # Linear in the row number, which is linear in time for evenly spaced dates;
        # gaps at either end take the nearest value.
        return values.interpolate(method="linear", limit_direction="both")
    filled = values.ffill()
    if filled.isna().any():
        raise CSVInputError(
            f"--fill ffill cannot fill column {column!r} before its first "
            f"value, in {_where(missing[0], index)}; use --fill interpolate or "
            "remove those rows"
        )
    return filled


def _check_spacing(index, name):
    from tsrnn.forecasting import infer_freq

    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise CSVInputError(f"the times in {name!r} repeat ({dup}); they must be unique")
    if not index.is_monotonic_increasing:
        raise CSVInputError(f"the times in {name!r} must be increasing; sort the file first")
    if isinstance(index, pd.DatetimeIndex):
        if len(index) < 3 or infer_freq(index) is not None:
            return
        # The first odd date ends the longest evenly spaced start, found by bisection
        # (every start of an evenly spaced run is evenly spaced).
        good, bad = 3, len(index)
        if infer_freq(index[:good]) is None:
            good = 2
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if infer_freq(index[:mid]) is not None else (good, mid)
        at = good
    elif isinstance(index, pd.PeriodIndex) or len(np.unique(np.diff(index))) <= 1:
        return
    else:
        steps = np.diff(index)
        at = int(np.flatnonzero(steps != steps[0])[0]) + 1
    previous = _where(at - 1, index).split("(", 1)[1].rstrip(")")
    raise CSVInputError(
        f"the times in {name!r} are not evenly spaced: {_where(at, index)} follows "
        f"{previous}; add the missing rows (empty values can be filled with --fill) or "
        "remove the odd ones"
    )


def read_series(path, column=None, date_column=None, sep=None, fill=None):
    """Read one evenly spaced numeric series from a CSV file.

    Parameters
    ----------
    path : str or path-like
    column : str, optional
        The column to read; by default the only value column.
    date_column : str, optional
        The time column; detected when None (see the module docstring).
    sep : str, optional
        Field separator; sniffed when None.
    fill : {'interpolate', 'ffill'}, optional
        How to fill missing values; None refuses them.

    Returns
    -------
    pandas.Series
        Float values named after the column, indexed by a DatetimeIndex, an annual
        PeriodIndex (a column of years) or an integer Index named after the time
        column, or by a RangeIndex named 'row' (1, 2, ...) for a file with one column.

    Raises
    ------
    CSVInputError
        With a one-line message naming the problem and, where there is one, the
        option that solves it.
    """
    if fill is not None and fill not in FILL_METHODS:
        raise ValueError(f"fill must be one of {FILL_METHODS} or None, got {fill!r}")
    frame, sep = read_frame(path, sep)
    return _series_from_frame(frame, path, column, date_column, sep, fill)


def read_panel(path, id_column, column=None, date_column=None, sep=None, fill=None):
    """Read several series from a long-format CSV file: one row per series and time.

    Parameters
    ----------
    path : str or path-like
    id_column : str
        The column naming the series each row belongs to.
    column, date_column, sep, fill
        As :func:`read_series`, applied to every series.

    Returns
    -------
    dict of str to pandas.Series
        Each series, as :func:`read_series` returns it, keyed by its id in the order
        the ids first appear.

    Raises
    ------
    CSVInputError
        With a one-line message; a problem in one series names it.
    """
    if fill is not None and fill not in FILL_METHODS:
        raise ValueError(f"fill must be one of {FILL_METHODS} or None, got {fill!r}")
    frame, sep = read_frame(path, sep)

    def read(rows):
        return _series_from_frame(rows, path, column, date_column, sep, fill)

    return read_groups(frame, path, id_column, read, column=column, date_column=date_column)


def read_groups(frame, path, id_column, read, **options):
    """``read`` applied to the rows of each series of a long-format frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per series and time.
    path : str or path-like
        The file, for messages.
    id_column : str
        The column naming the series of each row.
    read : callable
        Called with each series' rows (without the id column, indexed from 0).
    **options
        Other options' columns (``column``, ``date_column``), refused if they name
        the id column.

    Returns
    -------
    dict
        ``read``'s result per series id, in the order the ids first appear; a
        :class:`CSVInputError` it raises is prefixed with the series.
    """
    if id_column not in frame.columns:
        raise CSVInputError(
            f"no column {id_column!r} in {path} for --id-column; columns: {_columns(frame)}"
        )
    for option, name in options.items():
        if name == id_column:
            flag = "--" + option.replace("_", "-")
            raise CSVInputError(f"{flag} and --id-column are both {name!r}")
    ids = frame[id_column]
    if ids.isna().any():
        raise CSVInputError(
            f"the id in {id_column!r} is missing in row {int(np.argmax(ids.isna())) + 1}"
        )
    rest = frame.drop(columns=[id_column])
    panel = {}
    for key, rows in rest.groupby(ids.astype(str), sort=False):
        try:
            panel[key] = read(rows.reset_index(drop=True))
        except CSVInputError as exc:
            raise CSVInputError(f"series {key!r}: {exc}") from None
    return panel


def _layout(frame, path, column, date_column, exclude=()):
    """The time column's name (None for row numbers), the time index and the value column."""
    for name, option in ((column, "--column"), (date_column, "--date-column")):
        if name is not None and name not in frame.columns:
            raise CSVInputError(
                f"no column {name!r} in {path} for {option}; columns: {_columns(frame)}"
            )
    if date_column is not None:
        index = _as_time_index(frame[date_column], date_column)
        if index is None:
            raise CSVInputError(
                f"column {date_column!r} does not hold dates or evenly increasing integers"
            )
    else:
        date_column, index = _find_time_column(frame, path, column, exclude)
        if index is None:
            index = pd.RangeIndex(1, len(frame) + 1, name="row")
    if date_column is not None and index.isna().any():
        at = int(np.argmax(index.isna()))
        raise CSVInputError(f"the time in {date_column!r} is missing in row {at + 1}")
    if column is None:
        column = _value_column(frame, path, date_column, exclude)
    if column == date_column:
        raise CSVInputError(f"--column and the date column are both {column!r}")
    return date_column, index, column


def _column_values(frame, column, index, sep, fill):
    """The numeric values of ``column`` over ``index``, gaps filled as ``fill`` says."""
    raw = frame[column]
    values = _numeric(raw, sep)
    bad = np.flatnonzero((values.isna() & raw.notna()).to_numpy())
    if bad.size:
        raise CSVInputError(
            f"column {column!r} has a non-numeric value {raw.iloc[bad[0]]!r} in "
            f"{_where(bad[0], index)}"
        )
    values = _fill(pd.Series(values.to_numpy(), index=index), index, column, fill)
    if not np.isfinite(values.to_numpy()).all():
        at = int(np.argmin(np.isfinite(values.to_numpy())))
        raise CSVInputError(f"column {column!r} has an infinite value in {_where(at, index)}")
    values.name = str(column)
    return values


def _series_from_frame(frame, path, column, date_column, sep, fill):
    date_column, index, column = _layout(frame, path, column, date_column)
    values = _column_values(frame, column, index, sep, fill)
    _check_spacing(index, date_column)
    return values
