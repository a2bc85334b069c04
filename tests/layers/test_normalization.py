"""BatchNormalization in a network: its moving statistics are state in the flat
buffer that training updates, weight decay leaves alone, and model files carry."""

import numpy as np
import pytest

import tsrnn
from tsrnn import (
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    GlobalAveragePooling1D,
    LayerNormalization,
    Network,
    SequenceRegressor,
    losses,
)
from tsrnn.training import SGD, Adam, NonFiniteLossError, train_step

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 10, 2)) * 2 + 1
Y = X[:, -3:, 0].sum(axis=1, keepdims=True)
MOVING = ("1.batch_normalization.moving_mean", "1.batch_normalization.moving_variance")


def network(dtype="float64"):
    layers = [
        Conv1D(4, 3, padding="same", activation="tanh"),
        BatchNormalization(momentum=0.5),
        Activation("relu"),
        LayerNormalization(),
        GlobalAveragePooling1D(),
        Dense(1),
    ]
    return Network(layers, dtype=dtype).build((10, 2), 0)


@pytest.mark.parametrize(
    "optimizer",
    [lambda wd: Adam(1e-2, weight_decay=wd), lambda wd: SGD(1e-2, momentum=0.9, weight_decay=wd)],
)
def test_weight_decay_leaves_the_moving_statistics_alone(optimizer):
    decayed = network()
    train_step(decayed, optimizer(0.5), losses.MSE(), X, Y)
    forward_only = network()
    forward_only.forward(X, training=True)  # the same batch statistics, and no update
    for name in MOVING:
        np.testing.assert_array_equal(decayed.params[name], forward_only.params[name])
    assert np.abs(decayed.params[MOVING[0]]).max() > 0.1  # the batch did move them
    assert decayed.non_trainable_slices() == [slice(36, 40), slice(40, 44)]


def test_gradients_of_the_moving_statistics_are_zero_in_a_reused_buffer():
    net = network()
    grads = net.params.zeros_like()
    grads.flat[:] = np.nan  # a buffer reused from an earlier step holds old values
    out, caches = net.forward(X, training=True)
    net.backward(caches, np.ones_like(out), grads)
    for name in MOVING:
        assert (grads[name] == 0).all()
    assert np.isfinite(grads.flat).all()


def test_a_non_finite_batch_leaves_the_moving_statistics_unchanged():
    net = network()
    before = net.get_weights()
    bad = X.copy()
    bad[3, 4, 1] = np.nan  # train_step takes validated input; a NaN reaches the layers here
    with pytest.raises(NonFiniteLossError, match="the training loss became nan"):
        train_step(net, Adam(1e-2), losses.MSE(), bad, Y)
    np.testing.assert_array_equal(net.get_weights(), before)


def test_inference_uses_the_moving_statistics():
    net = network()
    for _ in range(3):
        train_step(net, Adam(1e-2), losses.MSE(), X, Y)
    one = net.predict(X[:1])
    np.testing.assert_allclose(net.predict(X)[:1], one, rtol=1e-12)  # batch-independent
    train_out, _ = net.forward(X[:1], training=True)
    assert not np.allclose(train_out, one)  # a batch of one normalises to beta


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_files_carry_the_moving_statistics(dtype, tmp_path):
    est = SequenceRegressor(hidden_size=2, max_epochs=1, random_state=0, dtype=dtype).fit(X, Y)
    net, optimizer = network(dtype), Adam(1e-2)
    for _ in range(3):
        train_step(net, optimizer, losses.MSE(), X.astype(dtype), Y.astype(dtype))
    est.network_, est._optimizer = net, optimizer  # a consistent state, as a fit leaves
    assert net.params[MOVING[1]].min() != 1.0  # trained away from their initial values
    path = tmp_path / "model.tsrnn"
    tsrnn.save(est, path)
    loaded = tsrnn.load(path)
    assert [type(layer) for layer in loaded.network_.layers] == [type(la) for la in net.layers]
    np.testing.assert_array_equal(loaded.network_.get_weights(), net.get_weights())
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
