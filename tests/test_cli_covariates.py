"""``tsrnn forecast --covariates``: columns of the CSV known over the forecast horizon."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.helpers import one_line_error
from tests.helpers import run_cli as run
from tsrnn import Forecaster
from tsrnn.cli import main

H = 3
FAST = ["--max-epochs", "2", "--horizon", str(H), "--column", "sales", "-q"]


def shop(n=60, shift=0.0):
    """A monthly series lifted on promotion months, with its covariates H months on."""
    t = np.arange(n + H)
    promo = (t % 5 == 0) * 1.0
    price = np.round(10 + np.sin(t / 3), 3)
    sales = np.round(50 + shift + 20 * promo - 2 * price + np.sin(t / 2), 3)
    dates = pd.date_range("2015-01-01", periods=n + H, freq="MS").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates, "sales": sales, "promo": promo, "price": price})
    frame.loc[n:, "sales"] = np.nan  # the forecast months: covariates only
    return frame


def test_covariates_from_rows_after_the_end_are_the_forecasters_own(tmp_path, capsys):
    frame = shop()
    path, output = tmp_path / "shop.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run(
        capsys, "forecast", path, "--covariates", "promo,price", *FAST, "--output", output
    )
    assert code == 0
    assert "covariates: promo, price" in out.splitlines()[1]
    got = pd.read_csv(output)
    assert got["date"].tolist() == ["2020-01-01", "2020-02-01", "2020-03-01"]
    dated = frame.assign(date=pd.to_datetime(frame["date"])).set_index("date")
    y, X = dated["sales"].iloc[:-H], dated[["promo", "price"]]
    model = Forecaster(horizon=H, max_epochs=2, random_state=0, future_covariates=True).fit(
        y, X=X.iloc[:-H]
    )
    np.testing.assert_allclose(got["forecast"], model.predict(X=X.iloc[-H:]), rtol=1e-5)
    lower = model.predict_interval(0.9, X=X.iloc[-H:])[0]
    np.testing.assert_allclose(got["lower_90"], lower, rtol=1e-5)
    # The same covariates in a --future file give the same forecast.
    frame.iloc[:-H].to_csv(tmp_path / "history.csv", index=False)
    frame.iloc[-H:][["date", "promo", "price"]].to_csv(tmp_path / "future.csv", index=False)
    code, _, _ = run(
        capsys,
        "forecast",
        tmp_path / "history.csv",
        "--covariates",
        "promo,price",
        "--future",
        tmp_path / "future.csv",
        *FAST,
        "--output",
        tmp_path / "out2.csv",
    )
    assert code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out2.csv"), got)


def long_shops(tmp_path):
    frames = [shop(60).assign(store="north"), shop(50, shift=30).assign(store="south")]
    long = pd.concat(frames, ignore_index=True)[["store", "date", "sales", "promo", "price"]]
    long.to_csv(tmp_path / "long.csv", index=False)
    return long


def test_covariates_of_many_series(tmp_path, capsys):
    long = long_shops(tmp_path)
    args = ["--id-column", "store", "--covariates", "promo,price", *FAST]
    code, out, _ = run(
        capsys, "forecast", tmp_path / "long.csv", *args, "--output", tmp_path / "o1.csv"
    )
    assert code == 0, out
    assert "one global model" in out and "covariates: promo, price" in out
    got = pd.read_csv(tmp_path / "o1.csv")
    assert got.groupby("store", sort=False)["date"].first().to_dict() == {
        "north": "2020-01-01",
        "south": "2019-03-01",
    }
    # The same model in the Forecaster: a long frame with the covariates beside y.
    history = long.dropna(subset=["sales"]).assign(date=lambda f: pd.to_datetime(f["date"]))
    future = long[long["sales"].isna()].assign(date=lambda f: pd.to_datetime(f["date"]))
    model = Forecaster(horizon=H, max_epochs=2, random_state=0, future_covariates=True)
    model.fit(
        history[["store", "date", "sales"]],
        X=history[["store", "date", "promo", "price"]],
        id_column="store",
        time_column="date",
    )
    expected = model.predict(X=future[["store", "date", "promo", "price"]])
    np.testing.assert_allclose(got["forecast"], expected["sales"], rtol=1e-5)
    # Or their future rows in a --future file with the id column.
    long[long["sales"].notna()].to_csv(tmp_path / "history.csv", index=False)
    future_rows = long[long["sales"].isna()].drop(columns="sales")
    future_rows.to_csv(tmp_path / "future.csv", index=False)
    more = ["--future", tmp_path / "future.csv", "--output", tmp_path / "o2.csv"]
    assert run(capsys, "forecast", tmp_path / "history.csv", *args, *more)[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o2.csv"), got)


@pytest.mark.parametrize(
    ("change", "args", "message"),
    [
        (None, ["--covariates", "promo,cost"], "no column 'cost' in {path} for --covariates"),
        (None, ["--covariates", "promo,,price"], "--covariates must name columns separated"),
        (None, ["--covariates", "sales"], "--column and --covariates both name 'sales'"),
        (None, ["--covariates", "promo,promo"], "--covariates names 'promo' twice"),
        (None, ["--future", "{future}"], "--future gives the future values of covariates"),
        (
            "short",
            ["--covariates", "promo"],
            "the covariates promo need values on the 3 forecast time stamps; {path} lacks "
            "1 of them (first 2020-03-01): add rows after the end",
        ),
        (
            "gap",
            ["--covariates", "promo"],
            "covariate 'promo' has no number in row 62 (date 2020-02-01), after the end",
        ),
        (
            None,
            ["--covariates", "promo", "--future", "{future}"],
            "the future covariates are given twice, as rows after the end of the series",
        ),
        (
            "history",
            ["--covariates", "promo,price", "--future", "{future}"],
            "no column 'price' in the --future file {future}",
        ),
    ],
    ids=[
        "unknown",
        "empty-name",
        "target",
        "twice",
        "future-alone",
        "short",
        "gap",
        "both",
        "future-column",
    ],
)
def test_covariate_errors_are_one_clear_line(tmp_path, capsys, change, args, message):
    frame = shop()
    if change == "short":
        frame = frame.iloc[:-1]
    elif change == "gap":
        frame.loc[61, "promo"] = np.nan
    elif change == "history":
        frame = frame.iloc[:-H]
    path, future = tmp_path / "shop.csv", tmp_path / "future.csv"
    frame.to_csv(path, index=False)
    shop().iloc[-H:][["date", "promo"]].to_csv(future, index=False)
    args = [a.format(future=future) for a in args]
    code, _, err = run(capsys, "forecast", path, *args, *FAST)
    assert code == 1
    assert message.format(path=path, future=future) in one_line_error(err)


def test_a_future_file_without_a_series_of_the_panel(tmp_path, capsys):
    long = long_shops(tmp_path)
    long[long["sales"].notna()].to_csv(tmp_path / "history.csv", index=False)
    future = long[long["sales"].isna() & (long["store"] == "north")].drop(columns="sales")
    future.to_csv(tmp_path / "future.csv", index=False)
    code, _, err = run(
        capsys,
        "forecast",
        tmp_path / "history.csv",
        "--id-column",
        "store",
        "--covariates",
        "promo,price",
        "--future",
        tmp_path / "future.csv",
        *FAST,
    )
    assert code == 1
    message = f"series 'south': the --future file {tmp_path / 'future.csv'} has no rows for it"
    assert one_line_error(err) == message


def test_the_command_reads_covariates_as_a_user_runs_it(tmp_path):
    shop().to_csv(tmp_path / "shop.csv", index=False)
    command = [sys.executable, "-m", "tsrnn", "forecast", "shop.csv", *FAST]
    ok = subprocess.run(
        [*command, "--covariates", "promo,price"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert ok.returncode == 0, ok.stderr
    assert "2020-03-01" in ok.stdout and "covariates: promo, price" in ok.stdout
    bad = subprocess.run(
        [*command, "--covariates", "promo,discount"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "tsrnn: error: no column 'discount' in shop.csv for --covariates; "
        "columns: date, sales, promo, price"
    )


@pytest.mark.parametrize(
    ("time", "first"),
    [("year", "2015"), ("t", "61"), (None, "61")],
    ids=["years", "integer-steps", "row-numbers"],
)
def test_rows_after_the_end_continue_any_time_column(tmp_path, capsys, time, first):
    frame = shop().drop(columns=["date", "price"])
    if time is not None:
        start = 1955 if time == "year" else 1
        frame.insert(0, time, range(start, start + len(frame)))
    frame.to_csv(tmp_path / "shop.csv", index=False)
    output = tmp_path / "out.csv"
    code, _, err = run(
        capsys,
        "forecast",
        tmp_path / "shop.csv",
        "--covariates",
        "promo",
        *FAST,
        "--output",
        output,
    )
    assert code == 0, err
    assert str(pd.read_csv(output).iloc[0, 0]) == first


def test_help_names_the_covariate_options(capsys):
    with pytest.raises(SystemExit):
        main(["forecast", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--covariates COLUMNS comma-separated columns of the file known in advance" in out
    assert "--future FILE CSV file with the covariates' values on the forecast dates" in out
