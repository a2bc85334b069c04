"""The compound scalar functions of :mod:`tsrnn.kernels.scalar`, compiled for the CPU."""

from numba import njit

from tsrnn.kernels import scalar

activate = njit(inline="always", error_model="numpy")(scalar.activate)
activation_slope = njit(inline="always", error_model="numpy")(scalar.activation_slope)
