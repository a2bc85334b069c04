"""Forecaster against statistical baselines: ``python -m benchmarks.forecast``.

Each series is split into its history and a hold-out of ``horizon`` steps. tsrnn's
default Forecaster is fitted with single members (``n_ensemble=1``, several seeds:
mean and standard deviation) and as the default ensemble (its scores at seed 0, and
its MASE, coverage and width at every seed); statsforecast's
SeasonalNaive, AutoETS and AutoARIMA are fitted on the same history when
statsforecast is installed (an optional dependency: ``pip install statsforecast``).
Reported per series and model: MASE (scaled by the in-sample seasonal naive MAE),
RMSE, the 90% interval's coverage and mean width, and fit time (CPU and wall).

Series: the shipped airline, sunspots and co2 (monthly means) series, and the
series pmdarima ships inside its package (wineind, woolyrnq, austres, ausbeer,
lynx) when pmdarima is installed.

``--timing`` measures instead the speed targets: a default fit of a 150-point and
of a 732-point monthly series (warm compile cache), the CPU time of the 150-point
fit while two other processes keep both cores busy, and the command line's main
job (``tsrnn forecast --horizon 24 --plot``) with a warm and with an empty cache.
CPU time is reported next to wall time: on a shared machine wall time measures the
neighbours as much as tsrnn.

``--panel N`` fits instead one global default Forecaster on a synthetic panel of
``N`` monthly series of 100 to 300 points (each with its own level, trend, yearly
season, noise and start date; ``--panel-seed`` draws another panel), holds out the
last 12 points of each, and reports the
fit's CPU and wall time, the mean MASE of the global model and of the seasonal naive
forecast, and the 90% interval's coverage and mean width (relative to each series'
level).

    python -m benchmarks.forecast [--seeds 3] [--timing] [--panel N] [--json FILE]
        [--conditions TEXT]

``--conditions`` records how the machine was loaded (and anything else a reader of
the results file needs) in its ``machine`` entry.
"""

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks.recurrent import _machine
from tsrnn.datasets import load_airline, load_co2, load_sunspots
from tsrnn.forecasting import Forecaster, UncalibratedIntervalWarning

COVERAGE = 0.9


def _shipped():
    airline = load_airline()
    airline.index.freq = "MS"
    sunspots = load_sunspots()
    co2 = load_co2().resample("MS").mean().interpolate()
    return [
        ("airline", airline, 12, 24),
        ("sunspots", sunspots, 1, 10),
        ("co2", co2, 12, 24),
    ]


def _pmdarima():
    try:
        from pmdarima import datasets
    except ImportError:
        return []
    out = []
    for name, freq, m, h, start in (
        ("wineind", "MS", 12, 12, "1980-01-01"),
        ("woolyrnq", "QS", 4, 8, "1965-01-01"),
        ("austres", "QS", 4, 8, "1971-04-01"),
        ("ausbeer", "QS", 4, 8, "1956-01-01"),
        ("lynx", "YS", 1, 10, "1821-01-01"),
    ):
        values = np.asarray(getattr(datasets, f"load_{name}")(), dtype=float)
        values = values[: np.flatnonzero(~np.isnan(values))[-1] + 1]  # ausbeer ends in NaN
        index = pd.date_range(start, periods=len(values), freq=freq)
        out.append((name, pd.Series(values, index=index, name=name), m, h))
    return out


def _timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def _scores(train, test, pred, lower, upper, m, cpu, wall):
    train, test = np.asarray(train, float), np.asarray(test, float)
    pred, lower, upper = (np.asarray(a, float) for a in (pred, lower, upper))
    lag = m if len(train) > m else 1
    scale = np.mean(np.abs(train[lag:] - train[:-lag]))
    return {
        "mase": float(np.mean(np.abs(test - pred)) / scale),
        "rmse": float(np.sqrt(np.mean((test - pred) ** 2))),
        "coverage": float(np.mean((test >= lower) & (test <= upper))),
        "width": float(np.mean(upper - lower)),
        "cpu_s": cpu,
        "wall_s": wall,
    }


def _tsrnn(train, test, m, h, **params):
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UncalibratedIntervalWarning)
            return Forecaster(horizon=h, **params).fit(train)

    model, cpu, wall = _timed(fit)
    lower, upper = model.predict_interval(COVERAGE)
    return _scores(train, test, model.predict(), lower, upper, m, cpu, wall)


