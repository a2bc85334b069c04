"""The Network and the training loop: masks, bad input, divergence, reproducibility."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tsrnn import (
    GRU,
    LSTM,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    Network,
)
from tsrnn.training import SGD, Adam, NonFiniteLossError, fit, train_step
from tsrnn.training.schedules import CosineLR, ReduceLROnPlateau, StepLR


def _data(n=64, steps=10, features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, steps, features))
    y = (X[:, :, 0].mean(axis=1, keepdims=True) > 0).astype(float) + 0.1 * X[:, -1, 1:2]
    return X, y


@pytest.mark.parametrize(
    "make_layers",
    [
        lambda: [LSTM(6, bidirectional=True), Dense(1)],
        lambda: [GRU(5, return_sequences=True), GlobalAveragePooling1D(), Dense(2)],
        lambda: [
            Conv1D(4, 3, padding="causal"),
            LSTM(4, return_sequences=True),
            GlobalMaxPooling1D(),
            Dense(1),
        ],
    ],
    ids=["bilstm-last", "gru-seq-gap", "causalconv-lstm-gmp"],
)
def test_padded_batch_equals_unpadded_sequences(make_layers):
    """Padding never changes the result for the real steps: outputs and gradients of a
    padded, masked batch equal those of each sequence alone."""
    net = Network(make_layers(), dtype="float64").build((None, 3), random_state=1)
    rng = np.random.default_rng(2)
    lengths = [9, 4, 6, 1]
    X = np.zeros((4, 9, 3))
    for i, n in enumerate(lengths):
        X[i, :n] = rng.standard_normal((n, 3))
        X[i, n:] = 1e3 * rng.standard_normal((9 - n, 3))  # garbage in the padding
    mask = np.arange(9)[None, :] < np.array(lengths)[:, None]
    out, caches = net.forward(X, mask)
    dout = rng.standard_normal(out.shape)
    grads = net.backward(caches, dout).flat.copy()
    total = np.zeros_like(grads)
    for i, n in enumerate(lengths):
        out_i, caches_i = net.forward(X[i : i + 1, :n])
        np.testing.assert_allclose(out[i], out_i[0], rtol=1e-12, atol=1e-12)
        total += net.backward(caches_i, dout[i : i + 1]).flat
    np.testing.assert_allclose(grads, total, rtol=1e-10, atol=1e-12)


def test_layers_that_cannot_mask_say_so():
    net = Network([Conv1D(4, 3, padding="same"), LSTM(3), Dense(1)]).build((8, 2), 0)
    mask = np.ones((2, 8), bool)
    mask[1, 5:] = False
    with pytest.raises(ValueError, match="Conv1D cannot take variable-length sequences"):
        net.forward(np.zeros((2, 8, 2)), mask)
    net2 = Network([Conv1D(4, 3), MaxPooling1D(2), Flatten(), Dense(1)]).build((8, 2), 0)
    with pytest.raises(ValueError, match="cannot take variable-length sequences"):
        net2.forward(np.zeros((2, 8, 2)), mask)


def test_bad_input_to_the_network():
    net = Network([LSTM(3), Dense(1)]).build((None, 2), 0)
    with pytest.raises(ValueError, match="input has 3 features, but the network was built for 2"):
        net.predict(np.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match="input is empty: it has 0 samples"):
        net.predict(np.zeros((0, 5, 2)))
    with pytest.raises(ValueError, match="input contains NaN or infinity"):
        net.predict(np.full((1, 5, 2), np.nan))
    with pytest.raises(ValueError, match="input contains NaN or infinity"):
        net.predict(np.full((1, 5, 2), np.inf))
    with pytest.raises(ValueError, match=r"expected input of shape \(n_samples, n_steps"):
        net.predict(np.zeros((5, 2)))
    with pytest.raises(TypeError, match="input must be real numbers"):
        net.predict(np.zeros((1, 5, 2), dtype=complex))
    with pytest.raises(ValueError, match="every sequence needs at least one unmasked step"):
        net.predict(np.zeros((2, 5, 2)), mask=np.zeros((2, 5), bool))
    flat = Network([Conv1D(2, 3), Flatten(), Dense(1)]).build((10, 2), 0)
    with pytest.raises(ValueError, match="Flatten was built for sequences of shape"):
        flat.predict(np.zeros((1, 12, 2)))
    with pytest.raises(RuntimeError, match="not built yet"):
        Network([Dense(1)]).predict(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="X has 64 samples but y has 3"):
        fit(net, _data()[0], np.zeros((3, 1)), optimizer=Adam(), epochs=1)


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
    assert np.array_equal(w1, w2) and np.array_equal(w1, w3)
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
