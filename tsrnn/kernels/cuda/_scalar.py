"""The compound functions of :mod:`tsrnn.kernels.scalar`, compiled as CUDA device
functions (the CPU kernels compile the same functions with ``njit``).

Kernels call ``scalar.tanh``, ``scalar.sigmoid``... directly: those resolve per
dtype through their ``overload`` at compile time, on either target.
"""

from numba import cuda

from tsrnn.kernels import scalar

activate = cuda.jit(device=True)(scalar.activate)
activation_slope = cuda.jit(device=True)(scalar.activation_slope)
