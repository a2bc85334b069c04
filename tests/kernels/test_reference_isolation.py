"""The NumPy reference is the independent check: nothing on the fast path loads it."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_tsrnn_loads_no_reference_module():
    probe = (
        "import sys, tsrnn, tsrnn.network, tsrnn.layers; "
        "print(sorted(m for m in sys.modules if m.startswith('tsrnn.kernels.reference')))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


def test_network_takes_its_dtype_check_from_a_neutral_module():
    """The network sits above the layers but takes nothing from a particular layer type
    (only the layer protocol and the parameter buffer)."""
    tree = ast.parse((ROOT / "tsrnn" / "network.py").read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    layer_modules = {m for m in imported if m.startswith("tsrnn.layers.")}
    assert layer_modules <= {"tsrnn.layers.base", "tsrnn.layers._params"}
    assert "tsrnn._dtypes" in imported
