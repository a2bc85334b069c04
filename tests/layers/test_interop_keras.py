"""Weight exchange with Keras 3 (torch backend, so no TensorFlow is needed)."""

import os

import numpy as np
import pytest

from tests.helpers import make_case, rel_err
from tests.kernels.test_conv_dense import run_layer
from tsrnn import Conv1D, Dense
from tsrnn.interop import (
    layer_from_torch_state_dict,
    layer_to_torch_state_dict,
    recurrent_from_keras_weights,
    recurrent_to_keras_weights,
)

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the cross-check reference; not installed")
if keras.backend.backend() != "torch":
    pytest.skip("these tests run Keras on the torch backend", allow_module_level=True)


def _keras_recurrent(layer):
    kwargs = dict(return_sequences=True)
    if layer.cell == "rnn":
        cls, kwargs["activation"] = keras.layers.SimpleRNN, layer.activation
    elif layer.cell == "lstm":
        cls, kwargs["activation"] = keras.layers.LSTM, layer.activation
        kwargs["unit_forget_bias"] = False
    else:
        cls, kwargs["reset_after"] = keras.layers.GRU, layer.reset_after
    inputs = keras.Input((None, layer.input_size))
    h = inputs
    for _ in range(layer.num_layers):
        rnn = cls(layer.hidden_size, **kwargs)
        h = (keras.layers.Bidirectional(rnn) if layer.bidirectional else rnn)(h)
    return keras.Model(inputs, h)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    ("cell", "options"),
    [
        ("rnn", {}),
        ("rnn", {"activation": "relu"}),
        ("lstm", {}),
        ("lstm", {"activation": "relu"}),
        ("gru", {}),
        ("gru", {"reset_after": False}),
    ],
    ids=["rnn", "rnn-relu", "lstm", "lstm-relu", "gru", "gru-reset-before"],
)
def test_keras_weights_give_keras_outputs(cell, options, bidirectional):
    case = make_case(cell, options, 9, 4, 3, 5, 2, bidirectional, dtype="float32", seed=1)
    layer, params = case["layer"], case["params"]
    model = _keras_recurrent(layer)
    model.set_weights(recurrent_to_keras_weights(layer, params))
    x = case["x"].astype(np.float32)
    keras_y = keras.ops.convert_to_numpy(model(x.transpose(1, 0, 2)))  # Keras is batch-major
    y, *_ = layer.forward(params, x)
    assert rel_err(y.transpose(1, 0, 2), keras_y) <= 2e-5
    # Import: Keras' own weights give the same parameters back.
    back = recurrent_from_keras_weights(layer, model.get_weights())
    for name in params:
        np.testing.assert_allclose(back[name], params[name], rtol=1e-6, atol=1e-7)


def test_keras_gru_reset_flag_must_match():
    case = make_case("gru", {"reset_after": False}, 3, 2, 3, 4, dtype="float32")
    keras_gru = keras.layers.GRU(4, reset_after=True)
    keras_gru.build((None, 3, 3))
    with pytest.raises(ValueError, match="reset_after"):
        recurrent_from_keras_weights(case["layer"], keras_gru.get_weights())


def test_conv1d_and_dense_share_keras_layout_and_round_trip_torch():
    x = np.random.default_rng(0).standard_normal((2, 8, 3)).astype(np.float32)
    conv = Conv1D(4, 3, padding="causal", activation="relu")
    params, y, *_ = run_layer(conv, x.astype(np.float64))
    keras_conv = keras.layers.Conv1D(4, 3, padding="causal", activation="relu")
    keras_conv.build((None, 8, 3))
    keras_conv.set_weights([params["W"], params["b"]])
    keras_y = keras.ops.convert_to_numpy(keras_conv(x))
    assert rel_err(y, keras_y) <= 1e-5
    for layer, shape in ((conv, (2, 8, 3)), (Dense(5), (4, 6))):
        params, *_ = run_layer(layer, np.zeros(shape))
        state = layer_to_torch_state_dict(layer, params)
        restored = {k: np.zeros_like(v) for k, v in params.items()}
        layer_from_torch_state_dict(layer, state, restored)
        for k in params:
            np.testing.assert_array_equal(restored[k], params[k])
