"""The forecasting benchmark runs: a check that it works, not of its figures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_forecast_benchmark_scores_one_series(tmp_path):
    out_file = tmp_path / "forecast.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.forecast",
            "--series",
            "airline",
            "--seeds",
            "1",
            "--json",
            str(out_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out_file.read_text())
    row = result["series"]["airline"]
    assert (row["n"], row["season"], row["horizon"]) == (144, 12, 24)
    ensemble = row["tsrnn_ensemble"]
    assert set(ensemble) == {"mase", "rmse", "coverage", "width", "cpu_s", "wall_s"}
    assert 0 < ensemble["mase"] < 2.49  # seasonal naive's MASE on this split
    assert 0 <= ensemble["coverage"] <= 1 and ensemble["width"] > 0


def _scores(mase, coverage=0.9, width=10.0):
    return {"mase": mase, "coverage": coverage, "width": width}


def test_forecast_readme_renders_the_tables_and_where_tsrnn_loses():
    from benchmarks.forecast_readme import render

    def row(ours, naive):
        return {
            "tsrnn_ensemble": _scores(ours, 1.0, 13.0),
            "tsrnn_single": {"mase": [ours + 0.1, 0.02]},
            "SeasonalNaive": _scores(naive),
            "AutoETS": _scores(0.5),
            "AutoARIMA": _scores(0.9, 0.8, 10.0),
        }

    text = render({"a": row(0.4, 1.0), "b": row(1.2, 1.1)}, conditions="a test machine")
    assert "| a | 0.400 | 0.500 ± 0.020 | 1.000 | 0.500 | 0.900 |" in text
    assert "| **mean (2)** | **0.800** | 0.900 | 1.050 | 0.500 | 0.900 |" in text
    assert "mean coverage 1.000 (target [0.85, 0.97]), mean width 1.30x" in text
    assert (
        "worse than SeasonalNaive on b; AutoETS is better on b; AutoARIMA is better on b" in text
    )
    assert text.endswith("Measured on: a test machine.\n")


def test_forecast_readme_shows_the_ensemble_at_every_seed_and_its_worst():
    from benchmarks.forecast_readme import render

    def row(seeds, naive):
        return {
            "tsrnn_ensemble": _scores(seeds[0]),
            "tsrnn_ensemble_seeds": {"mase": seeds},
            "tsrnn_single": {"mase": [1.0, 0.1]},
            "SeasonalNaive": _scores(naive),
            "AutoETS": _scores(0.5),
            "AutoARIMA": _scores(0.9),
        }

    # b beats seasonal naive at seed 0 but not at seed 2.
    text = render({"a": row([0.4, 0.6, 0.5], 1.0), "b": row([1.0, 1.05, 1.2], 1.1)})
    assert "| a | 0.400 | 0.500, 0.600 | 1.000 ± 0.100 | 1.000 | 0.500 | 0.900 |" in text
    assert "| **mean (2)** | **0.700** | 0.792, 0.900 | 1.000 |" in text
    assert "worse than SeasonalNaive at one of 3 seeds or more on b;" in text
