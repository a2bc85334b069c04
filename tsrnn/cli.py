"""The ``tsrnn`` command line."""

import argparse
import sys
import time

import numpy as np


def _check(args):
    """Compile the kernels, compare them with the NumPy reference, report timings."""
    from tsrnn import Recurrent
    from tsrnn.kernels.reference import recurrent as ref

    rng = np.random.default_rng(0)
    T, B, F, H = args.steps, args.batch, args.features, args.hidden
    x = rng.standard_normal((T, B, F))
    dy = rng.standard_normal((T, B, H))
    print(f"tsrnn kernel check: steps={T} batch={B} features={F} hidden={H}")
    print(f"{'cell':<18}{'max rel. error vs reference':>28}{'float32 fwd+bwd':>18}")
    worst = 0.0
    for cell, opts in (("rnn", {}), ("lstm", {}), ("gru", {}), ("gru", {"reset_after": False})):
        name = cell + ("" if opts.get("reset_after", True) else " (reset before)")
        layer = Recurrent(cell, F, H, dtype="float64", **opts)
        p = layer.init_params(0)
        y, _, _, cache = layer.forward(p, x)
        dx, g, _, _ = layer.backward(p, cache, dy)
        h0 = np.zeros((B, H))
        if cell == "lstm":
            ry, _, _, rc = ref.lstm_forward(x, h0, h0, p["l0.W_x"], p["l0.W_h"], p["l0.b"])
            rg = ref.lstm_backward(rc, dy, h0, h0)
        elif cell == "gru":
            ry, _, rc = ref.gru_forward(
                x,
                h0,
                p["l0.W_x"],
                p["l0.W_h"],
                p["l0.b"],
                p["l0.b_hn"] if layer.reset_after else None,
                layer.reset_after,
            )
            rg = ref.gru_backward(rc, dy, h0)
        else:
            ry, _, rc = ref.rnn_forward(x, h0, p["l0.W_x"], p["l0.W_h"], p["l0.b"])
            rg = ref.rnn_backward(rc, dy, h0)
        pairs = [(y, ry), (dx, rg["x"])] + [(g[f"l0.{k}"], rg[k]) for k in ("W_x", "W_h", "b")]
        err = max(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300) for a, b in pairs)
        worst = max(worst, err)
        layer32 = Recurrent(cell, F, H, dtype="float32", **opts)
        p32 = layer32.init_params(0)
        layer32.backward(p32, layer32.forward(p32, x)[3], dy)  # compile / warm up
        start = time.perf_counter()
        layer32.backward(p32, layer32.forward(p32, x)[3], dy)
        elapsed = time.perf_counter() - start
        print(f"{name:<18}{err:>28.1e}{elapsed * 1e3:>15.2f} ms")
    ok = worst <= 1e-10
    print("OK: kernels agree with the reference" if ok else "FAILED: kernels disagree")
    return 0 if ok else 1


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit code 1."""


def _load_series(path, column, date_column):
    import pandas as pd

    from tsrnn.datasets import load_airline

    if path is None:
        return load_airline()
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise CLIError(f"file not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path} as CSV: {exc}") from None
    if frame.empty:
        raise CLIError(f"{path} has no rows")
    date_column = date_column or frame.columns[0]
    if date_column not in frame.columns:
        raise CLIError(f"no date column {date_column!r} in {path}; columns: "
                       f"{', '.join(map(str, frame.columns))}")  # fmt: skip
    if column is None:
        others = [c for c in frame.columns if c != date_column]
        if len(others) != 1:
            raise CLIError(f"{path} has several value columns; choose one with --column "
                           f"({', '.join(map(str, others))})")  # fmt: skip
        column = others[0]
    if column not in frame.columns:
        raise CLIError(f"no column {column!r} in {path}; columns: "
                       f"{', '.join(map(str, frame.columns))}")  # fmt: skip
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        bad = frame[column][values.isna()].iloc[0]
        raise CLIError(f"column {column!r} has a non-numeric or missing value: {bad!r}")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame[date_column]))
    except (ValueError, TypeError):
        raise CLIError(f"column {date_column!r} does not hold dates") from None
    series = pd.Series(values.to_numpy(float), index=index, name=str(column))
    from tsrnn.forecasting import infer_freq

    if len(series) < 3:
        raise CLIError(f"{path} has {len(series)} rows: too few to forecast")
    if not (index.is_monotonic_increasing and index.is_unique):
        raise CLIError(f"the dates in {date_column!r} must be increasing and unique")

    if infer_freq(series.index) is None:
        raise CLIError(f"the dates in {date_column!r} are not evenly spaced; "
                       "cannot date the forecast")  # fmt: skip
    return series


def _forecast(args):
    """Fit a Forecaster on a CSV series (or the shipped airline data), print the
    forecast with its 90% interval and the error of a hold-out backtest."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    from tsrnn.forecasting import Forecaster

    series = _load_series(args.file, args.column, args.date_column)
    horizon = args.horizon
    window = args.window or min(24, max(2, (len(series) - 2 * horizon) // 3))
    needed = window + 2 * horizon + 1
    if len(series) < needed:
        raise CLIError(f"the series has {len(series)} values: too short for window={window} "
                       f"and horizon={horizon} (needs at least {needed})")  # fmt: skip
    make = lambda: Forecaster(window=window, horizon=horizon, cell=args.cell,  # noqa: E731
                              max_epochs=args.max_epochs, random_state=args.seed)  # fmt: skip
    held_out = series.iloc[-horizon:]
    test_pred = make().fit(series.iloc[:-horizon]).predict()
    rmse = root_mean_squared_error(held_out, test_pred)
    mae = mean_absolute_error(held_out, test_pred)
    model = make().fit(series)
    forecast = model.predict()
    lower, upper = model.predict_interval(0.9)
    table = pd.DataFrame({"forecast": forecast, "lower_90": lower, "upper_90": upper})
    table.index.name = "date"
    print(
        f"tsrnn forecast of {series.name!r}: {len(series)} values, window={window}, "
        f"horizon={horizon}, cell={args.cell}"
    )
    print(table.round(2).to_string())
    print(f"backtest (last {horizon} values held out): RMSE {rmse:.3f}, MAE {mae:.3f}")
    if args.output:
        table.to_csv(args.output)
        print(f"wrote {args.output}")
    if args.plot:
        _plot(series, table, args.plot)
        print(f"wrote {args.plot}")
    return 0 if np.isfinite(table.to_numpy()).all() else 1


def _plot(series, table, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError("--plot needs matplotlib: pip install 'tsrnn[plot]'") from None
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(series.index, series.to_numpy(), label="history", color="black")
    ax.plot(table.index, table["forecast"], label="forecast", color="tab:blue")
    ax.fill_between(table.index, table["lower_90"], table["upper_90"], alpha=0.3,
                    color="tab:blue", label="90% interval")  # fmt: skip
    ax.set_title(f"tsrnn forecast: {series.name}")
    ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc}") from None
    finally:
        plt.close(fig)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tsrnn", description="Numba-accelerated recurrent networks for time series."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="verify the compiled kernels on this machine")
    check.add_argument("--steps", type=int, default=50)
    check.add_argument("--batch", type=int, default=32)
    check.add_argument("--features", type=int, default=4)
    check.add_argument("--hidden", type=int, default=32)
    check.set_defaults(func=_check)
    fc = sub.add_parser("forecast", help="forecast a series from a CSV file")
    fc.add_argument("file", nargs="?", help="CSV with a date column (default: the shipped "
                    "airline passengers series)")  # fmt: skip
    fc.add_argument("--column", help="the column to forecast (default: the only one)")
    fc.add_argument("--date-column", help="the date column (default: the first)")
    fc.add_argument("--horizon", type=int, default=12, help="steps to forecast")
    fc.add_argument("--window", type=int, help="past steps the network reads")
    fc.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    fc.add_argument("--max-epochs", type=int, default=200)
    fc.add_argument("--seed", type=int, default=0)
    fc.add_argument("--plot", help="write a PNG plot of history, forecast and interval")
    fc.add_argument("--output", help="write the forecast table to this CSV")
    fc.set_defaults(func=_forecast)
    return parser


def main(argv=None):
    """Entry point of the ``tsrnn`` console script."""
    args = build_parser().parse_args(argv)
    for name in ("steps", "batch", "features", "hidden", "horizon", "window", "max_epochs"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            flag = name.replace("_", "-")
            print(f"tsrnn: error: --{flag} must be a positive integer", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except (CLIError, ValueError, OSError) as exc:
        # Problems with the user's data or files (tsrnn raises ValueError for those):
        # one line, no traceback.
        message = " ".join(str(exc).split())
        print(f"tsrnn: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
