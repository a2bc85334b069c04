"""One BLAS thread while training small networks.

The recurrent kernels call BLAS for matrix products of a few thousand elements at
every time step. OpenBLAS then wakes its worker threads for each product and lets
them spin between products; on a 2-core machine that other processes share, the
workers fight those processes (and each other) for the cores, and a fit takes
many times the CPU time of a single-threaded one. Products that small gain nothing
from threads, so training runs with BLAS limited to one thread, which also makes
results independent of the thread count.
"""

from threadpoolctl import threadpool_limits


def single_blas_thread():
    """Context manager limiting every loaded BLAS library to one thread.

    Numba's ``np.dot`` calls SciPy's BLAS, which is loaded when SciPy's Cython BLAS
    module is imported; it is imported here first so that the limit reaches it.
    """
    import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS that Numba calls

    return threadpool_limits(limits=1, user_api="blas")
