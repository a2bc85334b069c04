"""Reference input checks, in plain NumPy (spec of :mod:`tsrnn.kernels.cpu.checks`)."""

import numpy as np


def largest_magnitude(values):
    """The largest ``|x|`` in ``values``: 0.0 when empty, NaN if any value is NaN.

    The plain definition (``abs``, then ``max``), independent of the one-pass
    kernel it checks; an infinite value gives inf.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0.0
    if np.isnan(values).any():
        return np.nan
    return float(np.abs(values).max())
