"""Shared by the examples.

``TSRNN_EXAMPLE_FAST=1`` (set by the tests) shortens training. ``report`` prints an
example's headline result and, when ``TSRNN_RESULTS_FILE`` is set (by
``python -m benchmarks.readme_results``), appends it there as a row of the README's
results table, so that no number in the README is typed by hand.
"""

import json
import os
import sys
from pathlib import Path

FAST = os.environ.get("TSRNN_EXAMPLE_FAST") == "1"


def epochs(full):
    """The number of epochs to train: ``full``, or a few in fast mode."""
    return max(3, full // 20) if FAST else full


def report(task, model, result):
    """Print the headline result; record it as a README row when asked to."""
    print(f"result: {task} | {model} | {result}")
    path = os.environ.get("TSRNN_RESULTS_FILE")
    if path:
        row = {
            "task": task,
            "model": model,
            "result": result,
            "command": f"python examples/{Path(sys.argv[0]).name}",
        }
        with open(path, "a") as fh:
            fh.write(json.dumps(row) + "\n")
