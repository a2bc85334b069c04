"""Markdown tables of the recorded benchmark results, for the documentation.

``python -m benchmarks.tables`` prints them; the docs build (``docs/_ext/tsrnn_docs.py``)
writes them into the Benchmarks page. Each table names the results file and the
machine it comes from. The README's results table is rendered by
``benchmarks.readme_results.table``, the function that writes it into the README.
"""

import json
import statistics
from pathlib import Path

from benchmarks.readme_results import table as readme_table

RESULTS = Path(__file__).resolve().parent / "results"

# The latest run of each benchmark.
SPEED = "all-2core-s6.json"
ACCURACY = "accuracy-s8.json"
# Session 5, before the classifier's default became resnet with a plateau schedule.
ACCURACY_BASELINE = "accuracy-baseline-s5.json"
ACCURACY_PRESETS = "accuracy-presets-s5.json"
FORECAST = "forecast-2core-s8.json"
README = "readme.json"
# The training-epoch cases of ``python -m benchmarks --only layers``.
LAYER_CASES = {
    "conv_batch_norm": "Conv1D-BatchNorm-ReLU stack",
    "lstm_fcn": "LSTM-FCN (LSTM(8) beside an FCN of width 64)",
}
PRESETS = ["recurrent", "fcn", "resnet", "lstm-fcn"]
FORECAST_BASELINES = ["SeasonalNaive", "AutoETS", "AutoARIMA"]


def load(name):
    """The parsed results file ``benchmarks/results/<name>``."""
    return json.loads((RESULTS / name).read_text())


def machine_line(machine):
    """One line naming the machine and versions of a results file's ``machine`` entry."""
    if isinstance(machine, str):
        return machine
    parts = [f"{machine.get('cpus', '?')} cores, {machine.get('processor', '?')}"]
    versions = ", ".join(
        f"{name} {machine[key]}"
        for name, key in [("Python", "python"), ("numba", "numba"), ("numpy", "numpy")]
        if key in machine
    )
    return "; ".join([*parts, versions]) if versions else parts[0]


