"""tsrnn: Numba-accelerated recurrent and convolutional networks for time series.

The public names are imported on first use (PEP 562), so that ``import tsrnn`` and
``tsrnn --help`` do not pay for Numba, scikit-learn and the kernels up front.
"""

import importlib
from typing import TYPE_CHECKING

from tsrnn._version import __version__

# Public name -> the module that defines it.
_LAZY = {
    "DeviceUnavailableError": "tsrnn.backend",
    "SequenceClassifier": "tsrnn.estimators",
    "SequenceRegressor": "tsrnn.estimators",
    "TrainingDivergedError": "tsrnn.estimators",
    "TrainingDivergedWarning": "tsrnn.estimators",
    "Forecaster": "tsrnn.forecasting",
    "backtest": "tsrnn.forecasting",
    "GRU": "tsrnn.layers",
    "LSTM": "tsrnn.layers",
    "RNN": "tsrnn.layers",
    "AveragePooling1D": "tsrnn.layers",
    "Conv1D": "tsrnn.layers",
    "Dense": "tsrnn.layers",
    "Dropout": "tsrnn.layers",
    "Flatten": "tsrnn.layers",
    "GlobalAveragePooling1D": "tsrnn.layers",
    "GlobalMaxPooling1D": "tsrnn.layers",
    "MaxPooling1D": "tsrnn.layers",
    "Parallel": "tsrnn.layers",
    "Residual": "tsrnn.layers",
    "ParameterBuffer": "tsrnn.layers",
    "Recurrent": "tsrnn.layers",
    "SimpleRNN": "tsrnn.layers",
    "Activation": "tsrnn.layers",
    "BatchNormalization": "tsrnn.layers",
    "LayerNormalization": "tsrnn.layers",
    "Network": "tsrnn.network",
    "ModelFileError": "tsrnn.persistence",
    "load": "tsrnn.persistence",
    "save": "tsrnn.persistence",
}

__all__ = [
    "Activation",
    "AveragePooling1D",
    "BatchNormalization",
    "Conv1D",
    "Dense",
    "DeviceUnavailableError",
    "Dropout",
    "Flatten",
    "Forecaster",
    "GRU",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LSTM",
    "LayerNormalization",
    "MaxPooling1D",
    "ModelFileError",
    "Network",
    "Parallel",
    "ParameterBuffer",
    "RNN",
    "Recurrent",
    "Residual",
    "SequenceClassifier",
    "SequenceRegressor",
    "SimpleRNN",
    "TrainingDivergedError",
    "TrainingDivergedWarning",
    "backtest",
    "load",
    "save",
    "__version__",
]

if TYPE_CHECKING:
    from tsrnn.backend import DeviceUnavailableError
    from tsrnn.estimators import (
        SequenceClassifier,
        SequenceRegressor,
        TrainingDivergedError,
        TrainingDivergedWarning,
    )
    from tsrnn.forecasting import Forecaster, backtest
    from tsrnn.layers import (
        GRU,
        LSTM,
        RNN,
        Activation,
        AveragePooling1D,
        BatchNormalization,
        Conv1D,
        Dense,
        Dropout,
        Flatten,
        GlobalAveragePooling1D,
        GlobalMaxPooling1D,
        LayerNormalization,
        MaxPooling1D,
        Parallel,
        ParameterBuffer,
        Recurrent,
        Residual,
        SimpleRNN,
    )
    from tsrnn.network import Network
    from tsrnn.persistence import ModelFileError, load, save


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None and not name.startswith("__"):
        # Submodules (tsrnn.datasets, ...) are attributes too, so that code written
        # for `import tsrnn; tsrnn.datasets...` works without importing them first.
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
