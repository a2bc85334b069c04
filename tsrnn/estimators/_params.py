"""Estimator parameters declared once, as annotated class fields with their defaults.

scikit-learn reads an estimator's parameters from the signature of its
``__init__`` (``BaseEstimator._get_param_names``), so every parameter must be an
explicit keyword argument there. Writing that signature by hand repeats the whole
base signature in each subclass; :func:`estimator_params` generates it instead,
with :mod:`dataclasses`, from fields such as::

    @estimator_params
    class Base(BaseEstimator):
        hidden_size: int = 32

    @estimator_params
    class Classifier(Base):
        class_weight: dict | str | None = None  # appended to Base's parameters

The generated ``__init__`` only stores its arguments, as scikit-learn requires.
"""

import dataclasses


def estimator_params(cls):
    """Give ``cls`` an ``__init__`` taking its annotated fields as parameters.

    The parameters are those of the nearest base class decorated the same way,
    followed by the fields ``cls`` declares, each with its default.

    Parameters
    ----------
    cls : type
        The estimator class. Each annotated class attribute with a value is a
        parameter; class attributes that are not parameters must not be annotated
        (or be annotated ``typing.ClassVar``).

    Returns
    -------
    type
        ``cls`` itself, with the generated ``__init__``.
    """
    cls = dataclasses.dataclass(cls, init=True, repr=False, eq=False, match_args=False)
    # The defaults live in the generated __init__; left on the class too, they would
    # stand in for a parameter missing from an instance (e.g. an old pickle).
    for field in dataclasses.fields(cls):
        if field.name in cls.__dict__:
            delattr(cls, field.name)
    return cls
