"""The ``tsrnn`` command line.

Only the standard library and NumPy are imported here; pandas, scikit-learn, Numba and
the kernels are imported inside the commands, so that ``tsrnn --help`` answers at once.
"""

import argparse
import sys
import time
import warnings

import numpy as np


def _check(args):
    """Compile the kernels, compare them with the NumPy reference, report timings."""
    from tsrnn import Recurrent
    from tsrnn.kernels.reference.dispatch import reference_direction

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
        weights = {k: p[f"l0.{k}"] for k in ("W_x", "W_h", "b", "b_hn") if f"l0.{k}" in p}
        outputs, backward = reference_direction(cell, weights, x, h0, h0, **opts)
        ry, rg = outputs["h_seq"], backward(dy)
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


class CLIError(ValueError):
    """A problem with the user's input: printed as one line, exit code 1."""


# Series whose magnitude is beyond these bounds are rescaled by a power of two before
# fitting (exact, so nothing is lost): squares of their differences would overflow
# to inf, or underflow to 0, in the Forecaster's scaling and in the metrics.
_SAFE_MAGNITUDE = (1e-100, 1e100)


def _say(args, message, end="\n"):
    """Progress for the user, on stderr so that stdout stays the forecast table."""
    if args.progress:
        print(message, end=end, file=sys.stderr, flush=True)


def _kernel_cache_is_cold(cell):
    """Whether the kernels of ``cell`` still have to be compiled on this machine.

    Numba writes one index file (``*.nbi``) per cached kernel; it is looked up where
    the dispatcher itself will look, so the answer follows whichever cache folder is
    in effect (``tsrnn._config.cache_dir()``, ``NUMBA_CACHE_DIR``).
    """
    import os

    from tsrnn._config import cache_dir
    from tsrnn.kernels.cpu import recurrent

    try:
        index = getattr(recurrent, f"{cell}_forward")._cache._cache_file._index_path
        return not os.path.exists(index)
    except AttributeError:  # Numba internals moved: fall back on the folder as a whole
        return not any(cache_dir().rglob("*.nbi"))


def _magnitude_exponent(values):
    """The power of two that brings ``values`` near 1, or 0 when they are safe as is."""
    peak = float(np.max(np.abs(values)))
    if peak == 0 or _SAFE_MAGNITUDE[0] < peak < _SAFE_MAGNITUDE[1]:
        return 0
    return int(np.frexp(peak)[1])


def _longest_horizon(n_values, window):
    """The longest horizon a backtest can hold out.

    The model trained without the last ``horizon`` values still needs
    ``window + horizon + 1`` of them.
    """
    return (n_values - (window or 2) - 1) // 2


def _read_series(args):
    if args.file is None:
        from tsrnn.datasets import load_airline

        series = load_airline()
        series.index.name = "date"
        return series
    from tsrnn._csv_input import read_series

    return read_series(args.file, args.column, args.date_column, args.sep, args.fill)


def _covariate_names(args):
    """The ``--covariates`` columns as a list (empty without the option)."""
    if args.covariates is None:
        if args.future is not None:
            raise CLIError(
                "--future gives the future values of covariates: name their columns "
                "with --covariates"
            )
        return []
    names = [c.strip() for c in args.covariates.split(",")]
    if not all(names):
        raise CLIError(
            f"--covariates must name columns separated by commas, got {args.covariates!r}"
        )
    return names


def _read_with_covariates(args, names):
    """``{series id: (series, history covariates, future covariates)}`` of the CSV.

    The future covariates cover the horizon's time stamps, from the rows after each
    series' end or from the ``--future`` file.
    """
    from tsrnn._csv_covariates import read_future, read_with_covariates
    from tsrnn._csv_input import time_label
    from tsrnn.forecasting._series import future_index

    if args.file is None:
        raise CLIError("--covariates needs a CSV file holding the covariate columns")
    read = read_with_covariates(
        args.file, names, args.column, args.date_column, args.sep, args.fill, args.id_column
    )
    given = None
    if args.future is not None:
        index = next(iter(read.values()))[0].index
        given = read_future(args.future, names, index, args.id_column)
    out = {}
    for key, (series, X) in read.items():
        where = "" if key is None else f"series {key!r}: "
        n, stamps = len(series), future_index(series.index, args.horizon)
        after = X.iloc[n:]
        if given is not None:
            if len(after):
                raise CLIError(
                    f"{where}the future covariates are given twice, as rows after the end "
                    f"of the series in {args.file} and in --future {args.future}; keep one"
                )
            if key not in given:
                raise CLIError(f"{where}the --future file {args.future} has no rows for it")
            after = given[key]
        missing = stamps[~stamps.isin(after.index)]
        if len(missing):
            source = f"--future {args.future}" if given is not None else args.file
            raise CLIError(
                f"{where}the covariates {', '.join(names)} need values on the "
                f"{args.horizon} forecast time stamps; {source} lacks {len(missing)} of "
                f"them (first {time_label(missing[0])}): add rows after the end of the "
                "series (the target empty) or give a --future file"
            )
        out[key] = (series, X.iloc[:n].set_axis(series.index), after.loc[stamps].set_axis(stamps))
    return out


