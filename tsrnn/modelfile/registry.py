"""The classes a model file may name, as dotted paths resolved at load time.

Holding names rather than classes keeps this module below the estimators that
import it: nothing here imports an upper layer. :class:`~tsrnn.modelfile.io.SaveMixin`
checks at class creation that every saveable tsrnn class is listed, so the list
cannot fall behind the code.
"""

import importlib

from tsrnn.modelfile.errors import ModelFileError

#: Estimators and transformers, by the name a manifest's ``class`` holds.
ESTIMATORS = {
    "SequenceRegressor": "tsrnn.estimators.regressor.SequenceRegressor",
    "SequenceClassifier": "tsrnn.estimators.classifier.SequenceClassifier",
    "Forecaster": "tsrnn.forecasting.forecaster.Forecaster",
    "TimeSeriesScaler": "tsrnn.preprocessing.TimeSeriesScaler",
    "WindowTransformer": "tsrnn.windows.WindowTransformer",
}

#: Network layers, by the name a saved network's layer ``class`` holds.
LAYERS = {
    name: f"tsrnn.layers.{module}.{name}"
    for module, names in (
        ("rnn", ("RNN",)),
        (
            "conv",
            (
                "Conv1D",
                "MaxPooling1D",
                "AveragePooling1D",
                "GlobalAveragePooling1D",
                "GlobalMaxPooling1D",
            ),
        ),
        ("dense", ("Dense", "Dropout", "Flatten")),
        ("normalization", ("BatchNormalization", "LayerNormalization", "Activation")),
        ("composite", ("Parallel", "Residual")),
    )
    for name in names
}

#: Optimizers, by class name.
OPTIMIZERS = {
    "Adam": "tsrnn.training.optimizers.Adam",
    "SGD": "tsrnn.training.optimizers.SGD",
}

#: Other objects the codec builds, by the tag that marks them in ``state.json``.
OBJECTS = {
    "__network__": "tsrnn.network.Network",
    "__history__": "tsrnn.training.loop.TrainingHistory",
    "__label_encoder__": "sklearn.preprocessing._label.LabelEncoder",
}


def dotted_path(cls):
    """``module.QualifiedName`` of a class (how the lists above name it)."""
    return f"{cls.__module__}.{cls.__qualname__}"


def resolve(path):
    """The class at dotted ``path`` (which must be one of the lists above)."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ModelFileError(f"tsrnn cannot find the class {path!r} ({exc})") from None


def lookup(table, name, what):
    """The class that ``table`` (one of the lists above) names ``name``."""
    if not isinstance(name, str):
        raise ModelFileError(f"the {what} in the model file must be a name, got {name!r:.80}")
    if name not in table:
        raise ModelFileError(f"unknown {what} {name!r:.80} in the model file")
    return resolve(table[name])


def estimator_name(cls):
    """The name under which ``cls`` is saved, or None when it cannot be saved."""
    path = dotted_path(cls)
    for name, listed in ESTIMATORS.items():
        if listed == path:
            return name
    return None


def tag_of(cls):
    """The tag of :data:`OBJECTS` that ``cls`` is saved under, or None."""
    path = dotted_path(cls)
    for tag, listed in OBJECTS.items():
        if listed == path:
            return tag
    return None
