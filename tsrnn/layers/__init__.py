"""Layers: shapes, initialisation, validation, and which kernels to call."""

from tsrnn.layers._params import ParameterBuffer
from tsrnn.layers.base import Layer
from tsrnn.layers.composite import Parallel, Residual
from tsrnn.layers.conv import (
    AveragePooling1D,
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from tsrnn.layers.dense import Dense, Dropout, Flatten
from tsrnn.layers.normalization import Activation, BatchNormalization, LayerNormalization
from tsrnn.layers.recurrent import Recurrent
from tsrnn.layers.rnn import GRU, LSTM, RNN, SimpleRNN

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "AveragePooling1D",
    "Conv1D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "Layer",
    "MaxPooling1D",
    "ParameterBuffer",
    "Recurrent",
    "SimpleRNN",
    "Activation",
    "BatchNormalization",
    "LayerNormalization",
    "Parallel",
    "Residual",
]
