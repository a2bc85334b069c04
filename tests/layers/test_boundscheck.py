"""Run the validation tests and odd-shape kernel tests with NUMBA_BOUNDSCHECK=1.

Bounds checking must be set before Numba compiles, so the tests run in a fresh
interpreter with their own (empty) Numba cache: a kernel cached without bounds
checks would otherwise be reused.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import pytest_summary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def boundscheck_env(tmp_path_factory):
    """Environment of a fresh interpreter with bounds checks and its own Numba cache
    (shared by the tests here, so kernels compile once)."""
    cache = tmp_path_factory.mktemp("numba-boundscheck-cache")
    return dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(cache))


@pytest.mark.slow
def test_kernels_under_numba_boundscheck(boundscheck_env):
    env = boundscheck_env
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/layers/test_recurrent_validation.py",
        "tests/kernels/test_conv_dense.py",
        "tests/kernels/test_losses.py",
        "tests/test_network.py",
        "tests/training/test_loop.py",
        "tests/kernels/test_recurrent.py",
        "tests/kernels/test_pairs.py",  # the convolutions' halves and blocks
        "-k",
        "validation or ones or hidden1 or float32",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    counts = pytest_summary(proc.stdout)
    assert counts.get("passed", 0) > 0, counts
    assert not {"failed", "error", "skipped"} & set(counts), counts  # the boundscheck test ran


@pytest.mark.slow
def test_fuzz_campaign_under_numba_boundscheck(boundscheck_env):
    """The hypothesis campaign of tests/test_fuzz.py (>= 10,000 cases), with bounds-checked
    kernels: any out-of-bounds access in a kernel becomes a failure."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "tests/test_fuzz.py",
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=boundscheck_env, capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    total = int(re.search(r"fuzz cases: .* total (\d+)", proc.stdout).group(1))
    assert total >= 10_000
    print(proc.stdout[-600:])