def _timed_fit(args, make, series, what, X=None):
    size = f"{len(series)} series" if isinstance(series, dict) else f"{len(series)} values"
    _say(args, f"fitting the {what} model on {size}...", end="")
    start = time.perf_counter()
    try:
        model = make().fit(series, X=X)
    except BaseException:
        _say(args, " failed")  # ends the line, so that the error gets its own
        raise
    _say(args, f" {time.perf_counter() - start:.1f} s")
    return model


def _fit_both(args, make, scaled, horizon, exponent, X=None):
    """The backtest model's forecast of the held-out end, and the final model."""
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    held_out = scaled.iloc[-horizon:]
    head, tail = (None, None) if X is None else (X.iloc[:-horizon], X.iloc[-horizon:])
    test_pred = _timed_fit(args, make, scaled.iloc[:-horizon], "backtest", head).predict(X=tail)
    rmse = np.ldexp(root_mean_squared_error(held_out, test_pred), exponent)
    mae = np.ldexp(mean_absolute_error(held_out, test_pred), exponent)
    _say(args, f"backtest on the last {horizon} values: RMSE {rmse:.4g}, MAE {mae:.4g}")
    return test_pred, _timed_fit(args, make, scaled, "final", X)


def _forecast(args):
    """Fit a Forecaster on a CSV series (or the shipped airline data) and print it.

    Prints the forecast with its interval and the error of a hold-out backtest.
    """
    import pandas as pd
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib: pip install matplotlib") from None
    names = _covariate_names(args)
    if args.id_column is not None:
        return _forecast_panel(args, names)
    X = X_future = None
    if names:
        series, X, X_future = _read_with_covariates(args, names)[None]
    else:
        series = _read_series(args)
    n, horizon = len(series), args.horizon
    longest = _longest_horizon(n, args.window)
    if longest < 1:
        given = f" with --window {args.window}" if args.window else ""
        raise CLIError(
            f"the series has {n} values: too few to forecast and backtest{given} "
            f"(needs at least {(args.window or 2) + 3})"
        )
    if horizon > longest:
        given = f" with --window {args.window}" if args.window else ""
        raise CLIError(
            f"the series has {n} values: too short for --horizon {horizon} (the "
            f"backtest holds out the last {horizon} values and trains on the rest); "
            f"the longest horizon{given} is {longest}"
        )
    exponent = _magnitude_exponent(series.to_numpy())
    scaled = np.ldexp(series, -exponent)
    make = _maker(args)
    print(f"tsrnn forecast of {series.name!r}: {n} values, horizon={horizon}, cell={args.cell}")
    if _kernel_cache_is_cold(args.cell):
        _say(args, "compiling kernels (first run only)...")
    held_out = scaled.iloc[-horizon:]
    with warnings.catch_warnings(record=True) as caught:
        # Shown after the table as one line each (a traceback-style warning would
        # bury the forecast).
        warnings.simplefilter("always")
        test_pred, model = _fit_both(args, make, scaled, horizon, exponent, X)
    rmse = np.ldexp(root_mean_squared_error(held_out, test_pred), exponent)
    mae = np.ldexp(mean_absolute_error(held_out, test_pred), exponent)

    print(
        f"model: window={model.window_}, {model.n_ensemble}-member ensemble, "
        f"intervals: {model.interval_method_}{_covariates_said(names)}"
    )
    lower, upper = model.predict_interval(args.coverage, X=X_future)
    table = _table(args, model.predict(X=X_future), lower, upper, exponent, series.index.name)
    print(table.to_string(float_format=lambda v: f"{v:.6g}"))
    print(f"backtest (last {horizon} values held out): RMSE {rmse:.6g}, MAE {mae:.6g}")
    _warn(caught)
    if args.output:
        table.to_csv(args.output, float_format="%.6g")
        print(f"wrote {args.output}")
    if args.plot:
        backtest = pd.Series(np.ldexp(np.asarray(test_pred), exponent), index=held_out.index)
        _plot(args, series, table, backtest, {"RMSE": rmse, "MAE": mae})
        print(f"wrote {args.plot}")
    return _finite(table)