def _statsforecast(train, test, m, h):
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive
    except ImportError:
        return {}
    df = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(train)), "y": train.to_numpy()})
    out = {}
    level = int(COVERAGE * 100)
    for model in (
        SeasonalNaive(season_length=m),
        AutoETS(season_length=m),
        AutoARIMA(season_length=m),
    ):
        name = type(model).__name__
        sf = StatsForecast(models=[model], freq=1, n_jobs=1)

        def fit(sf=sf):
            return sf.forecast(df=df, h=h, level=[level])

        fc, cpu, wall = _timed(fit)
        out[name] = _scores(
            train, test, fc[name], fc[f"{name}-lo-{level}"], fc[f"{name}-hi-{level}"], m, cpu, wall
        )
    return out


def run(seeds=3, names=None):
    """Scores per series and model (a dict), printed as a table as it goes."""
    Forecaster(horizon=2, window=4, max_epochs=1, n_ensemble=1).fit(np.arange(20.0))  # compile
    results = {}
    for name, y, m, h in _shipped() + _pmdarima():
        if names and name not in names:
            continue
        train, test = y.iloc[:-h], y.iloc[-h:]
        row = {"n": len(y), "season": m, "horizon": h}
        singles = [_tsrnn(train, test, m, h, n_ensemble=1, random_state=s) for s in range(seeds)]
        row["tsrnn_single"] = {
            key: [
                float(np.mean([s[key] for s in singles])),
                float(np.std([s[key] for s in singles])),
            ]
            for key in singles[0]
        }
        ensembles = [_tsrnn(train, test, m, h, random_state=s) for s in range(seeds)]
        row["tsrnn_ensemble"] = ensembles[0]
        # The default ensemble at every seed: whether a margin holds or was the seed's luck.
        row["tsrnn_ensemble_seeds"] = {
            key: [e[key] for e in ensembles] for key in ("mase", "coverage", "width")
        }
        row.update(_statsforecast(train, test, m, h))
        results[name] = row
        _print_row(name, row)
    return results


def _print_row(name, row):
    print(f"{name} (n={row['n']}, m={row['season']}, h={row['horizon']})")
    for model, s in row.items():
        if not isinstance(s, dict):
            continue
        if model == "tsrnn_ensemble_seeds":  # one value per seed
            cells = [f"{k} " + "/".join(f"{x:.3g}" for x in v) for k, v in s.items()]
        else:  # a value, or [mean, standard deviation]
            cells = [
                f"{k} {v[0]:.3g}±{v[1]:.2g}" if isinstance(v, list) else f"{k} {v:.3g}"
                for k, v in s.items()
            ]
        print(f"  {model:16s} " + "  ".join(cells))


def _monthly(n, seed=0):
    """A monthly series of ``n`` points with trend, yearly season and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
    return pd.Series(values, index=pd.date_range("1950-01-01", periods=n, freq="MS"))


def synthetic_panel(n_series, seed=0):
    """``n_series`` monthly series of 100-300 points: level, trend, season, noise."""
    rng = np.random.default_rng(seed)
    panel = {}
    for i in range(n_series):
        n = int(rng.integers(100, 301))
        t = np.arange(n)
        level, trend = rng.uniform(50, 500), rng.normal(0, 0.005)
        season = rng.uniform(0.02, 0.2) * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 2 * np.pi))
        noise = rng.normal(0, rng.uniform(0.01, 0.05), n)
        start = pd.Timestamp("1990-01-01") + pd.DateOffset(months=int(rng.integers(0, 120)))
        values = level * (1 + trend * t + season + noise)
        panel[f"s{i}"] = pd.Series(values, index=pd.date_range(start, periods=n, freq="MS"))
    return panel


def panel_benchmark(n_series, horizon=12, seed=0):
    """One global fit on a synthetic panel: its time and scores (printed and returned)."""
    panel = synthetic_panel(n_series, seed)
    train = {k: s.iloc[:-horizon] for k, s in panel.items()}

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UncalibratedIntervalWarning)
            return Forecaster(horizon=horizon, random_state=seed).fit(train)

    model, cpu, wall = _timed(fit)
    pred = model.predict()
    lower, upper = model.predict_interval(COVERAGE)
    rows = []
    for k, s in panel.items():
        history, test = s.to_numpy()[:-horizon], s.to_numpy()[-horizon:]
        naive = np.resize(history[-12:], horizon)
        scale = np.mean(np.abs(history[12:] - history[:-12]))
        rows.append(
            {
                "mase": np.mean(np.abs(test - pred[k].to_numpy())) / scale,
                "naive_mase": np.mean(np.abs(test - naive)) / scale,
                "coverage": np.mean((test >= lower[k].to_numpy()) & (test <= upper[k].to_numpy())),
                "relative_width": np.mean(upper[k].to_numpy() - lower[k].to_numpy())
                / history.mean(),
            }
        )
    scores = pd.DataFrame(rows).mean()
    baselines = _panel_baselines(train, panel, horizon)
    out = {
        "n_series": n_series,
        "seed": seed,
        "n_points": int(sum(len(s) for s in train.values())),
        "window": model.window_,
        "fit_cpu_s": cpu,
        "fit_wall_s": wall,
        **{k: float(v) for k, v in scores.items()},
        **baselines,
    }
    print(f"global fit on {n_series} series: {out}")
    return out


def _panel_baselines(train, panel, horizon):
    """statsforecast's SeasonalNaive and AutoETS on the same panel, when installed."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, SeasonalNaive
    except ImportError:
        return {}
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": k, "ds": s.index, "y": s.to_numpy()})
            for k, s in train.items()
        ]
    )
    level = int(COVERAGE * 100)
    out = {}
    for model in (SeasonalNaive(season_length=12), AutoETS(season_length=12)):
        name = type(model).__name__
        sf = StatsForecast(models=[model], freq="MS", n_jobs=1)
        fc, cpu, wall = _timed(lambda sf=sf: sf.forecast(df=df, h=horizon, level=[level]))
        rows = []
        for k, s in panel.items():
            part = fc[fc["unique_id"] == k]
            history, test = s.to_numpy()[:-horizon], s.to_numpy()[-horizon:]
            scale = np.mean(np.abs(history[12:] - history[:-12]))
            lower, upper = (
                part[f"{name}-lo-{level}"].to_numpy(),
                part[f"{name}-hi-{level}"].to_numpy(),
            )
            rows.append(
                {
                    "mase": np.mean(np.abs(test - part[name].to_numpy())) / scale,
                    "coverage": np.mean((test >= lower) & (test <= upper)),
                    "relative_width": np.mean(upper - lower) / history.mean(),
                }
            )
        scores = pd.DataFrame(rows).mean()
        out[name] = {"cpu_s": cpu, "wall_s": wall, **{k: float(v) for k, v in scores.items()}}
    return out


