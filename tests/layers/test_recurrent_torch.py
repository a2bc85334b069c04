"""Cross-check against PyTorch's RNN/LSTM/GRU: same weights, same inputs."""

import numpy as np
import pytest

from tests.helpers import make_case, rel_err
from tsrnn.interop import recurrent_from_torch_state_dict, recurrent_to_torch_state_dict

torch = pytest.importorskip("torch", reason="PyTorch is the cross-check reference; not installed")
pytestmark = pytest.mark.torch

TORCH_CELLS = [("rnn", {}), ("rnn", {"activation": "relu"}), ("lstm", {}), ("gru", {})]
TORCH_IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
TOLERANCE = {"float32": 1e-5, "float64": 1e-10}


def _torch_module(layer):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[layer.cell]
    kwargs = {"nonlinearity": layer.activation} if layer.cell == "rnn" else {}
    module = cls(
        layer.input_size,
        layer.hidden_size,
        num_layers=layer.num_layers,
        bidirectional=layer.bidirectional,
        **kwargs,
    )
    dtype = torch.float64 if layer.dtype == np.float64 else torch.float32
    return module.to(dtype)


def _tensor(a, dtype, grad=True):
    t = torch.tensor(np.asarray(a), dtype=dtype)
    return t.requires_grad_(grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("stack", [(1, False), (2, True), (3, False)], ids=["1", "2-bi", "3"])
@pytest.mark.parametrize(("cell", "options"), TORCH_CELLS, ids=TORCH_IDS)
def test_outputs_and_gradients_match_torch(cell, options, stack, dtype):
    num_layers, bidirectional = stack
    case = make_case(
        cell,
        options,
        12,
        5,
        4,
        6,
        num_layers,
        bidirectional,
        dtype=dtype,
        seed=num_layers,
        scale=0.4,
    )
    layer, params = case["layer"], case["params"]
    module = _torch_module(layer)
    module.load_state_dict(recurrent_to_torch_state_dict(layer, params))
    tdt = next(module.parameters()).dtype

    x, h0 = _tensor(case["x"], tdt), _tensor(case["h0"], tdt)
    if cell == "lstm":
        c0 = _tensor(case["c0"], tdt)
        ty, (th, tc) = module(x, (h0, c0))
    else:
        ty, th = module(x, h0)
    loss = (ty * _tensor(case["dy"], tdt, False)).sum()
    loss = loss + (th * _tensor(case["dh_n"], tdt, False)).sum()
    if cell == "lstm":
        loss = loss + (tc * _tensor(case["dc_n"], tdt, False)).sum()
    loss.backward()

    y, h_n, c_n, cache = layer.forward(params, case["x"], None, case["h0"], case["c0"])
    dx, grads, dh0, dc0 = layer.backward(params, cache, case["dy"], case["dh_n"], case["dc_n"])

    tol = TOLERANCE[dtype]
    assert rel_err(y, ty.detach().numpy()) <= tol
    assert rel_err(h_n, th.detach().numpy()) <= tol
    assert rel_err(dx, x.grad.numpy()) <= tol
    assert rel_err(dh0, h0.grad.numpy()) <= tol
    if cell == "lstm":
        assert rel_err(c_n, tc.detach().numpy()) <= tol
        assert rel_err(dc0, c0.grad.numpy()) <= tol
    # Map tsrnn's gradients to torch's parameter names through the same export.
    exported = recurrent_to_torch_state_dict(layer, grads)
    for name, p in module.named_parameters():
        if name.startswith("bias_hh") and cell != "gru":
            # tsrnn has one bias (b = b_ih + b_hh): both torch biases get its gradient.
            expected = exported[name.replace("bias_hh", "bias_ih")]
        elif name.startswith("bias_hh"):
            H = layer.hidden_size
            expected = exported[name.replace("bias_hh", "bias_ih")].clone()
            expected[2 * H :] = exported[name][2 * H :]
        else:
            expected = exported[name]
        err = rel_err(expected.numpy(), p.grad.numpy())
        assert err <= tol, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize(("cell", "options"), TORCH_CELLS, ids=TORCH_IDS)
def test_variable_length_batch_matches_packed_sequence(cell, options):
    """Masks give PyTorch's packed-sequence results: final states after each
    sequence's last real step, identical outputs on real steps."""
    case = make_case(cell, options, 10, 4, 3, 5, 2, True, seed=3)
    layer, params = case["layer"], case["params"]
    lengths = np.array([10, 7, 3, 1])
    mask = np.arange(10)[:, None] < lengths[None, :]
    module = _torch_module(layer)
    module.load_state_dict(recurrent_to_torch_state_dict(layer, params))
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(case["x"]), torch.tensor(lengths), enforce_sorted=False
    )
    out, state = module(packed)
    th = state[0] if cell == "lstm" else state
    ty, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=10)

    y, h_n, c_n, _ = layer.forward(params, case["x"], mask)
    assert rel_err(h_n, th.detach().numpy()) <= 1e-10
    if cell == "lstm":
        assert rel_err(c_n, state[1].detach().numpy()) <= 1e-10
    assert rel_err(y[mask], ty.detach().numpy()[mask]) <= 1e-10


@pytest.mark.parametrize(("cell", "options"), TORCH_CELLS, ids=TORCH_IDS)
def test_torch_state_dict_round_trip(cell, options):
    case = make_case(cell, options, 3, 2, 3, 4, 2, True, seed=9)
    layer, params = case["layer"], case["params"]
    module = _torch_module(layer)
    module.load_state_dict(recurrent_to_torch_state_dict(layer, params))
    back = recurrent_from_torch_state_dict(layer, module.state_dict())
    for name in params:
        np.testing.assert_array_equal(back[name], params[name])


def test_reset_before_gru_has_no_torch_equivalent():
    case = make_case("gru", {"reset_after": False}, 3, 2, 3, 4)
    with pytest.raises(ValueError, match="no PyTorch equivalent"):
        recurrent_to_torch_state_dict(case["layer"], case["params"])