def markdown_table(header, rows):
    """A Markdown table from a header and rows of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _source(name, data, extra=""):
    return f"\n`results/{name}`; measured on {machine_line(data['machine'])}{extra}.\n"


def _shape(row):
    return "x".join(str(row[k]) for k in ("batch", "n_steps", "n_features", "hidden"))


def speed(name=SPEED):
    """Training speed against PyTorch CPU: samples per second and their ratio."""
    data = load(name)
    rows = [
        [
            c["cell"],
            _shape(c),
            f"{c['tsrnn_per_s']:,.0f}",
            f"{c['torch_per_s']:,.0f}",
            f"{c['ratio']:.2f}",
        ]
        for c in data["cases"]
        if c["case"] == "training"
    ]
    rows += [
        [
            "Conv1D(64,3)-MaxPool(2)-Dense",
            f"{c['batch']}x{c['n_steps']}x1",
            f"{c['tsrnn_per_s']:,.0f}",
            f"{c['torch_per_s']:,.0f}",
            f"{c['ratio']:.2f}",
        ]
        for c in data["cases"]
        if c["case"] == "cnn"
    ]
    rows += [
        [
            LAYER_CASES[c["case"]],
            f"{c['batch']}x{c['n_steps']}x1",
            f"{c['tsrnn_per_s']:,.0f}",
            f"{c['torch_per_s']:,.0f}",
            f"{c['ratio']:.2f}",
        ]
        for c in data.get("layers", [])
        if c["case"] in LAYER_CASES
    ]
    header = [
        "network",
        "batch x steps x features x hidden",
        "tsrnn samples/s",
        "PyTorch samples/s",
        "ratio (> 1: tsrnn faster)",
    ]
    torch = f" (PyTorch {data['torch']})" if "torch" in data else ""
    return markdown_table(header, rows) + _source(name, data, torch)


def _mean_sd(values):
    # np.std, as benchmarks.accuracy prints it.
    sd = statistics.pstdev(values)
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def accuracy(name=ACCURACY):
    """Test accuracy of the default classifier and the presets against the baselines."""
    from benchmarks.accuracy import readme_table as accuracy_table

    data = load(name)
    return accuracy_table(data) + _source(name, data)


def accuracy_baseline(name=ACCURACY_BASELINE):
    """Test accuracy of the default classifier against 1-NN and MiniRocket."""
    data = load(name)
    rows, means = [], ([], [], [])
    for row in data["rows"]:
        runs = [run["accuracy"] for run in row["tsrnn_default"]]
        values = (
            statistics.mean(runs),
            row["1nn_euclidean"]["accuracy"],
            row["minirocket"]["accuracy"],
        )
        for column, value in zip(means, values, strict=True):
            column.append(value)
        rows.append([row["dataset"], _mean_sd(runs), f"{values[1]:.3f}", f"{values[2]:.3f}"])
    rows.append(["**mean**", *(f"{statistics.mean(column):.3f}" for column in means)])
    header = [
        "dataset",
        f"tsrnn default (mean ± sd, {len(runs)} seeds)",
        "1-NN Euclidean",
        "MiniRocket",
    ]
    return markdown_table(header, rows) + _source(name, data)


def accuracy_presets(name=ACCURACY_PRESETS):
    """Test accuracy of each architecture preset (seed 0) against 1-NN and MiniRocket."""
    data = load(name)
    rows, columns = [], [[] for _ in range(len(PRESETS) + 2)]
    for row in data["rows"]:
        values = [row["presets"][preset]["accuracy"] for preset in PRESETS]
        values += [row["1nn_euclidean"]["accuracy"], row["minirocket"]["accuracy"]]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        rows.append([row["dataset"], *(f"{value:.3f}" for value in values)])
    rows.append([f"**mean ({len(rows)})**", *(f"{statistics.mean(c):.3f}" for c in columns)])
    header = ["dataset", *PRESETS, "1-NN Euclidean", "MiniRocket"]
    return markdown_table(header, rows) + _source(name, data)


def forecast(name=FORECAST):
    """Hold-out MASE of the Forecaster against statsforecast's models."""
    data = load(name)
    rows, columns = [], [[] for _ in range(len(FORECAST_BASELINES) + 2)]
    for series, result in data["series"].items():
        single_mean, single_sd = result["tsrnn_single"]["mase"]
        values = [result["tsrnn_ensemble"]["mase"], single_mean]
        values += [result[model]["mase"] for model in FORECAST_BASELINES]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        cells = [f"{values[0]:.3f}", f"{single_mean:.3f} ± {single_sd:.3f}"]
        rows.append([series, *cells, *(f"{value:.3f}" for value in values[2:])])
    rows.append(["**mean**", *(f"{statistics.mean(c):.3f}" for c in columns)])
    header = [
        "series",
        "tsrnn ensemble (default)",
        "tsrnn single (mean ± sd)",
        *FORECAST_BASELINES,
    ]
    return markdown_table(header, rows) + _source(name, data)


def readme(name=README):
    """The README's results table: each example's headline result."""
    data = load(name)
    return readme_table(data["rows"], data["machine"])


def markdown():
    """Every table, under its heading, as one Markdown document."""
    sections = [
        ("Training speed against PyTorch CPU", speed),
        ("Classification accuracy: the default and the presets against the baselines", accuracy),
        ("Session 5, the earlier recurrent default against the baselines", accuracy_baseline),
        ("Session 5, the architecture presets at seed 0", accuracy_presets),
        ("Forecasting against statsforecast (MASE, lower is better)", forecast),
        ("The examples' headline results", readme),
    ]
    return "".join(f"## {title}\n\n{render()}\n" for title, render in sections)


if __name__ == "__main__":
    print(markdown())
