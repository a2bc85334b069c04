"""Reading a user's CSV into one time series (tsrnn/_csv_input.py)."""

import numpy as np
import pandas as pd
import pytest

from tsrnn._csv_input import CSVInputError, read_series


def values(n=60):
    return [round(10 * np.sin(i / 2) + i, 3) for i in range(n)]


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def table(header, rows, sep=","):
    return sep.join(header) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows)


def test_integer_years_become_annual_periods_not_nanoseconds(tmp_path):
    path = write(tmp_path, table(["year", "value"], zip(range(1900, 1960), values(), strict=True)))
    series = read_series(path)
    # Annual periods ending in December: pandas spells them 'A-DEC' before 2.2, 'Y-DEC' after.
    assert isinstance(series.index, pd.PeriodIndex)
    assert series.index.freq == pd.offsets.YearEnd(month=12)
    assert str(series.index[0]) == "1900" and str(series.index[-1]) == "1959"
    assert series.index.name == "year" and series.name == "value"


def test_integer_steps_stay_integers(tmp_path):
    path = write(tmp_path, table(["t", "value"], zip(range(1, 61), values(), strict=True)))
    series = read_series(path)
    assert series.index.dtype == np.int64 and list(series.index[[0, -1]]) == [1, 60]
    assert series.index.name == "t"


def test_a_column_of_dates_is_found_after_other_columns(tmp_path):
    rows = [(v, f"2020-{m:02d}-01") for v, m in zip(values(12), range(1, 13), strict=True)]
    series = read_series(write(tmp_path, table(["sales", "when"], rows)))
    assert series.index.name == "when" and series.index[-1] == pd.Timestamp("2020-12-01")


def test_a_single_column_is_indexed_by_row_number(tmp_path):
    path = write(tmp_path, table(["sales"], [(v,) for v in values(10)]))
    series = read_series(path)
    assert list(series.index) == list(range(1, 11)) and series.index.name == "row"
    assert series.iloc[-1] == values(10)[-1]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_the_separator_is_sniffed(tmp_path, sep):
    rows = [(f"2020-{m:02d}-01", v) for m, v in zip(range(1, 13), values(12), strict=True)]
    series = read_series(write(tmp_path, table(["date", "sales"], rows, sep)))
    assert series.name == "sales" and series.iloc[3] == values(12)[3]


def test_semicolon_files_may_use_decimal_commas(tmp_path):
    series = read_series(write(tmp_path, "date;x\n2020-01-01;1,5\n2020-02-01;2,25\n"))
    assert list(series) == [1.5, 2.25]


