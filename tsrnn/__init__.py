"""tsrnn: Numba-accelerated recurrent and convolutional networks for time series."""

from tsrnn.layers import ParameterBuffer, Recurrent

__version__ = "0.1.0"

__all__ = ["ParameterBuffer", "Recurrent", "__version__"]
