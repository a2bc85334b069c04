"""Test-session configuration."""

import os


def _deselect(config, items, marker):
    kept = [item for item in items if item.get_closest_marker(marker) is None]
    dropped = [item for item in items if item.get_closest_marker(marker) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_collection_modifyitems(config, items):
    # The fuzz campaign runs in its own interpreter under NUMBA_BOUNDSCHECK=1
    # (tests/layers/test_boundscheck.py); running it here too would only double CI time.
    if not (os.environ.get("NUMBA_BOUNDSCHECK") == "1" or os.environ.get("TSRNN_FUZZ") == "1"):
        _deselect(config, items, "fuzz")
    # CUDA tests need NUMBA_ENABLE_CUDASIM=1 set before numba is imported (their own
    # interpreter: tests/test_cuda_simulator.py) or a real GPU (`pytest -m gpu`).
    asked_for_gpu = "gpu" in (config.getoption("markexpr") or "")
    if not (os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or asked_for_gpu):
        _deselect(config, items, "gpu")
