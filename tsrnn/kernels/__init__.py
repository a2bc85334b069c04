"""Numerical kernels: ``reference`` (NumPy spec), ``cpu`` (``numba.njit``)."""
