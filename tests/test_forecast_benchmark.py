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
