"""Reference input checks, in plain NumPy (spec of :mod:`tsrnn.kernels.cpu.checks`)."""

import numpy as np


def largest_magnitude(values):
    """``max |x|`` over ``values`` (0.0 when empty), NaN if any value is NaN.

    Parameters
    ----------
    values : ndarray
        Any shape, a float dtype.

    Returns
    -------
    float
        The largest magnitude; inf if a value is infinite and none is NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0.0
    if np.isnan(values).any():
        return np.nan
    return float(np.abs(values).max())
