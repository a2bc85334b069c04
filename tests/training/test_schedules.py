"""Learning-rate schedules: StepLR, CosineLR, and ReduceLROnPlateau with Keras' semantics
(factor, patience, min_lr, cooldown), its state and its use by tsrnn.training.fit."""

import numpy as np
import pytest

from tsrnn.layers import LSTM, Dense
from tsrnn.network import Network
from tsrnn.training import Adam, CosineLR, ReduceLROnPlateau, StepLR, TrainingHistory, fit


def _rates(schedule, losses, lr=1.0):
    rates = []
    for epoch, loss in enumerate(losses):
        lr = schedule(epoch, 1.0, lr, loss)
        rates.append(lr)
    return rates


def test_plateau_follows_keras_with_cooldown_and_min_lr():
    schedule = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.1, min_delta=0.0, cooldown=1)
    losses = [1.0] * 5 + [0.5] * 13
    # Keras: a reduction after 2 stalled epochs, then 1 cooldown epoch that counts no
    # stall; an improvement (epoch 5) resets the count; never below min_lr.
    expected = [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125]
    expected += [0.1, 0.1, 0.1, 0.1, 0.1]
    assert _rates(schedule, losses) == expected


def test_plateau_at_min_lr_keeps_counting_as_keras_does():
    schedule = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.5, min_delta=0.0)
    assert _rates(schedule, [1.0] * 4, lr=0.5) == [0.5] * 4
    assert schedule.bad_epochs == 3  # no reduction possible, so the count is not reset


def test_plateau_min_delta_is_the_smallest_improvement():
    schedule = ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.1)
    assert _rates(schedule, [1.0, 0.95, 0.8]) == [1.0, 0.5, 0.5]


def test_plateau_state_dict_continues_a_run():
    losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]
    whole = _rates(ReduceLROnPlateau(patience=2, cooldown=1), losses)
    first = ReduceLROnPlateau(patience=2, cooldown=1)
    head = _rates(first, losses[:4])
    second = ReduceLROnPlateau(patience=2, cooldown=1)
    second.load_state_dict(first.state_dict())
    lr = head[-1]
    tail = []
    for epoch, loss in enumerate(losses[4:], start=4):
        lr = second(epoch, 1.0, lr, loss)
        tail.append(lr)
    assert head + tail == whole
    assert whole == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]


@pytest.mark.parametrize(
    "kwargs",
    [{"factor": 1.0}, {"factor": 0.0}, {"patience": 0}, {"min_lr": -1.0}, {"cooldown": -1}],
)
def test_plateau_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="ReduceLROnPlateau needs 0 < factor < 1"):
        ReduceLROnPlateau(**kwargs)


def _data(n=32):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 6, 2))
    return X, X[:, -2:, 0].sum(axis=1, keepdims=True)


def test_fit_steps_the_plateau_schedule_on_the_training_loss_and_keeps_its_state():
    X, y = _data()
    net = Network([LSTM(4), Dense(1)]).build((6, 2), 0)
    schedule = ReduceLROnPlateau(factor=0.5, patience=1, min_delta=10.0)  # never improves
    history = fit(
        net,
        X,
        y,
        optimizer=Adam(0.01),
        epochs=4,
        batch_size=16,
        schedule=schedule,
        random_state=0,
    )
    # learning_rates[e] is the rate epoch e trained with: halved after each epoch but
    # the first (which sets the best loss).
    np.testing.assert_allclose(history.learning_rates, [0.01, 0.01, 0.005, 0.0025])
    assert history.schedule_state == schedule.state_dict()
    assert history.schedule_state["best"] == history.loss_curve[0]
    # A new schedule continuing the history picks up its counters.
    optimizer = Adam(0.00125)
    fit(
        net,
        X,
        y,
        optimizer=optimizer,
        epochs=1,
        batch_size=16,
        schedule=ReduceLROnPlateau(factor=0.5, patience=1, min_delta=10.0),
        history=history,
        random_state=0,
    )
    assert optimizer.learning_rate == pytest.approx(0.000625)
    assert history.schedule_state["best"] == history.loss_curve[0]


def test_history_without_a_stateful_schedule_has_no_schedule_state():
    X, y = _data()
    net = Network([LSTM(4), Dense(1)]).build((6, 2), 0)
    history = fit(net, X, y, optimizer=Adam(0.01), epochs=2, batch_size=16, random_state=0)
    assert history.schedule_state is None
    assert TrainingHistory().schedule_state is None


def test_learning_rate_schedules():
    assert [StepLR(2, 0.5)(e, 1.0, None) for e in range(5)] == [1.0, 0.5, 0.5, 0.25, 0.25]
    cos = CosineLR(period=4, min_lr=0.0)
    assert cos(3, 1.0, None) == pytest.approx(0.0) and cos(1, 1.0, None) == pytest.approx(0.5)
    plateau = ReduceLROnPlateau(factor=0.5, patience=2)
    lrs = [
        plateau(e, 1.0, lr, loss)
        for e, (lr, loss) in enumerate([(1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (0.5, 0.5)])
    ]
    assert lrs == [1.0, 1.0, 0.5, 0.5]