def test_an_explicit_separator_is_used(tmp_path):
    path = write(tmp_path, "date:x\n2020-01-01:1\n2020-02-01:2\n")
    assert list(read_series(path, sep=":")) == [1.0, 2.0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"date": ["2020-01-01"], "x": [1]}', "looks like JSON, not CSV"),
        ("", "is empty"),
        ("date,x\n", "has a header (date, x) but no data rows"),
        (
            "a,b\n0.5,1.5\n0.25,2.5\n",
            "no date column found in {path} (columns: a, b); name it with --date-column",
        ),
        (
            "date,x\n2020-01-01,1\n2020-02-01,abc\n",
            "column 'x' has a non-numeric value 'abc' in row 2 (date 2020-02-01)",
        ),
        (
            "date,x,y\n2020-01-01,1,2\n2020-02-01,2,3\n",
            "several value columns; choose one with --column (x, y)",
        ),
        ("date,x\n2020-01-01,1\n2020-03-01,2\n2020-04-01,3\n", "not evenly spaced"),
        ("date,x\n2020-02-01,1\n2020-01-01,2\n", "must be increasing"),
    ],
    ids=["json", "empty", "header-only", "no-date", "non-numeric", "two-values", "gap", "order"],
)
def test_unreadable_files_are_explained(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(CSVInputError) as info:
        read_series(path)
    assert message.format(path=path) in str(info.value)


def test_a_time_column_that_does_not_parse_is_named(tmp_path):
    path = write(tmp_path, "date,x\n2020-01-01,0.5\nsoon,1.5\n")
    with pytest.raises(CSVInputError) as info:
        read_series(path)
    assert str(info.value) == (
        f"no date column found in {path} (columns: date, x; 'date' does not hold dates or "
        "evenly increasing integers); name it with --date-column"
    )


def test_binary_and_spreadsheet_files_are_named(tmp_path):
    xlsx = tmp_path / "book.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(CSVInputError, match="zip archive .* not a CSV file"):
        read_series(xlsx)


def test_missing_values_are_named_by_row_and_date(tmp_path):
    path = write(tmp_path, "date,x\n2020-01-01,1\n2020-02-01,\n2020-03-01,3\n2020-04-01,NA\n")
    with pytest.raises(CSVInputError) as info:
        read_series(path)
    assert str(info.value) == (
        "column 'x' has 2 missing values, the first in row 2 (date 2020-02-01); fill them "
        "with --fill interpolate or --fill ffill"
    )


def test_missing_values_are_filled_on_request(tmp_path):
    path = write(tmp_path, "date,x\n2020-01-01,\n2020-02-01,2\n2020-03-01,\n2020-04-01,6\n")
    assert list(read_series(path, fill="interpolate")) == [2.0, 2.0, 4.0, 6.0]
    with pytest.raises(CSVInputError, match="--fill ffill cannot fill column 'x' before its "):
        read_series(path, fill="ffill")
    path = write(tmp_path, "date,x\n2020-01-01,1\n2020-02-01,\n2020-03-01,3\n")
    assert list(read_series(path, fill="ffill")) == [1.0, 1.0, 3.0]


def test_options_naming_absent_columns_are_refused(tmp_path):
    path = write(tmp_path, "date,x\n2020-01-01,1.5\n2020-02-01,0.5\n")
    with pytest.raises(CSVInputError, match="no column 'y' in .* for --column; columns: date, x"):
        read_series(path, column="y")
    with pytest.raises(CSVInputError, match="column 'x' does not hold dates"):
        read_series(path, date_column="x", column="date")


def test_huge_finite_values_are_read_as_they_are(tmp_path):
    path = write(tmp_path, "t,x\n1,1e302\n2,1.5e302\n3,-1e302\n")
    # Finite, not refused as infinite; equal to the text up to pandas' parser, which
    # before pandas 3 may miss the nearest double by one unit in the last place.
    np.testing.assert_allclose(read_series(path), [1e302, 1.5e302, -1e302], rtol=4e-16)


def test_yyyymmdd_numbers_are_dates(tmp_path):
    series = read_series(write(tmp_path, "date,co2\n19580329,316.1\n19580405,317.3\n"))
    assert list(series.index) == [pd.Timestamp("1958-03-29"), pd.Timestamp("1958-04-05")]


def test_spreadsheet_and_pandas_exports_read_cleanly(tmp_path):
    frame = pd.DataFrame({"date": ["2020-01-01", "2020-02-01"], "x": [1.5, 2.5]})
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv().encode())  # a BOM and an index column
    series = read_series(path)
    assert series.index.name == "date" and series.name == "x" and list(series) == [1.5, 2.5]


def test_the_first_gap_in_the_times_is_named(tmp_path):
    months = pd.date_range("2020-01-01", periods=24, freq="MS").delete(13)
    path = write(tmp_path, "date,x\n" + "".join(f"{d:%Y-%m-%d},1.5\n" for d in months))
    with pytest.raises(CSVInputError) as info:
        read_series(path)
    assert str(info.value) == (
        "the times in 'date' are not evenly spaced: row 14 (date 2021-03-01) follows date "
        "2021-01-01; add the missing rows (empty values can be filled with --fill) or remove "
        "the odd ones"
    )
    path = write(tmp_path, "t,x\n1,0.5\n2,0.5\n3,0.5\n5,0.5\n")
    with pytest.raises(CSVInputError, match=r"spaced: row 4 \(t 5\) follows t 3; add"):
        read_series(path)