def _covariates_said(names):
    return f", covariates: {', '.join(names)}" if names else ""


def _maker(args):
    """A function returning a new Forecaster with the command's options."""
    from tsrnn.forecasting import Forecaster

    lo = round((1 - args.coverage) / 2, 10)
    options = dict(
        window=args.window or "auto",
        horizon=args.horizon,
        cell=args.cell,
        max_epochs=args.max_epochs or "auto",
        quantiles=(lo, 0.5, round(1 - lo, 10)),
        random_state=args.seed,
        calendar="auto" if getattr(args, "calendar", False) else None,
        future_covariates=bool(getattr(args, "covariates", None)),
    )
    if "verbose" in Forecaster().get_params():
        options["verbose"] = int(args.progress)
    return lambda: Forecaster(**options)


def _table(args, forecast, lower, upper, exponent, index_name):
    """The forecast with its interval, in the series' own units."""
    import pandas as pd

    pct = f"{args.coverage * 100:g}"
    table = pd.DataFrame({"forecast": forecast, f"lower_{pct}": lower, f"upper_{pct}": upper})
    table = np.ldexp(table, exponent)
    table.index.name = index_name
    return table


def _warn(caught):
    for message in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
        print(f"tsrnn: warning: {message}", file=sys.stderr)


def _plot(args, series, table, backtest, scores):
    from tsrnn._forecast_plot import plot_forecast

    plot_forecast(
        args.plot, series, table, coverage=args.coverage, backtest=backtest, scores=scores
    )


def _finite(table):
    if not np.isfinite(table.to_numpy()).all():
        print("tsrnn: error: the forecast has NaN or infinite values", file=sys.stderr)
        return 1
    return 0


def _check_panel_horizon(args, panel):
    """A CLIError naming the shortest series when it cannot hold out the horizon."""
    key = min(panel, key=lambda k: len(panel[k]))
    n, horizon = len(panel[key]), args.horizon
    longest = _longest_horizon(n, args.window)
    given = f" with --window {args.window}" if args.window else ""
    if longest < 1:
        raise CLIError(
            f"series {key!r} has {n} values: too few to forecast and backtest{given} "
            f"(needs at least {(args.window or 2) + 3})"
        )
    if horizon > longest:
        raise CLIError(
            f"series {key!r} has {n} values: too short for --horizon {horizon} (the "
            f"backtest holds out the last {horizon} values of every series and trains on "
            f"the rest); the longest horizon{given} is {longest}"
        )


def _stacked(frames, args, horizon=None):
    """Per-series covariate frames as one (series, time) frame; ``horizon`` splits them.

    ``horizon`` > 0 keeps each series' rows before its last ``horizon``, < 0 its last
    ``-horizon`` rows.
    """
    import pandas as pd

    if frames is None:
        return None
    if horizon is not None:
        frames = {
            k: f.iloc[:-horizon] if horizon > 0 else f.iloc[horizon:] for k, f in frames.items()
        }
    return pd.concat(frames, names=[args.id_column, "time"])


