"""Numerical kernels, one module per layer family in each backend.

- ``reference``: the NumPy spec, readable forward and backward (used by tests).
- ``cpu``: ``numba.njit`` kernels.
- ``cuda``: ``numba.cuda`` kernels with the same names (imported only when used).

Shared by the backends: ``scalar`` and ``formulas`` (per-element math compiled for
both devices), ``cells`` (one spec per recurrent cell), ``shapes`` (output
lengths and padding) and ``workspace`` (temporaries reused between steps).
"""
