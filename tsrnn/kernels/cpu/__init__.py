"""CPU kernels compiled with ``numba.njit``."""
