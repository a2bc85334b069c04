"""Initialisation follows the anchors (Keras) and is reproducible by seed."""

import numpy as np
import pytest

from tsrnn import Recurrent


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_same_seed_same_weights_different_seed_different_weights(cell):
    layer = Recurrent(cell, 3, 8, num_layers=2, bidirectional=True)
    a, b, c = layer.init_params(7), layer.init_params(7), layer.init_params(8)
    assert np.array_equal(a.flat, b.flat)
    assert not np.array_equal(a.flat, c.flat)
    # float64 draws the same numbers before casting.
    d = Recurrent(cell, 3, 8, num_layers=2, bidirectional=True, dtype="float64").init_params(7)
    assert np.array_equal(d.flat.astype(np.float32), a.flat)


@pytest.mark.parametrize("cell,gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_glorot_uniform_inputs_orthogonal_recurrent_zero_biases(cell, gates):
    H, F = 16, 5
    layer = Recurrent(cell, F, H, dtype="float64")
    p = layer.init_params(0)
    limit = np.sqrt(6.0 / (F + gates * H))
    assert np.abs(p["l0.W_x"]).max() <= limit
    assert np.abs(p["l0.W_x"]).max() > 0.8 * limit  # spread over the interval
    W_h = p["l0.W_h"]
    np.testing.assert_allclose(W_h @ W_h.T, np.eye(H), atol=1e-12)  # orthonormal rows
    expected_b = np.zeros(gates * H)
    if cell == "lstm":
        expected_b[H : 2 * H] = 1.0  # forget gate
    np.testing.assert_array_equal(p["l0.b"], expected_b)


def test_forget_bias_can_be_turned_off():
    p = Recurrent("lstm", 2, 4, unit_forget_bias=False).init_params(0)
    assert not p["l0.b"].any()


def test_parameters_share_one_flat_buffer():
    layer = Recurrent("gru", 3, 4, num_layers=2, bidirectional=True)
    p = layer.init_params(0)
    assert sum(v.size for v in p.values()) == p.flat.size
    p.flat[:] = 0
    assert all(not v.any() for v in p.values())
    assert [name for name, _ in layer.param_specs()][:4] == ["l0.W_x", "l0.W_h", "l0.b", "l0.b_hn"]