def _forecast_panel(args, names):
    """Forecast every series of a long-format CSV with one global Forecaster.

    Prints a forecast table and a backtest per series, and the backtest over all.
    """
    import pandas as pd
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    from tsrnn._csv_input import read_panel

    if args.file is None:
        raise CLIError("--id-column needs a CSV file with one row per series and time")
    X = X_future = None
    if names:
        read = _read_with_covariates(args, names)
        panel = {k: series for k, (series, _, _) in read.items()}
        X = {k: history for k, (_, history, _) in read.items()}
        X_future = _stacked({k: future for k, (_, _, future) in read.items()}, args)
    else:
        panel = read_panel(
            args.file, args.id_column, args.column, args.date_column, args.sep, args.fill
        )
    _check_panel_horizon(args, panel)
    horizon = args.horizon
    exponents = {k: _magnitude_exponent(s.to_numpy()) for k, s in panel.items()}
    scaled = {k: np.ldexp(s, -exponents[k]) for k, s in panel.items()}
    lengths = [len(s) for s in panel.values()]
    name = next(iter(panel.values())).name
    print(
        f"tsrnn forecast of {len(panel)} series of {name!r} by {args.id_column!r}: "
        f"{min(lengths)}-{max(lengths)} values each, horizon={horizon}, cell={args.cell}"
    )
    if _kernel_cache_is_cold(args.cell):
        _say(args, "compiling kernels (first run only)...")
    make = _maker(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        heads = {k: s.iloc[:-horizon] for k, s in scaled.items()}
        head = _timed_fit(args, make, heads, "backtest", _stacked(X, args, horizon))
        test_pred = head.predict(X=_stacked(X, args, -horizon))
        model = _timed_fit(args, make, scaled, "final", _stacked(X, args))
    print(
        f"model: one global model, window={model.window_}, {model.n_ensemble}-member "
        f"ensemble, intervals: {model.interval_method_}{_covariates_said(names)}"
    )
    forecast = model.predict(X=X_future)
    lower, upper = model.predict_interval(args.coverage, X=X_future)
    tables, all_true, all_pred = {}, [], []
    for key, series in panel.items():
        e = exponents[key]
        true = series.to_numpy()[-horizon:]
        pred = np.ldexp(test_pred[key].to_numpy(), e)
        all_true.append(true)
        all_pred.append(pred)
        tables[key] = table = _table(
            args, forecast[key], lower[key], upper[key], e, series.index.name
        )
        print(f"\n{args.id_column} {key!r}:")
        print(table.to_string(float_format=lambda v: f"{v:.6g}"))
        print(
            f"backtest (last {horizon} values held out): RMSE "
            f"{root_mean_squared_error(true, pred):.6g}, MAE {mean_absolute_error(true, pred):.6g}"
        )
    true, pred = np.concatenate(all_true), np.concatenate(all_pred)
    rmse, mae = root_mean_squared_error(true, pred), mean_absolute_error(true, pred)
    print(
        f"\nbacktest over all {len(panel)} series (last {horizon} values of each held out): "
        f"RMSE {rmse:.6g}, MAE {mae:.6g}"
    )
    _warn(caught)
    if args.output:
        long = pd.concat(
            [t.reset_index().assign(**{args.id_column: k}) for k, t in tables.items()],
            ignore_index=True,
        )
        long = long[[args.id_column] + [c for c in long.columns if c != args.id_column]]
        long.to_csv(args.output, index=False, float_format="%.6g")
        print(f"wrote {args.output}")
    if args.plot:
        # A picture of many series is unreadable: the first one is drawn.
        key = next(iter(panel))
        series, table = panel[key], tables[key]
        held_out = series.iloc[-horizon:]
        backtest = pd.Series(
            np.ldexp(test_pred[key].to_numpy(), exponents[key]), index=held_out.index
        )
        scores = {
            "RMSE": root_mean_squared_error(held_out, backtest),
            "MAE": mean_absolute_error(held_out, backtest),
        }
        _plot(args, series.rename(f"{key}"), table, backtest, scores)
        print(f"wrote {args.plot} (series {key!r}, the first of {len(panel)})")
    return max(_finite(t) for t in tables.values())


def _separator(text):
    """A field separator; 'tab' and a typed backslash-t mean the tab character."""
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"must be one character (or 'tab'), got {text!r}")
    return text


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, except where there is none to show."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser():
    """The argument parser of the ``tsrnn`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    from tsrnn import __version__

    parser = argparse.ArgumentParser(
        prog="tsrnn",
        description="Numba-accelerated recurrent networks for time series.",
        epilog="Try: tsrnn forecast --horizon 24 --plot forecast.png (the shipped airline "
        "passengers series), or tsrnn forecast your.csv.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser(
        "check", help="verify the compiled kernels on this machine", formatter_class=_HelpFormatter
    )
    check.add_argument("--steps", type=int, default=50, help="time steps")
    check.add_argument("--batch", type=int, default=32, help="sequences per batch")
    check.add_argument("--features", type=int, default=4, help="input features")
    check.add_argument("--hidden", type=int, default=32, help="hidden units")
    check.set_defaults(func=_check)
    fc = sub.add_parser(
        "forecast",
        help="forecast a series from a CSV file",
        description="Forecast a series from a CSV file with a recurrent network, with a "
        "prediction interval and the error of a backtest on the series' last values.",
        formatter_class=_HelpFormatter,
    )
    fc.add_argument(
        "file",
        nargs="?",
        help="CSV file with a header row: a time column (dates, "
        "years or integer steps) and the values (default: the shipped airline "
        "passengers series)",
    )
    fc.add_argument("--column", help="the column to forecast (default: the only numeric one)")
    fc.add_argument(
        "--id-column",
        help="read a long-format file of several series: this column names the series "
        "of each row; one global model forecasts them all, one block per series (--plot "
        "draws the first series)",
    )
    fc.add_argument(
        "--date-column",
        help="the time column: dates, years or evenly spaced "
        "integers (default: detected from the name and the values)",
    )
    fc.add_argument(
        "--sep",
        type=_separator,
        help="field separator, e.g. ';' or tab (default: detected among , ; tab |)",
    )
    fc.add_argument(
        "--fill",
        choices=["interpolate", "ffill"],
        help="fill missing values by "
        "linear interpolation or with the previous value (default: refuse "
        "them)",
    )
    fc.add_argument("--horizon", type=int, default=12, help="steps to forecast")
    fc.add_argument(
        "--window",
        type=int,
        help="past steps the network reads (default: two seasonal cycles, at least "
        "16, at most half of what the horizon leaves)",
    )
    fc.add_argument(
        "--coverage",
        type=float,
        default=0.9,
        help="nominal coverage of the prediction interval",
    )
    fc.add_argument(
        "--cell", choices=["lstm", "gru", "rnn"], default="lstm", help="recurrent cell"
    )
    fc.add_argument(
        "--max-epochs",
        type=int,
        help="training epochs (default: about 400 gradient steps; early stopping may end sooner)",
    )
    fc.add_argument(
        "--calendar",
        action="store_true",
        help="read calendar features of the dates (month of year, day of week, hour of "
        "day, as the frequency allows) as covariates known over the horizon",
    )
    fc.add_argument(
        "--covariates",
        metavar="COLUMNS",
        help="comma-separated columns of the file known in advance (promotions, "
        "prices, holidays), read over the window and the forecast horizon; their "
        "values on the forecast dates come from rows after the end of the series (the "
        "forecast column left empty) or from --future",
    )
    fc.add_argument(
        "--future",
        metavar="FILE",
        help="CSV file with the covariates' values on the forecast dates: the time "
        "column, the --covariates columns and, with --id-column, the id column",
    )
    fc.add_argument("--seed", type=int, default=0, help="random seed")
    fc.add_argument("--plot", help="write a PNG plot of history, forecast and interval")
    fc.add_argument("--output", help="write the forecast table to this CSV file")
    progress = fc.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        action="store_const",
        const=True,
        help="report progress on stderr (default: when stderr is a terminal)",
    )
    progress.add_argument(
        "-q", "--quiet", dest="progress", action="store_const", const=False, help="no progress"
    )
    fc.set_defaults(func=_forecast)
    return parser


def _usage_error(message):
    print(f"tsrnn: error: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    """Entry point of the ``tsrnn`` console script.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 on success, 1 for a problem with the input, 2 for bad
        arguments (argparse exits with 2 itself).
    """
    args = build_parser().parse_args(argv)
    # Checked here rather than by argparse types so that the message is one line and
    # main() returns 2 instead of raising SystemExit.
    for name in ("steps", "batch", "features", "hidden", "horizon", "window", "max_epochs"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            return _usage_error(f"--{name.replace('_', '-')} must be a positive integer")
    coverage = getattr(args, "coverage", 0.5)
    if not 0 < coverage < 1:
        return _usage_error(f"--coverage must be between 0 and 1, got {coverage:g}")
    if getattr(args, "func", None) is _forecast and args.progress is None:
        args.progress = sys.stderr.isatty()
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:
        # Problems with the user's data or files (tsrnn raises ValueError for those):
        # one line, no traceback.
        message = " ".join(str(exc).split())
        print(f"tsrnn: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
