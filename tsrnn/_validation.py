"""Parameter checks written once: scikit-learn constraints and a plain integer check.

The estimators declare ``_parameter_constraints`` with the constraints below;
code outside the estimators (layers, windows, checkpoints, model files) checks
its integer arguments with :func:`check_positive_int`, which raises a ValueError
naming the argument.
"""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

#: An integer >= 1 (``_parameter_constraints``).
POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")

#: An integer >= 0 (``_parameter_constraints``).
NON_NEGATIVE_INT = Interval(numbers.Integral, 0, None, closed="left")

#: ``batch_size``: a positive integer, or 'auto' for a rule of the estimator's
#: (see :func:`tsrnn.training.loop.resolve_batch_size`).
BATCH_SIZE = [POSITIVE_INT, StrOptions({"auto"})]


def is_positive_int(value):
    """Whether ``value`` is an integer >= 1 (a Python or NumPy integer, not a bool).

    Parameters
    ----------
    value : object

    Returns
    -------
    bool
    """
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1


def check_positive_int(value, name):
    """Return ``value`` as an int, after checking that it is a positive integer.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        Its name, for the error message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``value`` is not an integer >= 1 (bools are refused).
    """
    if not is_positive_int(value):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
