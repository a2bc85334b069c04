"""The benchmark still runs (quick mode): a check that it works, not of timings."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_benchmark_quick_mode_writes_results(tmp_path):
    out_file = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out_file.read_text())
    assert [row["cell"] for row in result["rows"]] == ["lstm", "gru", "rnn"]
    assert all(row["tsrnn_samples_per_s"] > 0 for row in result["rows"])
    assert result["machine"]["cpus"] >= 1
    if result["torch"] is not None:
        assert all(row["ratio"] > 0 for row in result["rows"])
    cases = {row["case"] for row in result["cases"]}
    assert cases == {"training", "lstm_gemm_floor", "cnn", "gemm", "latency", "overhead", "memory"}
    floor = next(row for row in result["cases"] if row["case"] == "lstm_gemm_floor")
    # The products alone take part of the step, never more than all of it.
    assert 0 < floor["gemm_ms_per_batch"] < floor["step_ms_per_batch"]
    rates = [
        v for row in result["cases"] for k, v in row.items() if k.endswith(("per_s", "gflops"))
    ]
    assert len(rates) >= 6 and all(v > 0 for v in rates)
    steps = {row["step"]: row["seconds"] for row in result["first_run"]}
    assert set(steps) == {"help_s", "import_s"} and all(v > 0 for v in steps.values())


@pytest.mark.slow
def test_benchmark_layers_part_compares_both_networks_with_torch(tmp_path):
    out_file = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "layers", "--json", out_file],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out_file.read_text())["layers"]
    assert [row["case"] for row in rows] == ["conv_batch_norm", "lstm_fcn"]
    assert all(row["tsrnn_per_s"] > 0 for row in rows)
    # The LSTM-FCN row says how much of a step the convolutions' matrix products take.
    fcn = rows[1]
    assert fcn["gemm_share"] == fcn["gemm_ms_per_batch"] / fcn["step_ms_per_batch"] > 0
    assert "blas_core" in fcn
    if "torch_per_s" in rows[0]:
        assert all(row["ratio"] == row["tsrnn_per_s"] / row["torch_per_s"] for row in rows)
        assert all(len(row["ratio_rounds"]) >= 2 for row in rows)
        # Fits of several epochs, and the figure for fits of one epoch each beside them.
        assert fcn["epochs_per_fit"] >= 2
        assert fcn["ratio_one_epoch_fit"] > 0 and len(fcn["ratio_one_epoch_fit_rounds"]) >= 2


def test_compare_times_the_libraries_alternately_and_reports_each_round(monkeypatch):
    import benchmarks.training as training

    clock, calls, pauses = [0.0], [], []

    class FakeTime:  # each call "takes" a set time; pauses take none
        perf_counter = staticmethod(lambda: clock[0])
        sleep = staticmethod(lambda seconds: pauses.append((seconds, len(calls))))

    def timed(name, seconds):
        def fn():
            clock[0] += seconds[calls.count(name) % len(seconds)]
            calls.append(name)

        return fn

    monkeypatch.setattr(training, "time", FakeTime)
    row = training._compare("case", timed("ours", [1.0]), timed("theirs", [3.0, 2.0]), 10, 1.0)
    # A warm-up pair, then rounds of one call each, in alternating order: both
    # libraries see the same drift, and neither always runs first.
    rounds = [calls[i : i + 2] for i in range(2, len(calls), 2)]
    assert calls[:2] == ["ours", "theirs"] and len(rounds) == training.ROUNDS
    assert rounds == [["ours", "theirs"], ["theirs", "ours"]] * 2 + [["ours", "theirs"]]
    # A pause before every timed call (the other library's idle threads spin).
    assert pauses == [(0.5, n) for n in range(2, len(calls))]
    assert row["ratio"] == 2.0  # best against best: 10/1 against 10/2 per second
    assert len(row["ratio_rounds"]) == training.ROUNDS
    assert set(row["ratio_rounds"]) <= {2.0, 3.0}
    assert row["ratio_median"] == np.median(row["ratio_rounds"])
