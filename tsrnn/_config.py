"""Numba compilation options, set once for every kernel (STUMPY's config-module habit).

``cache=True`` keeps compile time out of the user's second run; ``nogil=True`` lets
joblib or Dask threads run kernels concurrently. ``fastmath`` stays off: the float64
kernels must agree with the NumPy reference to 1e-10, and ``nnan`` would let NaN
checks be optimised away.

Parallelism: the recurrent kernels alternate a BLAS matrix product and a gate loop
at every time step. With ``parallel=True`` the gate loops ran on Numba's OpenMP
threads, which spin-wait after each region and starved OpenBLAS' threads, making
an LSTM step many times slower. So the gate loops are compiled serially (``prange`` acts as
``range``) and the matrix products keep BLAS' threads (which the estimators limit to
one while training, :mod:`tsrnn._threads`). ``PARALLEL_JIT_OPTIONS`` is
the single switch for kernels written with ``prange``.
"""

import os
import sys
from pathlib import Path

# error_model="numpy": IEEE semantics for division (inf/NaN, which the training loop
# detects) instead of Python's ZeroDivisionError check, whose branch stops LLVM from
# vectorising every loop with a division.
JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

PARALLEL_JIT_OPTIONS = {**JIT_OPTIONS, "parallel": False}


# --- Where compiled kernels are cached -------------------------------------------------
# Numba's default puts cache files in a __pycache__ folder next to the source, i.e.
# inside site-packages for an installed wheel. pip does not know those files, so they
# survive an uninstall or a switch to an editable install and leave a `tsrnn` namespace
# package behind that shadows the real one. tsrnn's kernels are therefore cached in a
# per-user folder instead; a read-only site-packages then works too.


def cache_dir() -> Path:
    r"""Return the folder where tsrnn caches its compiled kernels.

    ``NUMBA_CACHE_DIR``, when set, wins (Numba then caches everything there itself).
    Otherwise ``TSRNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/tsrnn`` (``~/.cache/tsrnn``)
    on Linux and macOS and ``%LOCALAPPDATA%\tsrnn`` on Windows.

    Returns
    -------
    pathlib.Path
        The cache folder (it may not exist yet).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    if os.environ.get("TSRNN_CACHE_DIR"):
        return Path(os.environ["TSRNN_CACHE_DIR"])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "tsrnn"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tsrnn"


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _install_cache_locator():
    """Send the on-disk cache of tsrnn's own kernels (and only those) to `cache_dir`."""
    from numba.core import caching

    # Numba 0.61+ dropped the leading underscores of these names.
    base = getattr(caching, "UserProvidedCacheLocator", None) or caching._UserProvidedCacheLocator

    class TsrnnCacheLocator(base):
        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            root = os.path.join(str(cache_dir()), "numba")
            self._cache_path = os.path.join(root, self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            if os.environ.get("NUMBA_CACHE_DIR"):
                return None  # Numba's own locator honours it.
            if not os.path.abspath(py_file).startswith(_PACKAGE_DIR + os.sep):
                return None
            locator = cls(py_func, py_file)
            try:
                locator.ensure_cache_path()
            except OSError:
                return None  # not writable: Numba's own locators take over
            return locator

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    classes = impl._locator_classes
    if not any(c.__name__ == "TsrnnCacheLocator" for c in classes):
        classes.insert(0, TsrnnCacheLocator)


_install_cache_locator()
