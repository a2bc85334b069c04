"""The picture of ``tsrnn forecast --plot`` (tsrnn/_forecast_plot.py)."""

import numpy as np
import pandas as pd
import pytest

from tsrnn._forecast_plot import draw_forecast, plot_forecast

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture
def drawn():
    index = pd.period_range("1900", periods=20, freq="Y")
    series = pd.Series(np.arange(20.0), index=pd.Index(index, name="year"), name="sales")
    future = pd.period_range("1920", periods=3, freq="Y")
    table = pd.DataFrame(
        {"forecast": [21.0, 22, 23], "lower_80": [19.0, 19, 19], "upper_80": [23.0, 25, 27]},
        index=future,
    )
    backtest = pd.Series([17.5, 18.5, 19.5], index=index[-3:])
    fig, ax = plt.subplots()
    draw_forecast(
        ax, series, table, coverage=0.8, backtest=backtest, scores={"RMSE": 0.5, "MAE": 0.25}
    )
    yield ax
    plt.close(fig)


def test_axes_are_labelled_with_the_column_names(drawn):
    assert drawn.get_xlabel() == "year" and drawn.get_ylabel() == "sales"
    assert drawn.get_title() == "tsrnn forecast of sales: next 3 years"


def test_the_legend_names_the_interval_and_the_backtest_score(drawn):
    labels = [t.get_text() for t in drawn.get_legend().get_texts()]
    assert labels == [
        "observed",
        "80% interval",
        "forecast",
        "backtest forecast (RMSE 0.5, MAE 0.25)",
    ]


def test_forecast_and_backtest_lines_start_on_the_history(drawn):
    observed, forecast, backtest = drawn.get_lines()[:3]
    assert list(forecast.get_ydata()) == [19.0, 21.0, 22.0, 23.0]
    assert forecast.get_xdata()[0] == observed.get_xdata()[-1]
    assert list(backtest.get_ydata()) == [16.0, 17.5, 18.5, 19.5]
    assert backtest.get_xdata()[0] == observed.get_xdata()[-4]
    band = drawn.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 19.0 and band[:, 1].max() == 27.0


def test_the_png_is_written(tmp_path, drawn):
    series = pd.Series([1.0, 2.0, 3.0], index=pd.RangeIndex(1, 4, name="row"), name="x")
    table = pd.DataFrame({"f": [4.0], "lo": [3.0], "hi": [5.0]}, index=pd.RangeIndex(4, 5))
    plot_forecast(tmp_path / "f.png", series, table, coverage=0.9)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
