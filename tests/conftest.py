"""Test-session configuration."""

import os


def pytest_collection_modifyitems(config, items):
    # The fuzz campaign runs in its own interpreter under NUMBA_BOUNDSCHECK=1
    # (tests/layers/test_boundscheck.py); running it here too would only double CI time.
    if os.environ.get("NUMBA_BOUNDSCHECK") == "1" or os.environ.get("TSRNN_FUZZ") == "1":
        return
    selected = [item for item in items if item.get_closest_marker("fuzz") is None]
    deselected = [item for item in items if item.get_closest_marker("fuzz") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
