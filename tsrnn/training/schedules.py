"""Learning-rate schedules, stepped once per epoch with the epoch's monitored loss.

A schedule is a callable ``schedule(epoch, base_lr, current_lr, monitored_loss) ->
new_lr``; one with state (:class:`ReduceLROnPlateau`) also has ``state_dict()`` and
``load_state_dict(state)``.
"""

import math


class ConstantLR:
    """Keep the initial learning rate."""

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        """Return the learning rate for the next epoch: ``base_lr``."""
        return base_lr


class StepLR:
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size=10, gamma=0.5):
        if step_size < 1 or not 0 < gamma <= 1:
            raise ValueError("StepLR needs step_size >= 1 and 0 < gamma <= 1")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        """Return the learning rate for the next epoch."""
        return base_lr * self.gamma ** ((epoch + 1) // self.step_size)


class CosineLR:
    """Cosine annealing from the base rate to ``min_lr`` over ``period`` epochs."""

    def __init__(self, period=100, min_lr=0.0):
        if period < 1 or min_lr < 0:
            raise ValueError("CosineLR needs period >= 1 and min_lr >= 0")
        self.period, self.min_lr = int(period), float(min_lr)

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        """Return the learning rate for the next epoch."""
        e = min(epoch + 1, self.period)
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (
            1 + math.cos(math.pi * e / self.period)
        )


class ReduceLROnPlateau:
    """Reduce the learning rate when the monitored loss stalls.

    Multiply the rate by ``factor`` when the monitored loss has stalled (Keras'
    ``ReduceLROnPlateau``, mode 'min').

    The monitored loss is the validation loss when :func:`tsrnn.training.fit` has
    ``validation_data``, else the training loss.

    Parameters
    ----------
    factor : float, default=0.5
        The new rate is ``max(rate * factor, min_lr)``; ``0 < factor < 1``.
    patience : int, default=5
        Epochs without an improvement larger than ``min_delta`` before a reduction.
    min_lr : float, default=1e-6
        The rate is never reduced below it.
    min_delta : float, default=1e-4
        Smallest decrease of the loss that counts as an improvement.
    cooldown : int, default=0
        Epochs after a reduction during which stalled epochs are not counted.

    Notes
    -----
    The counters are the schedule's state: :meth:`state_dict` and
    :meth:`load_state_dict` carry them over warm starts and resumed checkpoints
    (the training loop stores them in ``TrainingHistory.schedule_state``).
    """

    def __init__(self, factor=0.5, patience=5, min_lr=1e-6, min_delta=1e-4, cooldown=0):
        if not 0 < factor < 1 or patience < 1 or min_lr < 0 or min_delta < 0 or cooldown < 0:
            raise ValueError(
                "ReduceLROnPlateau needs 0 < factor < 1, patience >= 1, min_lr >= 0, "
                "min_delta >= 0 and cooldown >= 0"
            )
        self.factor, self.patience = float(factor), int(patience)
        self.min_lr, self.min_delta = float(min_lr), float(min_delta)
        self.cooldown = int(cooldown)
        self.best, self.bad_epochs, self.cooldown_counter = math.inf, 0, 0

    def __call__(self, epoch, base_lr, current_lr, monitored_loss=None):
        """Return the learning rate for the next epoch, given the epoch's monitored loss."""
        if monitored_loss is None:
            return current_lr
        in_cooldown = self.cooldown_counter > 0
        if in_cooldown:
            self.cooldown_counter -= 1
            self.bad_epochs = 0
        if monitored_loss < self.best - self.min_delta:
            self.best, self.bad_epochs = monitored_loss, 0
            return current_lr
        if in_cooldown:
            return current_lr
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience and current_lr > self.min_lr:
            self.bad_epochs = 0
            self.cooldown_counter = self.cooldown
            return max(current_lr * self.factor, self.min_lr)
        return current_lr

    def state_dict(self):
        """The counters: ``{'best', 'bad_epochs', 'cooldown_counter'}``."""
        return {
            "best": float(self.best),
            "bad_epochs": int(self.bad_epochs),
            "cooldown_counter": int(self.cooldown_counter),
        }

    def load_state_dict(self, state):
        """Continue from counters saved by :meth:`state_dict`."""
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.cooldown_counter = int(state["cooldown_counter"])


SCHEDULES = {
    "constant": ConstantLR,
    "step": StepLR,
    "cosine": CosineLR,
    "plateau": ReduceLROnPlateau,
}


def get_schedule(schedule):
    """Return a schedule object for a name in ``SCHEDULES``, a callable, or None.

    Parameters
    ----------
    schedule : {'constant', 'step', 'cosine', 'plateau'}, callable or None
        None means a constant rate; a callable is used as it is.

    Returns
    -------
    callable
        ``schedule(epoch, base_lr, current_lr, monitored_loss) -> new_lr``.
    """
    if schedule is None:
        return ConstantLR()
    if callable(schedule):
        return schedule
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {schedule!r}")
    return SCHEDULES[schedule]()
