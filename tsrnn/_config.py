"""Numba compilation options, set once for every kernel (STUMPY's config-module habit).

``cache=True`` keeps compile time out of the user's second run; ``nogil=True`` lets
joblib or Dask threads run kernels concurrently. ``fastmath`` stays off: the float64
kernels must agree with the NumPy reference to 1e-10, and ``nnan`` would let NaN
checks be optimised away.
"""

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False}

# Gate nonlinearities loop over the batch with ``prange``; the BLAS calls between
# those loops run on their own threads, so the two never compete for cores at once.
PARALLEL_JIT_OPTIONS = {**JIT_OPTIONS, "parallel": True}
