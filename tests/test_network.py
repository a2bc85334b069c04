"""The Network: padded batches, layers that cannot mask, bad input."""

import numpy as np
import pytest

from tsrnn import (
    GRU,
    LSTM,
    Conv1D,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    Network,
)
from tsrnn.training import Adam, fit


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


def _every_layer():
    """One network per layer kind (and activation), each layer last before its output."""
    from tsrnn import (
        RNN,
        Activation,
        AveragePooling1D,
        BatchNormalization,
        Dropout,
        LayerNormalization,
        Parallel,
        Residual,
    )

    sequences = [
        *(Conv1D(4, 3, padding="same", activation=a) for a in ("linear", "relu", "tanh")),
        *(BatchNormalization(activation=a) for a in ("linear", "relu", "tanh")),
        LayerNormalization(),
        Activation("relu"),
        Activation("sigmoid"),
        Dropout(0.5),
        LSTM(3, return_sequences=True),
        GRU(3, return_sequences=True, bidirectional=True),
        RNN("rnn", 3, return_sequences=True, dropout=0.2),
        MaxPooling1D(2),
        AveragePooling1D(2),
        Dense(3),
        Parallel([[Conv1D(2, 3, padding="same")], [LSTM(2, return_sequences=True)]]),
        Residual([Conv1D(3, 3, padding="same", activation="linear")]),
    ]
    vectors = [GlobalAveragePooling1D(), GlobalMaxPooling1D(), Flatten(), LSTM(3)]
    return [[layer] for layer in sequences + vectors] + [[GlobalAveragePooling1D(), Dense(2)]]


@pytest.mark.parametrize("layers", _every_layer(), ids=lambda layers: repr(layers[-1])[:40])
def test_backward_never_writes_the_gradient_it_is_given(layers):
    """dy is read only: both paths of a residual block read it, and a convolution's
    weight gradient may still read it in a helper thread after backward returns."""
    net = Network([Conv1D(3, 2, padding="same"), *layers]).build((12, 3), random_state=0)
    X = np.random.default_rng(0).standard_normal((8, 12, 3))
    out, caches = net.forward(X, training=True, rng=np.random.default_rng(1))
    # In the network's dtype: another would be converted, and the layers see a copy.
    dout = np.random.default_rng(2).standard_normal(out.shape).astype(out.dtype)
    before = dout.copy()
    net.backward(caches, dout)
    np.testing.assert_array_equal(dout, before)