def _spin(stop):
    while not stop.is_set():
        pass


def _main_job(cache):
    """CPU and wall seconds of ``tsrnn forecast --horizon 24 --plot`` in a fresh process."""
    env = dict(os.environ, TSRNN_CACHE_DIR=cache)
    env.pop("NUMBA_CACHE_DIR", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tsrnn",
                "forecast",
                "--horizon",
                "24",
                "--plot",
                os.path.join(out, "forecast.png"),
            ],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the main job failed: {done.stderr.strip()[-500:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"cpu_s": cpu, "wall_s": wall}


def timing(repeats=3):
    """The speed targets (see the module docstring), printed and returned."""
    out = {}
    Forecaster(horizon=2, window=4, max_epochs=1, n_ensemble=1).fit(np.arange(20.0))
    for n in (150, 732):
        y = _monthly(n)
        runs = [_timed(lambda y=y: Forecaster(random_state=0).fit(y))[1:] for _ in range(repeats)]
        out[f"fit_{n}_monthly"] = {
            "cpu_s": min(r[0] for r in runs),
            "wall_s": min(r[1] for r in runs),
        }
        print(f"default fit, {n}-point monthly series: {out[f'fit_{n}_monthly']}")
    y = _monthly(150)
    quiet = min(_timed(lambda: Forecaster(random_state=0).fit(y))[1] for _ in range(repeats))
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(2)]
    for p in spinners:
        p.start()
    try:
        busy = min(_timed(lambda: Forecaster(random_state=0).fit(y))[1] for _ in range(repeats))
    finally:
        stop.set()
        for p in spinners:
            p.join()
    out["busy_over_quiet_cpu"] = {"quiet_cpu_s": quiet, "busy_cpu_s": busy, "ratio": busy / quiet}
    print(f"150-point fit with both cores kept busy: {out['busy_over_quiet_cpu']}")
    with tempfile.TemporaryDirectory() as cache:
        out["main_job_cold"] = _main_job(cache)
        out["main_job_warm"] = _main_job(cache)
    print(f"main job, empty cache: {out['main_job_cold']}; warm: {out['main_job_warm']}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--series", nargs="*", help="run only these series")
    parser.add_argument("--timing", action="store_true", help="measure the speed targets")
    parser.add_argument("--panel", type=int, help="fit one model on this many synthetic series")
    parser.add_argument("--panel-seed", type=int, default=0, help="draw of the synthetic panel")
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--conditions", help="how the machine was loaded, for the results file")
    args = parser.parse_args(argv)
    results = {"machine": _machine()}
    if args.conditions:
        results["machine"]["conditions"] = args.conditions
    if args.timing:
        results["timing"] = timing()
    elif args.panel:
        results["panel"] = panel_benchmark(args.panel, seed=args.panel_seed)
    else:
        results["series"] = run(args.seeds, args.series)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
