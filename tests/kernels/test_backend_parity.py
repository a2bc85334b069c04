"""The CPU and CUDA kernel modules export the same names with the same signatures.

Layers and losses call whichever backend a network runs on by name, so a kernel
added or changed on one device only must fail here, not on a GPU machine later.
The CUDA modules are read under Numba's CUDA simulator, in a subprocess (the
simulator must be enabled before numba is first imported).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tsrnn.backend import _FAMILIES

ROOT = Path(__file__).resolve().parents[2]

# Prints {"cpu.recurrent": {name: signature}, "cuda.recurrent": {...}, ...}.
PROBE = """
import importlib, inspect, json, sys

def unwrap(obj):
    for attr in ("py_func", "fn", "__wrapped__"):  # njit, simulated cuda.jit, lru_cache
        obj = getattr(obj, attr, obj)
    return obj

def exported(module, origins):
    out = {}
    for name, obj in vars(module).items():
        f = unwrap(obj)
        if not name.startswith("_") and inspect.isfunction(f) and f.__module__ in origins:
            out[name] = str(inspect.signature(f))
    return out

result = {}
for family in sys.argv[1:]:
    for device in ("cpu", "cuda"):
        m = importlib.import_module(f"tsrnn.kernels.{device}.{family}")
        # The compiled formulas are defined in the shared modules, not in _scalar.
        shared = ("tsrnn.kernels.formulas", "tsrnn.kernels.scalar")
        origins = shared if family == "_scalar" else (m.__name__,)
        result[f"{device}.{family}"] = exported(m, origins)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def exports():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-c", PROBE, *_FAMILIES, "_scalar"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("family", [*_FAMILIES, "_scalar"])
def test_cpu_and_cuda_modules_export_the_same_functions(exports, family):
    cpu, cuda = exports[f"cpu.{family}"], exports[f"cuda.{family}"]
    assert cpu, f"no public functions found in tsrnn.kernels.cpu.{family}"
    assert sorted(cpu) == sorted(cuda)
    assert cpu == cuda  # same signatures, name by name
