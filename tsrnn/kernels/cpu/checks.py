"""Checks of input data on the host, in one compiled pass (no CUDA counterpart).

The estimators validate X on the host before it reaches a device, so these
kernels exist for the CPU only; :mod:`tsrnn.kernels.reference.checks` is their
spec.
"""

import numpy as np
from numba import njit

from tsrnn._config import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def largest_magnitude(values):
    """Largest magnitude of ``values``, or NaN/inf if any value is.

    One pass over X answers every check; NumPy's ``min`` and ``max`` would add
    their call overhead to each single-sequence predict, and two passes over a
    large X in fit.

    Parameters
    ----------
    values : ndarray
        Any shape, a float dtype.

    Returns
    -------
    float
        ``max |x|`` over ``values`` (0.0 when empty); NaN if any value is NaN,
        else inf if any is infinite.
    """
    largest = 0.0
    for x in values.flat:
        magnitude = abs(x)
        if not magnitude <= largest:  # larger, or NaN
            if magnitude != magnitude:
                return np.nan
            largest = magnitude
    return largest
