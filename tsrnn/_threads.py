"""One BLAS thread while training small networks.

The recurrent kernels call BLAS for matrix products of a few thousand elements at
every time step. OpenBLAS then wakes its worker threads for each product and lets
them spin between products; on a 2-core machine that other processes share, the
workers fight those processes (and each other) for the cores, and a fit takes
many times the CPU time of a single-threaded one. Products that small gain nothing
from threads, so training runs with BLAS limited to one thread, which also makes
results independent of the thread count.

The limit is process-wide (it is BLAS' own setting), so fits running in several
threads at once share one limit: the first to enter sets it, the last to leave
restores the original. Without that count, one thread's exit restored the limit
while another was still training.
"""

import contextlib
import threading

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_users = 0
_limiter = None


@contextlib.contextmanager
def single_blas_thread():
    """Limit every loaded BLAS library to one thread while the block runs.

    Re-entrant and safe to use from several threads at once. Numba's ``np.dot``
    calls SciPy's BLAS, which is loaded when SciPy's Cython BLAS module is imported;
    it is imported here first so that the limit reaches it.

    Yields
    ------
    None
    """
    global _users, _limiter
    import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS that Numba calls

    with _lock:
        if _users == 0:
            _limiter = threadpool_limits(limits=1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _limiter.restore_original_limits()
                _limiter = None
