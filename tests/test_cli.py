"""The ``tsrnn`` command line: mostly in-process through ``main``, a few runs of the
installed console script as a user would run it."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.helpers import one_line_error
from tests.helpers import run_cli as run
from tsrnn import Forecaster, cli
from tsrnn.cli import main

FAST = ["--max-epochs", "2", "--horizon", "3"]


def seasonal(n=60):
    return [round(10 * np.sin(i / 2) + i, 3) for i in range(n)]


def write(tmp_path, header, first, second=None, sep=","):
    path = tmp_path / "data.csv"
    rows = [
        (a,) if second is None else (a, b) for a, b in zip(first, second or first, strict=True)
    ]
    path.write_text(sep.join(header) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows))
    return path


# --- dates ----------------------------------------------------------------------------------


def test_a_year_column_gives_forecasts_dated_by_the_following_years(tmp_path, capsys):
    path = write(tmp_path, ["year", "sales"], range(1900, 1960), seasonal())
    out_csv = tmp_path / "f.csv"
    code, out, _ = run(capsys, "forecast", path, *FAST, "--output", out_csv)
    assert code == 0
    assert "1970" not in out
    table = pd.read_csv(out_csv)
    assert list(table.columns) == ["year", "forecast", "lower_90", "upper_90"]
    assert list(table["year"]) == [1960, 1961, 1962]


def test_an_integer_step_column_is_continued(tmp_path, capsys):
    path = write(tmp_path, ["t", "sales"], range(1, 61), seasonal())
    out_csv = tmp_path / "f.csv"
    code, out, _ = run(capsys, "forecast", path, *FAST, "--output", out_csv)
    assert code == 0
    assert list(pd.read_csv(out_csv)["t"]) == [61, 62, 63]
    assert re.search(r"^61 ", out, re.M) and re.search(r"^63 ", out, re.M)


def test_a_single_column_is_forecast_by_row_number(tmp_path, capsys):
    path = write(tmp_path, ["sales"], seasonal())
    out_csv = tmp_path / "f.csv"
    code, out, _ = run(capsys, "forecast", path, *FAST, "--output", out_csv)
    assert code == 0 and "tsrnn forecast of 'sales': 60 values" in out
    assert list(pd.read_csv(out_csv)["row"]) == [61, 62, 63]


def test_a_semicolon_file_with_decimal_commas(tmp_path, capsys):
    dates = pd.date_range("2019-01-01", periods=48, freq="MS").strftime("%Y-%m-%d")
    values = [f"{v:.2f}".replace(".", ",") for v in seasonal(48)]
    path = write(tmp_path, ["Monat", "Umsatz"], list(dates), values, sep=";")
    out_csv = tmp_path / "f.csv"
    code, _, _ = run(capsys, "forecast", path, *FAST, "--output", out_csv)
    assert code == 0
    table = pd.read_csv(out_csv)
    assert list(table["Monat"]) == ["2023-01-01", "2023-02-01", "2023-03-01"]


def test_the_output_keeps_the_date_column_name_and_six_significant_digits(tmp_path, capsys):
    dates = pd.date_range("2019-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    path = write(tmp_path, ["day", "load"], list(dates), [v / 7 for v in seasonal()])
    out_csv = tmp_path / "f.csv"
    code, _, _ = run(capsys, "forecast", path, *FAST, "--output", out_csv)
    assert code == 0
    header, *rows = out_csv.read_text().splitlines()
    assert header == "day,forecast,lower_90,upper_90" and rows[0].startswith("2019-03-02,")
    numbers = [field for row in rows for field in row.split(",")[1:]]
    assert all(len(re.sub(r"[-.]|e.*", "", x).lstrip("0")) <= 6 for x in numbers), numbers


def test_the_forecast_is_the_forecasters_own(tmp_path, capsys):
    """The command adds no modelling of its own: same numbers as the Forecaster."""
    path = write(tmp_path, ["t", "sales"], range(1, 61), seasonal())
    out_csv = tmp_path / "f.csv"
    assert run(capsys, "forecast", path, *FAST, "--output", out_csv)[0] == 0
    series = pd.Series(seasonal(), index=pd.Index(range(1, 61)))
    expected = Forecaster(horizon=3, max_epochs=2, random_state=0).fit(series)
    got = pd.read_csv(out_csv)
    np.testing.assert_allclose(got["forecast"], expected.predict(), rtol=1e-5)
    np.testing.assert_allclose(got["lower_90"], expected.predict_interval(0.9)[0], rtol=1e-5)


def test_calendar_reads_the_dates_as_the_forecasters_calendar_features(tmp_path, capsys):
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    path = write(tmp_path, ["day", "sales"], days.strftime("%Y-%m-%d"), seasonal())
    out_csv = tmp_path / "f.csv"
    assert run(capsys, "forecast", path, *FAST, "--calendar", "--output", out_csv)[0] == 0
    series = pd.Series(seasonal(), index=days)
    expected = Forecaster(horizon=3, max_epochs=2, calendar="auto", random_state=0).fit(series)
    assert expected.calendar_ == ["dayofweek", "month"]
    got = pd.read_csv(out_csv)
    np.testing.assert_allclose(got["forecast"], expected.predict(), rtol=1e-5)
    np.testing.assert_allclose(got["lower_90"], expected.predict_interval(0.9)[0], rtol=1e-5)
    # Two epochs leave networks the blend may drop from the median forecast, but
    # their quantile heads, which read the calendar, still set the band.
    plain = Forecaster(horizon=3, max_epochs=2, random_state=0).fit(series)
    assert not np.allclose(got["lower_90"], plain.predict_interval(0.9)[0], rtol=1e-3)


def test_huge_finite_values_are_forecast(tmp_path, capsys):
    path = write(tmp_path, ["t", "x"], range(1, 61), [f"{v * 1e300:.6e}" for v in seasonal()])
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, "forecast", path, *FAST, "--output", out_csv)
    assert code == 0, err
    forecast = pd.read_csv(out_csv)["forecast"]
    assert np.isfinite(forecast).all() and (forecast.abs() > 1e301).all()


# --- options --------------------------------------------------------------------------------


def test_coverage_names_and_sets_the_interval(tmp_path, capsys):
    path = write(tmp_path, ["t", "sales"], range(1, 61), seasonal())
    out_csv = tmp_path / "f.csv"
    code, _, _ = run(capsys, "forecast", path, *FAST, "--coverage", "0.5", "--output", out_csv)
    assert code == 0
    table = pd.read_csv(out_csv)
    assert list(table.columns) == ["t", "forecast", "lower_50", "upper_50"]
    assert (table["lower_50"] <= table["upper_50"]).all()


@pytest.mark.parametrize("value", ["0", "1", "1.5", "nan"])
def test_coverage_must_be_a_fraction(capsys, value):
    code, _, err = run(capsys, "forecast", "--coverage", value)
    assert code == 2
    assert one_line_error(err) == f"--coverage must be between 0 and 1, got {float(value):g}"


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == "tsrnn 0.1.0"


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["forecast", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in (
        "(default: 12)",
        "(default: 0.9)",
        "(default: lstm)",
        "about 400 gradient steps",
    ):
        assert default in text
    assert "(default: None)" not in text


def test_fill_is_offered_and_used(tmp_path, capsys):
    values = seasonal()
    values[10] = ""
    path = write(tmp_path, ["year", "x"], range(1900, 1960), values)
    code, _, err = run(capsys, "forecast", path, *FAST)
    assert code == 1
    assert one_line_error(err) == (
        "column 'x' has 1 missing value, the first in row 11 (year 1910); fill them with "
        "--fill interpolate or --fill ffill"
    )
    assert run(capsys, "forecast", path, *FAST, "--fill", "interpolate")[0] == 0


def test_progress_is_reported_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_kernel_cache_is_cold", lambda cell: True)
    path = write(tmp_path, ["t", "sales"], range(1, 61), seasonal())
    code, out, err = run(capsys, "forecast", path, *FAST, "--progress")
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == "compiling kernels (first run only)..."
    assert re.fullmatch(r"fitting the backtest model on 57 values\.\.\. \d+\.\d s", lines[1])
    assert re.fullmatch(r"backtest on the last 3 values: RMSE \S+, MAE \S+", lines[2])
    assert re.fullmatch(r"fitting the final model on 60 values\.\.\. \d+\.\d s", lines[3])
    assert "fitting" not in out
    assert run(capsys, "forecast", path, *FAST, "--quiet")[2] == ""


def test_the_kernel_cache_is_seen_warm_after_a_fit(capsys, monkeypatch, tmp_path):
    from tsrnn.kernels.cpu import recurrent

    if not hasattr(recurrent.lstm_forward, "_cache"):
        pytest.skip("the kernels are not compiled (NUMBA_DISABLE_JIT=1)")
    Forecaster(window=3, horizon=1, max_epochs=1, random_state=0).fit(np.arange(10.0))
    assert cli._kernel_cache_is_cold("lstm") is False
    cache_file = recurrent.lstm_forward._cache._cache_file
    monkeypatch.setattr(cache_file, "_index_path", str(tmp_path / "absent.nbi"))
    assert cli._kernel_cache_is_cold("lstm") is True


# --- errors ---------------------------------------------------------------------------------


def test_a_horizon_too_long_names_the_longest_possible(tmp_path, capsys):
    path = write(tmp_path, ["t", "sales"], range(1, 61), seasonal())
    code, _, err = run(capsys, "forecast", path, "--horizon", "100")
    assert code == 1
    assert one_line_error(err) == (
        "the series has 60 values: too short for --horizon 100 (the backtest holds out the "
        "last 100 values and trains on the rest); the longest horizon is 28"
    )
    code, _, err = run(capsys, "forecast", path, "--horizon", "30", "--window", "10")
    assert one_line_error(err).endswith("the longest horizon with --window 10 is 24")
    code, _, err = run(capsys, "forecast", path, "--window", "58")
    assert one_line_error(err) == (
        "the series has 60 values: too few to forecast and backtest with --window 58 (needs "
        "at least 61)"
    )
    assert run(capsys, "forecast", path, "--horizon", "28", "--max-epochs", "1")[0] == 0


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "file not found: {path}"),
        ('{"date": ["2020-01-01"], "x": [1]}', [], "{path} looks like JSON, not CSV"),
        (
            "a,b\n0.5,1.5\n0.25,2.5\n",
            [],
            "no date column found in {path} (columns: a, b); name it",
        ),
        ("date,x\n2020-01-01,1\n2020-02-01,2\n", ["--column", "y"], "no column 'y'"),
        ("date,x\n2020-01-01,1\n2020-02-01,abc\n2020-03-01,3\n", [], "non-numeric value 'abc'"),
        ("date,x\n2020-01-01,1\n2020-02-01,2\n2020-03-01,3\n", [], "the series has 3 values"),
    ],
    ids=["missing-file", "json", "no-date", "unknown-column", "non-numeric", "too-short"],
)
def test_forecast_errors_are_one_clear_line(tmp_path, capsys, content, args, message):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    code, _, err = run(capsys, "forecast", path, *args)
    assert code == 1
    assert message.format(path=path) in one_line_error(err)


def test_a_failed_fit_ends_the_progress_line(tmp_path, capsys, monkeypatch):
    def fail(self, y, X=None):
        raise ValueError("the series is odd")

    monkeypatch.setattr(Forecaster, "fit", fail)
    path = write(tmp_path, ["t", "sales"], range(1, 61), seasonal())
    code, _, err = run(capsys, "forecast", path, *FAST, "--progress")
    assert code == 1
    assert err.splitlines()[-2:] == [
        "fitting the backtest model on 57 values... failed",
        "tsrnn: error: the series is odd",
    ]


@pytest.mark.parametrize(("given", "sep"), [("tab", "\t"), ("\\t", "\t"), (";", ";")])
def test_sep_accepts_a_character_or_tab(given, sep):
    assert cli.build_parser().parse_args(["forecast", "--sep", given]).sep == sep


def test_bad_numbers_exit_2(capsys):
    code, _, err = run(capsys, "forecast", "--horizon", "0")
    assert code == 2 and one_line_error(err) == "--horizon must be a positive integer"


# --- as a user runs it ----------------------------------------------------------------------

# The script next to this interpreter, which a plain PATH lookup misses in an
# unactivated virtual environment.
TSRNN = shutil.which(
    "tsrnn", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
)


@pytest.mark.skipif(TSRNN is None, reason="the tsrnn console script is not installed")
def test_the_console_script_forecasts_the_shipped_data(tmp_path):
    pytest.importorskip("matplotlib")
    out = subprocess.run(
        [TSRNN, "forecast", "--horizon", "6", "--max-epochs", "5", "--plot", "f.png"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "1961-01-01" in out.stdout and "1961-06-01" in out.stdout
    assert "backtest (last 6 values held out): RMSE" in out.stdout
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_python_m_tsrnn_rejects_unknown_choices():
    out = subprocess.run(
        [sys.executable, "-m", "tsrnn", "forecast", "--cell", "transformer"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "invalid choice: 'transformer'" in out.stderr


# --- many series (--id-column) ---------------------------------------------------------------


def write_long(tmp_path, series, header=("store", "date", "sales")):
    """A long-format CSV: one row per series and month, ``series`` maps id -> (start, values)."""
    lines = [",".join(header)]
    for key, (start, values) in series.items():
        dates = pd.date_range(start, periods=len(values), freq="MS").strftime("%Y-%m-%d")
        lines += [f"{key},{d},{v}" for d, v in zip(dates, values, strict=True)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def three_stores(tmp_path):
    return write_long(
        tmp_path,
        {
            "north": ("2000-01-01", seasonal(60)),
            "south": ("2001-05-01", seasonal(48)),
            "east": ("1999-01-01", [v * 2 for v in seasonal(72)]),
        },
    )


def test_id_column_forecasts_every_series_with_one_model(tmp_path, capsys):
    path, output = three_stores(tmp_path), tmp_path / "out.csv"
    code, out, _ = run(
        capsys,
        "forecast",
        path,
        "--id-column",
        "store",
        "--column",
        "sales",
        *FAST,
        "--output",
        output,
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "tsrnn forecast of 3 series of 'sales' by 'store': 48-72 values each, horizon=3, cell=lstm"
    )
    assert "one global model" in out.splitlines()[1]
    # One block per series, each dated from the series' own end.
    blocks = re.findall(r"store '(\w+)':\n.*\ndate.*\n(\d{4}-\d\d-\d\d)", out)
    assert blocks == [("north", "2005-01-01"), ("south", "2005-05-01"), ("east", "2005-01-01")]
    assert len(re.findall(r"backtest \(last 3 values held out\): RMSE", out)) == 3
    assert "backtest over all 3 series (last 3 values of each held out): RMSE" in out
    table = pd.read_csv(output)
    assert list(table.columns) == ["store", "date", "forecast", "lower_90", "upper_90"]
    assert table.groupby("store", sort=False).size().to_dict() == {
        "north": 3,
        "south": 3,
        "east": 3,
    }
    assert table["date"].tolist()[3:6] == ["2005-05-01", "2005-06-01", "2005-07-01"]


def test_id_column_forecasts_are_the_global_models_own(tmp_path, capsys):
    path, output = three_stores(tmp_path), tmp_path / "out.csv"
    run(capsys, "forecast", path, "--id-column", "store", *FAST, "--output", output)
    frame = pd.read_csv(path, parse_dates=["date"])
    model = Forecaster(horizon=3, max_epochs=2, random_state=0, quantiles=(0.05, 0.5, 0.95))
    expected = model.fit(frame, id_column="store", time_column="date").predict()
    written = pd.read_csv(output)["forecast"].to_numpy()
    np.testing.assert_allclose(written, expected["sales"].to_numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id-column", "shop"], "no column 'shop' in {path} for --id-column; columns: store"),
        (["--id-column", "store", "--column", "store"], "--column and --id-column are both"),
        (["--id-column", "store", "--horizon", "30"], "series 'south' has 48 values: too short"),
    ],
    ids=["unknown-id-column", "id-is-the-value", "too-short"],
)
def test_id_column_errors_are_one_clear_line(tmp_path, capsys, args, message):
    path = three_stores(tmp_path)
    code, _, err = run(capsys, "forecast", path, *args)
    assert code == 1
    assert message.format(path=path) in one_line_error(err)


def test_id_column_names_the_series_with_a_bad_value(tmp_path, capsys):
    path = write_long(
        tmp_path, {"a": ("2000-01-01", seasonal(40)), "b": ("2000-01-01", ["x"] * 40)}
    )
    code, _, err = run(capsys, "forecast", path, "--id-column", "store", *FAST)
    assert code == 1
    assert one_line_error(err).startswith("series 'b': column 'sales' has a non-numeric value 'x'")


def test_id_column_refuses_mixed_frequencies(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    monthly = pd.date_range("2000-01-01", periods=40, freq="MS").strftime("%Y-%m-%d")
    daily = pd.date_range("2000-01-01", periods=40, freq="D").strftime("%Y-%m-%d")
    rows = [f"m,{d},{v}" for d, v in zip(monthly, seasonal(40), strict=True)]
    rows += [f"d,{d},{v}" for d, v in zip(daily, seasonal(40), strict=True)]
    path.write_text("store,date,sales\n" + "\n".join(rows) + "\n")
    code, _, err = run(capsys, "forecast", path, "--id-column", "store", *FAST)
    assert code == 1
    assert "the series must share one frequency: 'm' is MS but 'd' is D" in one_line_error(err)


def test_id_column_plots_the_first_series(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, png = three_stores(tmp_path), tmp_path / "p.png"
    code, out, _ = run(capsys, "forecast", path, "--id-column", "store", *FAST, "--plot", png)
    assert code == 0 and png.stat().st_size > 0
    assert f"wrote {png} (series 'north', the first of 3)" in out
