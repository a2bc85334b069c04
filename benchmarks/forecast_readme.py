"""Write the forecasting results into benchmarks/README.md.

``python -m benchmarks.forecast_readme [--series FILE] [--panel FILE] [--check]``
reads the results of ``python -m benchmarks.forecast --json FILE`` (default
``results/forecast-2core-s8.json``) and of ``python -m benchmarks.forecast --panel 200
--json FILE`` (default ``results/forecast-panel200-2core-s8.json``), renders the MASE
table, the interval table and the list of where tsrnn still loses, and replaces the
text between ``<!-- forecast:start -->`` and ``<!-- forecast:end -->`` in
benchmarks/README.md. ``--check`` exits 1 when the README differs from the results.
"""

import argparse
import json
import sys

import numpy as np

from benchmarks.readme_results import ROOT, write_readme

README = ROOT / "benchmarks" / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- forecast:start -->", "<!-- forecast:end -->"
BASELINES = ("SeasonalNaive", "AutoETS", "AutoARIMA")


def _seeds(series):
    """Seeds the ensemble was fitted at in every row (0 when the file predates them)."""
    counts = [len(row.get("tsrnn_ensemble_seeds", {}).get("mase", [])) for row in series.values()]
    return min(counts) if counts else 0


def _mase_table(series):
    seeds = _seeds(series)
    by_seed = [f"tsrnn ensemble, {seeds} seeds (mean, max)"] if seeds else []
    lines = [
        "| series | tsrnn ensemble (default) | "
        + "".join(f"{c} | " for c in by_seed)
        + "tsrnn single (3 seeds) | "
        + " | ".join(BASELINES)
        + " |",
        "|---" * (3 + len(by_seed) + len(BASELINES)) + "|",
    ]
    for name, row in series.items():
        single = row["tsrnn_single"]["mase"]
        cells = [f"{row['tsrnn_ensemble']['mase']:.3f}"]
        if seeds:
            values = row["tsrnn_ensemble_seeds"]["mase"]
            cells.append(f"{np.mean(values):.3f}, {max(values):.3f}")
        cells.append(f"{single[0]:.3f} ± {single[1]:.3f}")
        cells += [f"{row[b]['mase']:.3f}" for b in BASELINES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    means = [np.mean([row["tsrnn_ensemble"]["mase"] for row in series.values()])]
    if seeds:
        means.append(np.mean([row["tsrnn_ensemble_seeds"]["mase"] for row in series.values()]))
    means.append(np.mean([row["tsrnn_single"]["mase"][0] for row in series.values()]))
    means += [np.mean([row[b]["mase"] for row in series.values()]) for b in BASELINES]
    cells = [f"**{means[0]:.3f}**"] + [f"{m:.3f}" for m in means[1:]]
    if seeds:
        worst = np.mean([max(row["tsrnn_ensemble_seeds"]["mase"]) for row in series.values()])
        cells[1] += f", {worst:.3f}"
    lines.append(f"| **mean ({len(series)})** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _interval_table(series):
    lines = [
        "| series | tsrnn coverage | tsrnn width / AutoARIMA's | AutoETS coverage "
        "| AutoARIMA coverage |",
        "|---|---|---|---|---|",
    ]
    for name, row in series.items():
        ours, arima = row["tsrnn_ensemble"], row["AutoARIMA"]
        lines.append(
            f"| {name} | {ours['coverage']:.3f} | {ours['width'] / arima['width']:.2f} | "
            f"{row['AutoETS']['coverage']:.3f} | {arima['coverage']:.3f} |"
        )
    cov, ratio = _interval_means(series)
    ets = np.mean([row["AutoETS"]["coverage"] for row in series.values()])
    arima = np.mean([row["AutoARIMA"]["coverage"] for row in series.values()])
    lines.append(f"| **mean** | **{cov:.3f}** | **{ratio:.2f}** | {ets:.3f} | {arima:.3f} |")
    return "\n".join(lines)


def _interval_means(series):
    coverage = np.mean([row["tsrnn_ensemble"]["coverage"] for row in series.values()])
    ratio = np.mean(
        [row["tsrnn_ensemble"]["width"] / row["AutoARIMA"]["width"] for row in series.values()]
    )
    return coverage, ratio


def _losses(series, panel):
    """Sentences naming where tsrnn's ensemble still loses, and the panel's scores."""
    mase = {name: row["tsrnn_ensemble"]["mase"] for name, row in series.items()}
    naive = [n for n, m in mase.items() if m >= series[n]["SeasonalNaive"]["mase"]]
    if _seeds(series):
        naive = [
            n
            for n, row in series.items()
            if max(row["tsrnn_ensemble_seeds"]["mase"]) >= row["SeasonalNaive"]["mase"]
        ]
    better = {b: [n for n, m in mase.items() if series[n][b]["mase"] < m] for b in BASELINES[1:]}
    out = [
        "worse than SeasonalNaive"
        + (f" at one of {_seeds(series)} seeds or more" if _seeds(series) else "")
        + " on "
        + (", ".join(naive) if naive else "no series"),
        *(f"{b} is better on {', '.join(names) or 'no series'}" for b, names in better.items()),
    ]
    text = "Where tsrnn still loses: " + "; ".join(out) + "."
    if panel:
        ets = panel.get("AutoETS", {})
        text += (
            f" On the synthetic panel of {panel['n_series']} series the global model's MASE "
            f"is {panel['mase']:.3f} against AutoETS's {ets.get('mase', float('nan')):.3f} "
            f"(SeasonalNaive {panel['naive_mase']:.3f}), its 90% band covers "
            f"{panel['coverage']:.3f} at a mean width of {panel['relative_width']:.3f} of the "
            f"series' level (AutoETS: {ets.get('coverage', float('nan')):.3f} at "
            f"{ets.get('relative_width', float('nan')):.3f})."
        )
    return text


def render(series, panel=None, conditions=""):
    """The README section for the benchmark results ``series`` (and ``panel``)."""
    coverage, ratio = _interval_means(series)
    parts = [
        "MASE on the hold-out (lower is better):",
        _mase_table(series),
        f"90% intervals: mean coverage {coverage:.3f} (target [0.85, 0.97]), mean width "
        f"{ratio:.2f}x AutoARIMA's (target at most 1.3x):",
        _interval_table(series),
        _losses(series, panel),
    ]
    if conditions:
        parts.append(f"Measured on: {conditions}.")
    return "\n\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default=RESULTS / "forecast-2core-s8.json")
    parser.add_argument("--panel", default=RESULTS / "forecast-panel200-2core-s8.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the README is stale")
    args = parser.parse_args(argv)
    results = json.loads(open(args.series).read())
    panel = json.loads(open(args.panel).read())["panel"]
    text = render(results["series"], panel, results["machine"].get("conditions", ""))
    if args.check:
        current = README.read_text().split(START)[1].split(END)[0]
        if current.strip() != text.strip():
            print("benchmarks/README.md's forecasting tables differ from the results")
            return 1
        return 0
    write_readme(text, README, START, END)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
