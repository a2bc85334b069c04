"""Layer descriptions: shapes, initialisation, validation, and which kernels to call."""

from tsrnn.layers._params import ParameterBuffer
from tsrnn.layers.recurrent import Recurrent

__all__ = ["ParameterBuffer", "Recurrent"]
