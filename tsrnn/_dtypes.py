"""The float dtypes a network, its layers and its kernels run in."""

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype):
    """Return ``dtype`` as a NumPy dtype, or raise if it is not float32 or float64.

    Parameters
    ----------
    dtype : str, type or numpy.dtype

    Returns
    -------
    numpy.dtype

    Raises
    ------
    TypeError
        If ``dtype`` is not a dtype, or not float32 or float64.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dt}")
    return dt
