"""The compound functions of :mod:`tsrnn.kernels.scalar`, compiled as CUDA device
functions (the CPU kernels compile the same functions with ``njit``).

Kernels call ``scalar.tanh``, ``scalar.sigmoid``... directly: those resolve per
dtype through their ``overload`` at compile time, on either target.
"""

from numba import config, cuda

from tsrnn.kernels import scalar

try:  # numba-cuda: its CUDA target keeps its own overload registry
    from numba.cuda.extending import overload as _cuda_overload
except ImportError:  # numba's built-in CUDA target reads numba.extending's
    _cuda_overload = None

if _cuda_overload is not None and not config.ENABLE_CUDASIM:
    scalar.register_overloads(_cuda_overload)

activate = cuda.jit(device=True)(scalar.activate)
activation_slope = cuda.jit(device=True)(scalar.activation_slope)
