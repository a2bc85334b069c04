"""Run the validation tests and odd-shape kernel tests with NUMBA_BOUNDSCHECK=1.

Bounds checking must be set before Numba compiles, so the tests run in a fresh
interpreter with their own (empty) Numba cache: a kernel cached without bounds
checks would otherwise be reused.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kernels_under_numba_boundscheck(tmp_path):
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/layers/test_recurrent_validation.py", "tests/kernels/test_conv_dense.py",
        "tests/kernels/test_losses.py", "tests/test_network.py",
        "tests/kernels/test_recurrent.py", "-k", "validation or ones or hidden1 or float32",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    assert "skipped" not in proc.stdout  # test_boundscheck_is_active ran
