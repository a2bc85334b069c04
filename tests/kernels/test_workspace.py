"""Training steps reuse their temporaries (tsrnn.kernels.workspace) without changing
any result."""

import threading

import numpy as np
import pytest

from tests.helpers import assert_bit_identical
from tsrnn import (
    GRU,
    LSTM,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GlobalMaxPooling1D,
    MaxPooling1D,
    Network,
)
from tsrnn.kernels import workspace
from tsrnn.kernels.cpu import arrays
from tsrnn.losses import MSE
from tsrnn.training import Adam, fit, train_step


def test_arrays_are_distinct_within_a_step_and_reused_after_release():
    pool = arrays.new_workspace()
    with workspace.reusing(pool):
        a = arrays.empty((3, 4), np.float32)
        b = arrays.empty((3, 4), np.float32)
        c = arrays.zeros(5, np.float64)
        d = arrays.copy(np.arange(6.0).reshape(2, 3))
    assert a is not b and not np.shares_memory(a, b)
    np.testing.assert_array_equal(c, 0)
    np.testing.assert_array_equal(d, np.arange(6.0).reshape(2, 3))
    with workspace.reusing(pool):
        # Same requests, same order: the same arrays; zeros are zeroed again.
        c[...] = 7
        assert arrays.empty((3, 4), np.float32) is a
        assert arrays.empty((3, 4), np.float32) is b
        assert arrays.zeros((5,), np.float64) is c
        np.testing.assert_array_equal(c, 0)
        assert arrays.empty((3, 4), np.float64) is not a  # another dtype: another array
    assert pool.nbytes == a.nbytes * 2 + c.nbytes + d.nbytes + 3 * 4 * 8
    # Outside any workspace the functions allocate as before.
    assert arrays.empty((3, 4), np.float32) is not a


def test_workspace_is_only_active_in_its_own_thread():
    pool = arrays.new_workspace()
    seen = []
    with workspace.reusing(pool):
        thread = threading.Thread(target=lambda: seen.append(workspace.active()))
        thread.start()
        thread.join()
        assert workspace.active() is pool
    assert seen == [None] and workspace.active() is None


def _data(n=50, steps=9, features=2):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, steps, features))
    return X, np.tanh(X.sum(axis=(1, 2)))[:, None]


@pytest.mark.parametrize(
    "make",
    [
        lambda: [LSTM(5, bidirectional=True, num_layers=2), Dense(1)],
        lambda: [
            Conv1D(4, 3, padding="causal"),
            GRU(4, return_sequences=True, dropout=0.2, recurrent_dropout=0.3),
            GlobalMaxPooling1D(),
            Dropout(0.1),
            Dense(1),
        ],
        lambda: [Conv1D(3, 2), MaxPooling1D(2), Flatten(), Dense(1, activation="tanh")],
    ],
    ids=["bilstm-stack", "conv-gru-dropout", "cnn"],
)
def test_reused_temporaries_give_bit_identical_training(make):
    """50 samples in batches of 16: the last batch is smaller, so two sets of shapes
    alternate in the pool; weights and losses must not notice."""
    X, y = _data()
    mask = np.ones(X.shape[:2], bool)
    mask[::3, 6:] = False  # padded sequences go through the masked kernels

    def run(with_workspace):
        net = Network(make()).build(X.shape[1:], random_state=3)
        opt, rng = Adam(1e-2), np.random.default_rng(5)
        pool = arrays.new_workspace() if with_workspace else None
        grads, losses = net.params.zeros_like(), []
        for _ in range(3):
            for start in range(0, len(X), 16):
                sl = slice(start, start + 16)
                m = mask[sl] if net.layers[0].supports_mask else None
                losses.append(
                    train_step(net, opt, MSE(), X[sl], y[sl], m, None, rng, None, grads, pool)
                )
        return net.get_weights(), losses, pool

    w_plain, l_plain, _ = run(False)
    w_pool, l_pool, pool = run(True)
    assert_bit_identical(w_pool, w_plain)
    assert l_pool == l_plain
    # The pool holds one step's temporaries per batch shape, not one per step.
    size = pool.nbytes
    assert size > 0
    net_again = run(True)[2]
    assert net_again.nbytes == size


def test_pool_stops_growing_after_the_first_epoch():
    X, y = _data(n=64)
    net = Network([LSTM(6), Dense(1)]).build(X.shape[1:], random_state=0)
    sizes = []
    pool = arrays.new_workspace()
    opt, grads = Adam(), net.params.zeros_like()
    for _ in range(3):
        for start in range(0, len(X), 24):  # 24, 24, 16
            train_step(
                net,
                opt,
                MSE(),
                X[start : start + 24],
                y[start : start + 24],
                grads=grads,
                workspace=pool,
            )
        sizes.append(pool.nbytes)
    assert sizes[0] == sizes[1] == sizes[2]


def test_fit_trains_exactly_like_plain_steps_without_a_workspace():
    X, y = _data(n=40)
    net = Network([LSTM(5), Dense(1)]).build(X.shape[1:], random_state=0)
    fit(net, X, y, optimizer=Adam(1e-2), epochs=2, batch_size=16, shuffle=False)
    plain = Network([LSTM(5), Dense(1)]).build(X.shape[1:], random_state=0)
    Xc, _ = plain.check_input(X)
    opt = Adam(1e-2)
    for _ in range(2):
        for start in range(0, len(X), 16):
            train_step(plain, opt, MSE(), Xc[start : start + 16], y[start : start + 16])
    assert_bit_identical(net, plain)
