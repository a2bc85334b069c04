"""Learning-rate schedules, stepped once per epoch with the epoch's validation loss."""

import math


class ConstantLR:
    """Keep the initial learning rate."""

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        return base_lr


class StepLR:
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size=10, gamma=0.5):
        if step_size < 1 or not 0 < gamma <= 1:
            raise ValueError("StepLR needs step_size >= 1 and 0 < gamma <= 1")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        return base_lr * self.gamma ** ((epoch + 1) // self.step_size)


class CosineLR:
    """Cosine annealing from the base rate to ``min_lr`` over ``period`` epochs."""

    def __init__(self, period=100, min_lr=0.0):
        if period < 1 or min_lr < 0:
            raise ValueError("CosineLR needs period >= 1 and min_lr >= 0")
        self.period, self.min_lr = int(period), float(min_lr)

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        e = min(epoch + 1, self.period)
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (
            1 + math.cos(math.pi * e / self.period)
        )


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when the monitored loss has not improved by
    ``min_delta`` for ``patience`` epochs; never below ``min_lr``.
    """

    def __init__(self, factor=0.5, patience=5, min_lr=1e-6, min_delta=1e-4):
        if not 0 < factor < 1 or patience < 1:
            raise ValueError("ReduceLROnPlateau needs 0 < factor < 1 and patience >= 1")
        self.factor, self.patience = float(factor), int(patience)
        self.min_lr, self.min_delta = float(min_lr), float(min_delta)
        self.best, self.bad_epochs = math.inf, 0

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        if monitored_loss is None:
            return current_lr
        if monitored_loss < self.best - self.min_delta:
            self.best, self.bad_epochs = monitored_loss, 0
            return current_lr
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.bad_epochs = 0
            return max(current_lr * self.factor, self.min_lr)
        return current_lr


SCHEDULES = {
    "constant": ConstantLR,
    "step": StepLR,
    "cosine": CosineLR,
    "plateau": ReduceLROnPlateau,
}


def get_schedule(schedule):
    if schedule is None:
        return ConstantLR()
    if callable(schedule):
        return schedule
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {schedule!r}")
    return SCHEDULES[schedule]()
