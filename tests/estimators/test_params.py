"""Estimator parameters declared once (tsrnn/estimators/_params.py)."""

import inspect

import pytest
from sklearn.base import BaseEstimator, clone

from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.estimators._params import estimator_params


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


def test_subclass_fields_follow_the_base_parameters_in_the_generated_signature():
    @estimator_params
    class Base(BaseEstimator):
        _not_a_parameter = {"kept": True}
        width: int = 3
        name: str = "a"

    @estimator_params
    class Child(Base):
        extra: float | None = None

    assert list(inspect.signature(Child).parameters) == ["width", "name", "extra"]
    assert Child(width=5).get_params() == {"width": 5, "name": "a", "extra": None}
    assert Child._not_a_parameter == {"kept": True}
    assert repr(Child(extra=0.5)) == "Child(extra=0.5)"
    with pytest.raises(TypeError, match="unexpected keyword argument 'depth'"):
        Child(depth=2)
