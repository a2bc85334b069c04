"""The shared parameter checks (tsrnn/_validation.py) and seeds (tsrnn/_random.py)."""

import re

import numpy as np
import pytest
from sklearn.base import clone

from tsrnn import Forecaster, SequenceClassifier, SequenceRegressor
from tsrnn._random import SEED_BOUND, as_generator, draw_seeds
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


def test_draw_seeds_is_check_random_state_then_randint_below_the_int32_bound():
    expected = np.random.RandomState(5).randint(np.iinfo(np.int32).max, size=4).tolist()
    assert draw_seeds(5, 4) == expected
    assert draw_seeds(5) == expected[0]
    assert all(type(seed) is int and 0 <= seed < SEED_BOUND for seed in draw_seeds(None, 50))


def test_as_generator_continues_a_generator_and_seeds_one_from_anything_else():
    generator = np.random.default_rng(1)
    assert as_generator(generator) is generator
    assert as_generator(3).random() == np.random.default_rng(3).random()
    from_state = as_generator(np.random.RandomState(7)).random()
    assert from_state == np.random.default_rng(draw_seeds(7)).random()


@pytest.mark.parametrize("cls", [SequenceRegressor, SequenceClassifier])
def test_estimator_parameters_are_declared_once(cls):
    """Every parameter has one default, in the base class's field table; clone keeps it."""
    base_params = set(SequenceRegressor().get_params()) & set(SequenceClassifier().get_params())
    own = set(cls().get_params()) - base_params
    assert own == ({"loss"} if cls is SequenceRegressor else {"class_weight"})
    assert len(base_params) == 35
    estimator = cls(hidden_size=5, random_state=3)
    assert clone(estimator).get_params() == estimator.get_params()
    # Defaults live in __init__ only: no class attribute stands in for a parameter.
    assert not any(hasattr(cls, name) for name in cls().get_params())
