"""The picture ``tsrnn forecast --plot`` writes: history, forecast, interval, backtest."""

import numpy as np
import pandas as pd


def _plottable(index):
    """Matplotlib draws timestamps and numbers, not pandas Periods."""
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


_UNITS = {
    "Y": "years",
    "A": "years",
    "Q": "quarters",
    "M": "months",
    "W": "weeks",
    "D": "days",
    "B": "business days",
    "h": "hours",
    "H": "hours",
    "min": "minutes",
    "s": "seconds",
}


def _unit(index):
    """'months' for a monthly index, ...; 'steps' when the spacing has no plain name."""
    freq = getattr(index, "freqstr", None) or ""
    base = freq.split("-")[0].rstrip("SE") or freq[:1]
    return _UNITS.get(base, "steps")


def _joined(last_x, last_y, index, values):
    """Prepend the last observed point, so that a forecast line starts on the history."""
    x = _plottable(pd.Index([last_x]).append(index))
    return x, np.concatenate([[last_y], np.asarray(values, dtype=float)])


def draw_forecast(ax, series, table, *, coverage, backtest=None, scores=None):
    """Draw the series, its forecast and interval, and the backtest on ``ax``.

    The forecast line and the interval band start at the last observed point, and
    the backtest line at the point before the values it forecast, so that each
    reads as a continuation of the history.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    series : pandas.Series
        The observed values; its name labels the y axis, its index's name the x axis.
    table : pandas.DataFrame
        Indexed by future time, with the columns forecast, lower and upper (in this
        order).
    coverage : float
        Nominal coverage of the interval, for the legend.
    backtest : pandas.Series, optional
        Forecasts of the series' last values made without them.
    scores : dict, optional
        ``{'RMSE': ..., 'MAE': ...}`` of the backtest, shown in its legend entry.
    """
    forecast, lower, upper = (table.iloc[:, i] for i in range(3))
    last_x, last_y = series.index[-1], float(series.iloc[-1])
    ax.plot(_plottable(series.index), series.to_numpy(), color="black", lw=1.2, label="observed")
    x, lo = _joined(last_x, last_y, table.index, lower)
    _, hi = _joined(last_x, last_y, table.index, upper)
    ax.fill_between(
        x, lo, hi, color="tab:blue", alpha=0.25, lw=0, label=f"{coverage * 100:g}% interval"
    )
    x, y = _joined(last_x, last_y, table.index, forecast)
    ax.plot(x, y, color="tab:blue", lw=2, label="forecast")
    if backtest is not None:
        origin = series.index.get_loc(backtest.index[0]) - 1
        x, y = _joined(series.index[origin], float(series.iloc[origin]), backtest.index, backtest)
        score = ", ".join(f"{k} {v:.4g}" for k, v in (scores or {}).items())
        label = f"backtest forecast ({score})" if score else "backtest forecast"
        ax.plot(x, y, color="tab:orange", lw=1.5, ls="--", label=label)
        ax.axvline(x[0], color="grey", lw=0.8, ls=":")
    ax.set_xlabel(series.index.name or "time")
    ax.set_ylabel(series.name or "value")
    ax.set_title(f"tsrnn forecast of {series.name}: next {len(table)} {_unit(table.index)}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")


def plot_forecast(path, series, table, **options):
    """Write :func:`draw_forecast`'s picture to the PNG file ``path``.

    Parameters
    ----------
    path : str or path-like
    series, table, **options
        As :func:`draw_forecast`.

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    OSError
        When the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    try:
        draw_forecast(ax, series, table, **options)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
