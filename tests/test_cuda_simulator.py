"""The CUDA kernel tests (tests/cuda) on Numba's CUDA simulator, in their own
interpreter: NUMBA_ENABLE_CUDASIM must be set before numba is first imported."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import pytest_summary

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_cuda_kernels_on_the_simulator():
    # Tiles of 4 x 4 threads: tiny matrices span several partial tiles, and the
    # simulator (a Python thread per CUDA thread) stays fast enough for CI.
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", TSRNN_CUDA_TILE="4")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/cuda"]
    signatures = os.environ.get("TSRNN_CUDA_SIGNATURES")
    if signatures:
        # CI's PTX gate: the same run also records every kernel launch's argument types,
        # which .ci/run then compiles for a real GPU (benchmarks/tools/ptx_check.py).
        cmd = [sys.executable, "-m", "benchmarks.tools.ptx_check", "record", signatures]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    counts = pytest_summary(proc.stdout)
    assert counts.get("passed", 0) > 0 and set(counts) == {"passed"}, counts


@pytest.mark.slow
def test_gpu_benchmark_runs_on_the_simulator(tmp_path):
    # Only checks that the script works end to end (simulated timings mean nothing).
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", TSRNN_CUDA_TILE="4", TSRNN_CUDA_GEMM="direct")
    out_file = tmp_path / "gpu.json"
    cmd = [sys.executable, "-m", "benchmarks.gpu", "--quick", "--json", str(out_file)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out_file.read_text())
    assert result["gpu"]["name"].startswith("Numba CUDA simulator")
    assert [row["cell"] for row in result["rows"]] == ["lstm", "gru"]
    for row in result["rows"]:
        assert row["tsrnn_cuda_per_s"] > 0 and row["tsrnn_cpu_per_s"] > 0
        assert row["cuda_over_cpu"] == row["tsrnn_cuda_per_s"] / row["tsrnn_cpu_per_s"]


def test_gpu_benchmark_without_a_gpu_says_why():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    probe = "from tsrnn.backend import cuda_status; print(cuda_status()[0])"
    has_gpu = (
        subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
        ).stdout.strip()
        == "True"
    )
    if has_gpu:
        pytest.skip("this machine has a usable GPU")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "no usable CUDA GPU" in proc.stderr and "pip install 'tsrnn[cuda]'" in proc.stderr
