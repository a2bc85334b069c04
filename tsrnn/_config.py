"""Numba compilation options, set once for every kernel (STUMPY's config-module habit).

``cache=True`` keeps compile time out of the user's second run; ``nogil=True`` lets
joblib or Dask threads run kernels concurrently. ``fastmath`` stays off: the float64
kernels must agree with the NumPy reference to 1e-10, and ``nnan`` would let NaN
checks be optimised away.

Parallelism: the recurrent kernels alternate a BLAS matrix product and a gate loop
at every time step. With ``parallel=True`` the gate loops ran on Numba's OpenMP
threads, which spin-wait after each region and starved OpenBLAS' threads: on a
2-core machine an LSTM step was 25x slower (33 vs 850 samples/s at batch 64,
hidden 100). So the gate loops are compiled serially (``prange`` acts as
``range``) and the matrix products keep BLAS' threads. ``PARALLEL_JIT_OPTIONS`` is
the single switch for kernels written with ``prange``.
"""

# error_model="numpy": IEEE semantics for division (inf/NaN, which the training loop
# detects) instead of Python's ZeroDivisionError check, whose branch stopped LLVM from
# vectorising every loop with a division. It made the float32 tanh 6x faster
# (4.8 -> 0.8 ns per element) and the fused LSTM gate update 7.5x faster.
JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

PARALLEL_JIT_OPTIONS = {**JIT_OPTIONS, "parallel": False}
