"""Checks of a loaded estimator's attributes.

Checks of a loaded estimator's attributes, so that a crafted file fails at load time
rather than later in ``predict``.

The rules are by attribute name and shared by every estimator: constructor
parameters must all be present (those a class lists in ``_params_added_later``
take the listed value when a file lacks them) and pass the class's
``_parameter_constraints`` where it has them, no attribute may shadow a method
or property of the class, and the fitted attributes below must have their
documented types. A class may add checks of its own private state with a
``_check_loaded_state(self)`` method that raises ``ValueError``.
"""

import inspect
import numbers

import numpy as np

from tsrnn.modelfile import registry
from tsrnn.modelfile.errors import ModelFileError


def _count(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 0


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _curve(v):
    return isinstance(v, list) and all(_real(x) for x in v)


def _instance_of(*paths):
    return lambda v: registry.dotted_path(type(v)) in paths


#: Fitted attributes and the test their value must pass.
FITTED = {
    "network_": _instance_of(registry.OBJECTS["__network__"]),
    # The members of an ensemble after the first (network_).
    "_extra_networks": lambda v: (
        isinstance(v, list) and all(_instance_of(registry.OBJECTS["__network__"])(n) for n in v)
    ),
    "_optimizer": _instance_of(*registry.OPTIMIZERS.values()),
    "_history": _instance_of(registry.OBJECTS["__history__"]),
    "_encoder": _instance_of(registry.OBJECTS["__label_encoder__"]),
    "n_features_in_": _count,
    "n_outputs_": _count,
    "n_channels_": _count,
    "n_targets_": _count,
    "n_series_": _count,
    "n_epochs_": _count,
    "n_iter_": _count,
    "classes_": lambda v: isinstance(v, np.ndarray) and v.ndim == 1,
    "y_mean_": lambda v: isinstance(v, np.ndarray) and np.isfinite(v).all(),
    "y_scale_": lambda v: isinstance(v, np.ndarray) and np.isfinite(v).all(),
    "mean_": lambda v: isinstance(v, np.ndarray),
    "scale_": lambda v: isinstance(v, np.ndarray),
    "quantiles_": lambda v: isinstance(v, np.ndarray) and v.ndim == 1,
    "loss_curve_": _curve,
    "validation_loss_curve_": _curve,
    "validation_scores_": _curve,
    "best_loss_": _real,
    "device_": lambda v: isinstance(v, str),
    "_y_1d": lambda v: isinstance(v, bool),
}


def _shadows(cls, name):
    """Whether an instance attribute ``name`` would hide a method or property of ``cls``."""
    try:
        static = inspect.getattr_static(cls, name)
    except AttributeError:
        return False
    return callable(static) or hasattr(static, "__get__")


def build(cls, attributes, shown):
    """An instance of ``cls`` holding ``attributes``, after checking them."""

    def fail(message):
        raise ModelFileError(f"{shown!r}: {message}")

    if not isinstance(attributes, dict):
        fail(f"the estimator's attributes must be a mapping, got {type(attributes).__name__}")
    for name in attributes:
        if not isinstance(name, str) or not name.isidentifier():
            fail(f"attribute name {name!r:.60} is not an identifier")
        if name.startswith("__") or _shadows(cls, name):
            fail(f"attribute {name!r} would replace a method or property of {cls.__name__}")
    # Parameters added after a file was written take the value that reproduces how
    # that file's model was built and trained.
    attributes = {**getattr(cls, "_params_added_later", {}), **attributes}
    params = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    missing = [p for p in params if p not in attributes]
    if missing:
        fail(f"the {cls.__name__} is missing its parameter(s) {missing}")
    for name, check in FITTED.items():
        if name in attributes and not check(attributes[name]):
            fail(
                f"attribute {name!r} has the wrong type or value "
                f"({type(attributes[name]).__name__})"
            )
    if "network_" in attributes and "_optimizer" in attributes:
        # The update kernels assume moments shaped like the weights, unchecked.
        weights = attributes["network_"].params.flat
        for name, buffer in attributes["_optimizer"]._buffers().items():
            if buffer.shape != weights.shape or buffer.dtype != weights.dtype:
                fail(
                    f"the optimizer's {name} ({buffer.dtype}{list(buffer.shape)}) does not "
                    f"match the network's weights ({weights.dtype}{list(weights.shape)})"
                )
    estimator = cls.__new__(cls)
    estimator.__dict__.update(attributes)
    if hasattr(cls, "_parameter_constraints") and hasattr(estimator, "_validate_params"):
        try:
            estimator._validate_params()
        except (ValueError, TypeError) as exc:
            fail(f"invalid parameter: {exc}")
    # A class may check its own private state (e.g. consistency between attributes).
    check = getattr(cls, "_check_loaded_state", None)
    if check is not None:
        try:
            check(estimator)
        except (ValueError, TypeError) as exc:
            fail(f"inconsistent state: {exc}")
    return estimator
