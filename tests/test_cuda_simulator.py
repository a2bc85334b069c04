"""The CUDA kernel tests (tests/cuda) on Numba's CUDA simulator, in their own
interpreter: NUMBA_ENABLE_CUDASIM must be set before numba is first imported."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_cuda_kernels_on_the_simulator():
    # Tiles of 4 x 4 threads: tiny matrices span several partial tiles, and the
    # simulator (a Python thread per CUDA thread) stays fast enough for CI.
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", TSRNN_CUDA_TILE="4")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/cuda"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    assert "skipped" not in proc.stdout and "deselected" not in proc.stdout
