"""Training: optimizers over the flat parameter buffer, schedules, and the epoch loop."""

from tsrnn.training.loop import NonFiniteLossError, TrainingHistory, fit, train_step
from tsrnn.training.optimizers import SGD, Adam, clip_by_global_norm, get_optimizer
from tsrnn.training.schedules import (
    ConstantLR,
    CosineLR,
    ReduceLROnPlateau,
    StepLR,
    get_schedule,
)

__all__ = [
    "SGD",
    "Adam",
    "ConstantLR",
    "CosineLR",
    "NonFiniteLossError",
    "ReduceLROnPlateau",
    "StepLR",
    "TrainingHistory",
    "clip_by_global_norm",
    "fit",
    "get_optimizer",
    "get_schedule",
    "train_step",
]
