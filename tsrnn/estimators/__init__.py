"""scikit-learn estimators over sequences."""

from tsrnn.estimators._base import (
    TrainingDivergedError,
    TrainingDivergedWarning,
    TrainingInterruptedWarning,
)
from tsrnn.estimators.classifier import SequenceClassifier
from tsrnn.estimators.regressor import SequenceRegressor

__all__ = [
    "SequenceClassifier",
    "SequenceRegressor",
    "TrainingDivergedError",
    "TrainingDivergedWarning",
    "TrainingInterruptedWarning",
]
