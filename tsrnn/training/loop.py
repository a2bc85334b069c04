"""Mini-batch training: one step, and the epoch loop with validation and early stopping.

Randomness (shuffling, dropout masks) comes from one ``numpy.random.Generator``
seeded by ``random_state``, so the same seed gives bit-identical weights.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from tsrnn._random import as_generator
from tsrnn._threads import training_network
from tsrnn.backend import backend_of
from tsrnn.kernels.workspace import reusing
from tsrnn.losses import get_loss
from tsrnn.training.optimizers import clip_by_global_norm
from tsrnn.training.schedules import get_schedule


class NonFiniteLossError(FloatingPointError):
    """The loss or the gradient became NaN or infinite; the step was not applied.

    Raised by :func:`fit_batches`, ``before_last_step`` holds ``(weights, optimizer
    state)`` from before the last step that was applied (whose loss was finite), or
    None when no step was applied: the weights a failing step leaves may themselves
    be those that give a non-finite loss.
    """

    before_last_step = None


@dataclass
class TrainingHistory:
    """What a run of :func:`fit` saw, epoch by epoch."""

    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int = -1
    n_epochs: int = 0
    stopped_early: bool = False
    #: Epochs since the last improvement (early stopping resumes from it).
    bad_epochs: int = 0
    #: The learning rate before any schedule changed it.
    base_learning_rate: float | None = None
    #: Copy of the weights at ``best_epoch`` (kept with ``track_best`` or ``patience``).
    best_weights: np.ndarray | None = None
    #: The network's output on the validation data after the latest epoch, so that
    #: callbacks can score it without running inference again.
    validation_output: np.ndarray | None = None
    #: The learning-rate schedule's counters (``schedule.state_dict()``), for schedules
    #: with state such as ``ReduceLROnPlateau``: warm starts and resumed runs continue them.
    schedule_state: dict | None = None


def train_step(
    network,
    optimizer,
    loss,
    X,
    y,
    mask=None,
    sample_weight=None,
    rng=None,
    clip_norm=None,
    grads=None,
    workspace=None,
    undo=None,
):
    """Forward, loss, backward, optional clipping, and one optimizer update.

    Inputs must already be validated (``network.check_input``). Raises
    :class:`NonFiniteLossError` when the loss, a gradient or an updated weight is
    NaN or infinite; the parameters and optimizer state are then those before the
    step, so the network keeps its last good weights.
    ``grads`` (a buffer like the parameters) and ``workspace`` (from the backend's
    ``arrays.new_workspace()``, see :mod:`tsrnn.kernels.workspace`) let a training
    loop reuse the gradient buffer and the step's temporaries from step to step.
    ``undo`` (a dict), when given, receives the weights (``"params"``) and optimizer
    state (``"optimizer"``) from before an applied step.
    Returns the batch loss.
    """
    if grads is None:
        grads = network.params.zeros_like()
    with reusing(workspace):  # every temporary of the forward and backward dies here
        out, caches = network.forward(X, mask, training=True, rng=rng, validate=False)
        value, dout = loss(out, y, sample_weight)
        if not math.isfinite(value):
            raise NonFiniteLossError(f"the training loss became {value}; the step was not applied")
        network.backward(caches, dout, grads)
    params = network.params.flat
    backend = backend_of(params)
    if not backend.optim.all_finite(grads.flat):
        raise NonFiniteLossError("a gradient became NaN or infinite; the step was not applied")
    if clip_norm is not None:
        clip_by_global_norm(grads.flat, clip_norm)
    # Finite gradients can still overflow a weight (a huge learning rate): keep what is
    # needed to undo the update (a copy of the flat buffers costs far less than a step;
    # on a GPU the copies stay on the device).
    saved_params, saved_state = backend.arrays.copy(params), optimizer.state_dict()
    optimizer.update(params, grads.flat)
    for frozen in network.non_trainable_slices():  # weight decay would shrink them
        backend.arrays.copy_into(saved_params[frozen], params[frozen])
    if not backend.optim.all_finite(params):
        backend.arrays.copy_into(saved_params, params)
        optimizer.load_state_dict(saved_state)
        raise NonFiniteLossError("an update made a weight NaN or infinite; the step was undone")
    if undo is not None:
        undo["params"], undo["optimizer"] = saved_params, saved_state
    return value


def _take(a, idx):
    return None if a is None else a[idx]


def evaluate(network, loss, X, y, mask=None, sample_weight=None, batch_size=512):
    """``(loss, output)`` of the network in inference mode on already-validated inputs."""
    out = network.predict(X, mask, batch_size=batch_size, validate=False)
    return loss(out, y, sample_weight)[0], out


def fit(
    network,
    X,
    y,
    *,
    loss="mse",
    optimizer,
    epochs=100,
    batch_size=32,
    mask=None,
    sample_weight=None,
    validation_data=None,
    patience=None,
    min_delta=0.0,
    restore_best=True,
    clip_norm=None,
    schedule=None,
    shuffle=True,
    random_state=None,
    callbacks=(),
    history=None,
    track_best=False,
):
    """Train ``network`` with mini-batch gradient descent.

    Parameters
    ----------
    network : Network
        Built; trained in place.
    X : ndarray (n_samples, n_steps, n_features)
    y : ndarray (n_samples, ...)
        Targets in the loss' format.
    loss : str or Loss
    optimizer : Optimizer
    epochs, batch_size : int
    mask : ndarray (n_samples, n_steps) of bool, optional
    sample_weight : ndarray (n_samples,), optional
    validation_data : tuple (X_val, y_val[, mask_val[, sample_weight_val]]), optional
        Its loss is computed after every epoch and is what early stopping and
        ``ReduceLROnPlateau`` monitor; without it they monitor the training loss.
    patience : int, optional
        Stop after this many epochs without an improvement larger than ``min_delta``.
    restore_best : bool, default=True
        With ``patience``, end with the weights of the best monitored epoch.
    clip_norm : float, optional
        Clip the gradient's global norm (against exploding gradients in BPTT).
    schedule : str or callable, optional
        Learning-rate schedule (see :mod:`tsrnn.training`), stepped after
        every epoch with the monitored loss, e.g. ``ReduceLROnPlateau(factor=0.5,
        patience=10)`` or ``'plateau'``. The state of a schedule with ``state_dict``
        is kept in ``history.schedule_state`` and continued from it.
    random_state : int or Generator, optional
        Seeds shuffling and dropout.
    callbacks : sequence of callables ``f(epoch, history) -> bool``
        Called after each epoch; returning True stops training.
    history : TrainingHistory, optional
        Continue an earlier history (warm starts). Pass one to keep what was learnt
        when training is interrupted: it is updated after every epoch.
    track_best : bool, default=False
        Keep a copy of the best epoch's weights in ``history.best_weights`` (so a
        caller can restore them after an interruption).

    Returns
    -------
    TrainingHistory

    Raises
    ------
    NonFiniteLossError
        When a step's loss or gradient is not finite; the weights are those before
        that step and ``history`` (passed in) holds the epochs completed.
    """
    rng = as_generator(random_state)
    X, mask = network.check_input(X, mask)
    if len(y) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {len(y)}")
    if validation_data is not None:
        Xv, yv, mv, wv = (tuple(validation_data) + (None, None))[:4]
        Xv, mv = network.check_input(Xv, mv)
        validation_data = (Xv, yv, mv, wv)

    return fit_batches(
        network,
        array_batches(X, y, mask, sample_weight, batch_size, shuffle),
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        validation_data=validation_data,
        patience=patience,
        min_delta=min_delta,
        restore_best=restore_best,
        clip_norm=clip_norm,
        schedule=schedule,
        random_state=rng,
        callbacks=callbacks,
        history=history,
        track_best=track_best,
    )


def resolve_batch_size(batch_size, n_samples, auto_rule):
    """The batch size for ``n_samples`` samples.

    Parameters
    ----------
    batch_size : int or 'auto'
        An estimator's ``batch_size`` parameter (checked by its constraints).
    n_samples : int
        Training samples (or windows) per epoch.
    auto_rule : callable
        ``auto_rule(n_samples)``, the estimator's batch size for 'auto'.

    Returns
    -------
    int
    """
    if batch_size == "auto":
        return auto_rule(n_samples)
    return batch_size


def array_batches(X, y, mask, sample_weight, batch_size, shuffle=True):
    """Mini-batches of in-memory arrays for :func:`fit_batches`.

    ``epoch_batches(rng)`` for :func:`fit_batches` over validated in-memory arrays:
    a new permutation per epoch (when shuffling), zero-weight batches skipped.
    """

    def epoch_batches(rng):
        n = X.shape[0]
        order = rng.permutation(n) if shuffle else np.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w = _take(sample_weight, idx)
            if w is not None and not (w > 0).any():
                continue  # a batch of zero-weight samples carries no gradient
            m = _take(mask, idx)
            yield X[idx], y[idx], None if m is None or m.all() else m, w

    return epoch_batches


@training_network()
def fit_batches(
    network,
    epoch_batches,
    *,
    loss="mse",
    optimizer,
    epochs=100,
    validation_data=None,
    patience=None,
    min_delta=0.0,
    restore_best=True,
    clip_norm=None,
    schedule=None,
    random_state=None,
    callbacks=(),
    history=None,
    track_best=False,
):
    """The epoch loop of :func:`fit` over batches from any source.

    ``epoch_batches(rng)`` returns an iterator of validated mini-batches
    ``(X, y, mask, sample_weight)`` (mask and weight may be None) for one epoch; it
    is how data larger than memory is streamed (see :mod:`tsrnn.streaming`).
    ``validation_data`` must already be validated. Other parameters as in :func:`fit`.
    Training runs with BLAS on one thread (:func:`tsrnn._threads.training_network`),
    so that a seeded fit does not depend on the number of threads.
    """
    loss = get_loss(loss)
    schedule = get_schedule(schedule)
    stateful = hasattr(schedule, "state_dict") and hasattr(schedule, "load_state_dict")
    rng = as_generator(random_state)
    history = TrainingHistory() if history is None else history
    if history.base_learning_rate is None:
        history.base_learning_rate = optimizer.learning_rate
    base_lr = history.base_learning_rate
    if stateful and history.schedule_state is not None:
        schedule.load_state_dict(history.schedule_state)
    keep_best = track_best or (patience is not None and restore_best)
    grads = network.params.zeros_like()
    workspace = network.backend.arrays.new_workspace()
    undo = {}
    # Epochs are numbered across warm starts and resumed runs, so schedules continue.
    for epoch in range(history.n_epochs, history.n_epochs + epochs):
        total, weight_total = 0.0, 0.0
        for Xb, yb, m, w in epoch_batches(rng):
            try:
                value = train_step(
                    network, optimizer, loss, Xb, yb, m, w, rng, clip_norm, grads, workspace, undo
                )
            except NonFiniteLossError as exc:
                if undo:
                    exc.before_last_step = undo["params"], undo["optimizer"]
                raise
            batch_weight = len(yb) if w is None else float(np.sum(w))
            total += value * batch_weight
            weight_total += batch_weight
        if weight_total == 0:
            raise ValueError("an epoch produced no training batches (the data is empty)")
        train_loss = total / weight_total
        history.loss_curve.append(train_loss)
        history.learning_rates.append(optimizer.learning_rate)
        monitored = train_loss
        if validation_data is not None:
            monitored, history.validation_output = evaluate(network, loss, *validation_data)
            history.validation_loss_curve.append(monitored)
        history.n_epochs += 1
        if monitored < history.best_loss - min_delta:
            history.best_loss, history.best_epoch = monitored, history.n_epochs - 1
            history.bad_epochs = 0
            if keep_best:
                history.best_weights = network.get_weights()
        else:
            history.bad_epochs += 1
        optimizer.learning_rate = schedule(epoch, base_lr, optimizer.learning_rate, monitored)
        if stateful:
            history.schedule_state = schedule.state_dict()
        # The stopping decision is part of the epoch's state: callbacks (checkpoints)
        # must see it, or a run killed after its last checkpoint would resume training.
        stop = patience is not None and history.bad_epochs >= patience
        if stop:
            history.stopped_early = True
        if any(bool(cb(epoch, history)) for cb in callbacks) or stop:
            break
    if patience is not None and restore_best and history.best_weights is not None:
        network.set_weights(history.best_weights)
    return history
