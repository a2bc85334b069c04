"""Scaling of series by exact powers of two, and the warnings and errors of fitting."""

import math

import numpy as np


class UncalibratedIntervalWarning(UserWarning):
    """The series was too short to calibrate the intervals; a stated rule widened them."""


class TrainingDivergedError(ValueError):
    """Training diverged (the loss or a gradient became NaN or infinite)."""


def power_of_two(values):
    """A power of two near the largest magnitude of ``values`` (1 for zeros).

    Dividing by a power of two is exact in binary floating point, so series of
    ordinary magnitude give bit-identical results, while series near the float
    limits (1e300) are brought into range before any difference or square overflows.
    """
    largest = float(np.max(np.abs(values), initial=0.0))
    if largest == 0.0:
        return 1.0
    return float(2.0 ** math.floor(math.log2(largest)))
