"""The installed ``tsrnn`` console script, run as a user would run it."""

import shutil
import subprocess
import sys

import pytest

TSRNN = shutil.which("tsrnn")
pytestmark = pytest.mark.skipif(TSRNN is None, reason="the tsrnn console script is not "
                                "installed (pip install -e .)")  # fmt: skip


def run(*args, cwd=None):
    return subprocess.run([TSRNN, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_forecast_on_the_shipped_data_writes_table_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("forecast", "--horizon", "6", "--max-epochs", "20", "--plot",
              str(tmp_path / "f.png"), "--output", str(tmp_path / "f.csv"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "1961-01-01" in out.stdout and "1961-06-01" in out.stdout
    assert "backtest (last 6 values held out): RMSE" in out.stdout
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    lines = (tmp_path / "f.csv").read_text().splitlines()
    assert lines[0] == "date,forecast,lower_90,upper_90" and len(lines) == 7


def test_forecast_from_a_csv_file(tmp_path):
    csv = tmp_path / "sales.csv"
    rows = ["month,region,sales"] + [f"2020-{m:02d}-01,north,{100 + m * 3 + (m % 4)}"
                                      for m in range(1, 13)]  # fmt: skip
    rows += [f"2021-{m:02d}-01,north,{140 + m * 3 + (m % 4)}" for m in range(1, 13)]
    rows += [f"2022-{m:02d}-01,north,{180 + m * 3 + (m % 4)}" for m in range(1, 13)]
    csv.write_text("\n".join(rows) + "\n")
    out = run("forecast", str(csv), "--column", "sales", "--horizon", "3", "--window", "6",
              "--max-epochs", "10")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "2023-01-01" in out.stdout and "2023-03-01" in out.stdout


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["missing.csv"], "file not found: missing.csv"),
        ("date,x\n2020-01-01,1\n2020-02-01,2\n", ["--column", "y"], "no column 'y'"),
        ("date,x\n" + "".join(f"2020-{m:02d}-01,{m}\n" for m in range(1, 13)),
         ["--horizon", "6"], "too short for window"),
        ("date,x\n2020-01-01,1\n2020-02-01,abc\n2020-03-01,3\n", [],
         "non-numeric or missing value: 'abc'"),
    ],
    ids=["missing-file", "unknown-column", "too-short", "non-numeric"],
)  # fmt: skip
def test_forecast_errors_are_one_clear_line(tmp_path, content, args, message):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    out = run("forecast", *(["data.csv"] if content is not None else []), *args, cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == f"tsrnn: error: {out.stderr.strip()[14:]}"
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_arguments_exit_2():
    out = run("forecast", "--horizon", "0")
    assert out.returncode == 2 and "--horizon must be a positive integer" in out.stderr
    out = subprocess.run([sys.executable, "-m", "tsrnn", "forecast", "--cell", "transformer"],
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 2 and "invalid choice: 'transformer'" in out.stderr
