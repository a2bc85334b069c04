"""tsrnn: Numba-accelerated recurrent and convolutional networks for time series."""

from tsrnn._version import __version__
from tsrnn.backend import DeviceUnavailableError
from tsrnn.estimators import SequenceClassifier, SequenceRegressor
from tsrnn.forecasting import Forecaster, backtest
from tsrnn.layers import (
    GRU,
    LSTM,
    RNN,
    AveragePooling1D,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    ParameterBuffer,
    Recurrent,
    SimpleRNN,
)
from tsrnn.network import Network
from tsrnn.persistence import ModelFileError, load, save

__all__ = [
    "GRU", "LSTM", "RNN", "AveragePooling1D", "Conv1D", "Dense", "Dropout", "Flatten",
    "DeviceUnavailableError", "Forecaster",
    "GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D", "Network",
    "ModelFileError", "ParameterBuffer", "Recurrent", "SequenceClassifier",
    "SequenceRegressor", "SimpleRNN",
    "__version__", "backtest", "load", "save",
]  # fmt: skip
