"""The compound scalar functions of :mod:`tsrnn.kernels.scalar`, compiled for the CPU."""

from numba import njit

from tsrnn.kernels import scalar

activate = njit(inline="always")(scalar.activate)
activation_slope = njit(inline="always")(scalar.activation_slope)
