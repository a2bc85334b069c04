"""The training loop: divergence, reproducibility, early stopping, mini-batches."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tests.helpers import assert_bit_identical
from tsrnn import GRU, LSTM, Conv1D, Dense, Dropout, Flatten, Network
from tsrnn.training import SGD, Adam, NonFiniteLossError, fit, train_step


def _data(n=64, steps=10, features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, steps, features))
    y = (X[:, :, 0].mean(axis=1, keepdims=True) > 0).astype(float) + 0.1 * X[:, -1, 1:2]
    return X, y


def test_non_finite_loss_stops_the_step_and_keeps_the_weights():
    X, y = _data()
    net = Network([LSTM(4), Dense(1)]).build((10, 2), 0)
    before = net.get_weights()
    y_bad = y.copy()
    y_bad[3] = np.inf
    with pytest.raises(NonFiniteLossError, match="the training loss became inf"):
        train_step(net, Adam(), __import__("tsrnn").losses.MSE(), X, y_bad)
    np.testing.assert_array_equal(net.get_weights(), before)


def test_exploding_learning_rate_raises_with_last_good_weights():
    X, y = _data()
    net = Network([Dense(8, activation="relu"), Flatten(), Dense(1)]).build((10, 2), 0)
    snapshots = []
    with pytest.raises(NonFiniteLossError, match="became"):
        fit(
            net,
            X,
            y * 1e20,
            optimizer=SGD(1e10, momentum=0.0),
            epochs=50,
            batch_size=64,
            callbacks=[lambda e, h: snapshots.append(net.get_weights())],
        )
    # One step per epoch: the weights are those after the last completed step.
    assert snapshots and np.isfinite(snapshots[-1]).all()
    np.testing.assert_array_equal(net.get_weights(), snapshots[-1])


def _train(
    seed,
    threads=None,
    make=lambda: [
        Conv1D(4, 3),
        GRU(6, dropout=0.2, recurrent_dropout=0.2),
        Dropout(0.1),
        Dense(1),
    ],
):
    X, y = _data(n=96)
    net = Network(make()).build((10, 2), random_state=seed)
    with threadpool_limits(limits=threads):
        history = fit(net, X, y, optimizer=Adam(3e-3), epochs=3, batch_size=16, random_state=seed)
    return net.get_weights(), history.loss_curve


def test_same_seed_gives_bit_identical_weights_on_one_and_two_threads():
    w1, curve1 = _train(7, threads=1)
    w2, curve2 = _train(7, threads=2)
    w3, _ = _train(7)
    assert_bit_identical(w1, w2, w3)
    assert curve1 == curve2
    w4, _ = _train(8)
    assert not np.array_equal(w1, w4)


def test_early_stopping_restores_the_best_validation_epoch():
    X, y = _data(n=80)
    Xv, yv = _data(n=40, seed=1)
    net = Network([LSTM(8), Dense(1)]).build((10, 2), 0)
    weights = []
    history = fit(
        net,
        X,
        y,
        optimizer=Adam(5e-2),
        epochs=40,
        batch_size=8,
        random_state=0,
        validation_data=(Xv, yv),
        patience=3,
        callbacks=[lambda e, h: weights.append(net.get_weights())],
    )
    assert history.stopped_early
    assert len(history.validation_loss_curve) == history.n_epochs < 40
    best = int(np.argmin(history.validation_loss_curve))
    assert history.best_epoch == best
    np.testing.assert_array_equal(net.get_weights(), weights[best])


def test_mini_batch_training_reduces_the_loss():
    X, y = _data(n=128)
    net = Network([LSTM(16), Dense(1)]).build((10, 2), 0)
    history = fit(net, X, y, optimizer=Adam(1e-2), epochs=15, batch_size=32, random_state=0)
    assert history.loss_curve[-1] < 0.3 * history.loss_curve[0]


@pytest.mark.parametrize("make", [lambda: SGD(1e38, momentum=0.9), lambda: Adam(1e39)])
def test_an_undone_first_step_leaves_the_optimizer_as_new(make):
    # The very first update creates the optimizer's buffers; undoing it must drop them
    # (it used to fail with a KeyError while restoring).
    X, y = _data()
    net = Network([Flatten(), Dense(1)], dtype="float32").build((10, 2), 0)
    opt = make()
    with pytest.raises(NonFiniteLossError, match="the step was undone"):
        train_step(net, opt, __import__("tsrnn").losses.MSE(), X, y * 1e3)
    assert opt.step_count == 0 and not opt._buffers()
    fresh = Network([Flatten(), Dense(1)], dtype="float32").build((10, 2), 0)
    opt.learning_rate = 0.01
    other = make()
    other.learning_rate = 0.01
    loss = __import__("tsrnn").losses.MSE()
    train_step(net, opt, loss, X, y)
    train_step(fresh, other, loss, X, y)
    np.testing.assert_array_equal(net.get_weights(), fresh.get_weights())
