"""The shared parameter checks (tsrnn/_validation.py)."""

import re

import numpy as np
import pytest

from tsrnn import Forecaster, SequenceClassifier, SequenceRegressor
from tsrnn._validation import POSITIVE_INT, check_positive_int, is_positive_int
from tsrnn.layers import Dense
from tsrnn.windows import make_windows


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(1), 10**12])
def test_positive_integers_pass_as_python_ints(value):
    assert is_positive_int(value)
    result = check_positive_int(value, "n")
    assert result == value and type(result) is int


@pytest.mark.parametrize("value", [0, -2, True, False, 2.0, 1e10, "3", None, np.float64(4)])
def test_anything_else_is_refused_with_the_argument_named(value):
    assert not is_positive_int(value)
    message = f"width must be a positive integer, got {value!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_positive_int(value, "width")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Dense(0), "units must be a positive integer, got 0"),
        (lambda: Dense(True), "units must be a positive integer, got True"),
        (lambda: make_windows(np.arange(20.0), 0, 2), "window must be a positive integer"),
    ],
)
def test_layers_and_windows_use_the_one_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_estimators_share_one_positive_integer_constraint():
    for cls in (SequenceRegressor, SequenceClassifier, Forecaster):
        assert cls._parameter_constraints["hidden_size"] == [POSITIVE_INT]
