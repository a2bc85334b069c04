"""Shared by the examples: TSRNN_EXAMPLE_FAST=1 (set by the tests) shortens training."""

import os

FAST = os.environ.get("TSRNN_EXAMPLE_FAST") == "1"


def epochs(full):
    return max(3, full // 20) if FAST else full
