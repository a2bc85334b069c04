"""CUDA recurrent kernels against the NumPy reference (simulator or a real GPU).

Run on the simulator by ``tests/test_cuda_simulator.py`` (a subprocess with
``NUMBA_ENABLE_CUDASIM=1``), or directly on a GPU with ``pytest -m gpu tests/cuda``.
"""

import numpy as np
import pytest

from tests.helpers import random_mask, rel_err
from tsrnn.kernels.reference import recurrent as ref

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn.kernels.cuda import recurrent as kernels  # noqa: E402
from tsrnn.kernels.scalar import ACTIVATION_CODES  # noqa: E402


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # Tiny inputs must still span several blocks, with partial blocks at the edges.
    monkeypatch.setattr(kernels, "BLOCK", (2, 4))


TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}
GATES = {"rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}


def make_case(cell, dtype, mask_kind, dropout, seed=0):
    rng = np.random.default_rng(seed)
    T, B, F, H = 4, 3, 2, 5
    G = GATES[cell]
    a = dict(
        x=rng.standard_normal((T, B, F)), W_x=rng.standard_normal((F, G * H)) * 0.5,
        W_h=rng.standard_normal((H, G * H)) * 0.5, b=rng.standard_normal(G * H) * 0.1,
        b_hn=rng.standard_normal(H) * 0.1, h0=rng.standard_normal((B, H)) * 0.5,
        c0=rng.standard_normal((B, H)) * 0.5, dh_seq=rng.standard_normal((T, B, H)),
        dh_n=rng.standard_normal((B, H)), dc_n=rng.standard_normal((B, H)),
    )  # fmt: skip
    a = {k: v.astype(dtype) for k, v in a.items()}
    mask = random_mask(rng, T, B, mask_kind)
    rmask = ((rng.random((B, H)) > 0.3) / 0.7).astype(dtype) if dropout else None
    return a, mask, rmask


def reference(cell, a, mask, rmask, reverse, activation):
    """Forward outputs and gradients from the NumPy spec, in float64."""
    r = {k: v.astype(np.float64) for k, v in a.items()}
    rm = None if rmask is None else rmask.astype(np.float64)
    common = dict(mask=mask, reverse=reverse, rmask=rm)
    if cell == "lstm":
        h_seq, h_n, c_n, cache = ref.lstm_forward(
            r["x"], r["h0"], r["c0"], r["W_x"], r["W_h"], r["b"], activation=activation, **common
        )
        grads = ref.lstm_backward(cache, r["dh_seq"], r["dh_n"], r["dc_n"])
        return dict(h_seq=h_seq, h_n=h_n, c_n=c_n), grads
    if cell.startswith("gru"):
        reset_after = cell == "gru"
        h_seq, h_n, cache = ref.gru_forward(r["x"], r["h0"], r["W_x"], r["W_h"], r["b"],
                                            r["b_hn"] if reset_after else None, reset_after,
                                            **common)  # fmt: skip
    else:
        h_seq, h_n, cache = ref.rnn_forward(r["x"], r["h0"], r["W_x"], r["W_h"], r["b"],
                                            activation, **common)  # fmt: skip
    backward = ref.gru_backward if cell.startswith("gru") else ref.rnn_backward
    return dict(h_seq=h_seq, h_n=h_n), backward(cache, r["dh_seq"], r["dh_n"])


def run_cuda(cell, a, mask, rmask, reverse, activation, dtype):
    """Forward and backward with the CUDA kernels; results copied to the host."""
    T, B, F = a["x"].shape
    H = a["h0"].shape[1]
    G = GATES[cell]
    d = {k: cuda.to_device(np.ascontiguousarray(v)) for k, v in a.items()}
    full = np.ones((T, B), bool) if mask is None else np.ascontiguousarray(mask)
    d_mask = cuda.to_device(full)
    d_rmask = cuda.to_device(np.empty((0, H), dtype) if rmask is None else rmask)
    act = ACTIVATION_CODES[activation]
    empty = lambda *shape: cuda.device_array(shape, dtype)  # noqa: E731
    h_state, h_seq, h_proj = cuda.to_device(a["h0"].copy()), empty(T, B, H), empty(B, G * H)
    gates, aux, c_state = empty(T, B, G * H), empty(T, B, H), cuda.to_device(a["c0"].copy())
    c_seq = empty(T, B, H)
    weights = (d["x"], d_mask, d["W_x"], d["W_h"], d["b"])
    if cell == "lstm":
        kernels.lstm_forward(*weights, d_rmask, act, reverse, h_state, c_state, h_seq, c_seq,
                             gates, h_proj)  # fmt: skip
    elif cell == "gru":
        kernels.gru_forward(*weights, d["b_hn"], d_rmask, reverse, h_state, h_seq, gates, aux,
                            h_proj)  # fmt: skip
    elif cell == "gru_reset_before":
        kernels.gru_reset_before_forward(*weights, d_rmask, reverse, h_state, h_seq, gates,
                                         aux, empty(B, 2 * H), empty(B, H))  # fmt: skip
    else:
        kernels.rnn_forward(*weights, d_rmask, act, reverse, h_state, h_seq, h_proj)
    out = dict(h_seq=h_seq.copy_to_host(), h_n=h_state.copy_to_host())
    if cell == "lstm":
        out["c_n"] = c_state.copy_to_host()
    dh_state, dc_state = cuda.to_device(a["dh_n"].copy()), cuda.to_device(a["dc_n"].copy())
    g = dict(x=empty(T, B, F), W_x=empty(F, G * H), W_h=empty(H, G * H), b=empty(G * H),
             b_hn=empty(H))  # fmt: skip
    grads4 = (g["x"], g["W_x"], g["W_h"], g["b"])
    work = (empty(T, B, G * H), empty(T, B, H), empty(B, H))  # da_seq, h_prev_seq, dh_proj
    if cell == "lstm":
        kernels.lstm_backward(d["x"], d_mask, d["h0"], d["c0"], d["W_x"], d["W_h"], d_rmask,
                              act, reverse, h_seq, c_seq, gates, d["dh_seq"], dh_state,
                              dc_state, *grads4, *work)  # fmt: skip
    elif cell == "gru":
        kernels.gru_backward(d["x"], d_mask, d["h0"], d["W_x"], d["W_h"], d_rmask, reverse,
                             h_seq, gates, aux, d["dh_seq"], dh_state, *grads4, g["b_hn"],
                             work[0], empty(T, B, G * H), work[1], work[2])  # fmt: skip
    elif cell == "gru_reset_before":
        kernels.gru_reset_before_backward(
            d["x"], d_mask, d["h0"], d["W_x"], d["W_h"], d_rmask, reverse, h_seq, gates, aux,
            d["dh_seq"], dh_state, *grads4, work[0], work[1], empty(B, 2 * H), empty(B, H),
            empty(B, H), empty(B, H),
        )  # fmt: skip
    else:
        kernels.rnn_backward(d["x"], d_mask, d["h0"], d["W_x"], d["W_h"], d_rmask, act,
                             reverse, h_seq, d["dh_seq"], dh_state, *grads4, *work)  # fmt: skip
    grads = {k: v.copy_to_host() for k, v in g.items()}
    grads["h0"] = dh_state.copy_to_host()
    if cell == "lstm":
        grads["c0"] = dc_state.copy_to_host()
    return out, grads


# A covering set (the simulator is slow): every cell, dtype, mask kind, direction,
# dropout setting and activation appears, in varied combinations.
CASES = [
    ("lstm", np.float64, "none", False, False, "tanh"),
    ("lstm", np.float64, "lengths", True, True, "tanh"),
    ("lstm", np.float64, "holes", False, True, "relu"),
    ("lstm", np.float32, "holes", True, False, "tanh"),
    ("lstm", np.float32, "lengths", False, True, "relu"),
    ("gru", np.float64, "none", False, False, "tanh"),
    ("gru", np.float64, "holes", True, True, "tanh"),
    ("gru", np.float32, "lengths", False, True, "tanh"),
    ("gru_reset_before", np.float64, "holes", False, True, "tanh"),
    ("gru_reset_before", np.float64, "lengths", True, False, "tanh"),
    ("gru_reset_before", np.float32, "none", True, True, "tanh"),
    ("rnn", np.float64, "lengths", True, False, "tanh"),
    ("rnn", np.float64, "holes", False, True, "relu"),
    ("rnn", np.float32, "none", True, True, "tanh"),
]


@pytest.mark.parametrize(("cell", "dtype", "mask_kind", "reverse", "dropout", "activation"),
                         CASES)  # fmt: skip
def test_forward_and_backward_match_the_reference(cell, dtype, mask_kind, reverse, dropout,
                                                  activation):  # fmt: skip
    a, mask, rmask = make_case(cell, dtype, mask_kind, dropout)
    expected_out, expected_grads = reference(cell, a, mask, rmask, reverse, activation)
    out, grads = run_cuda(cell, a, mask, rmask, reverse, activation, dtype)
    tol = TOLERANCE[dtype]
    for name, value in expected_out.items():
        assert rel_err(out[name], value) <= tol, name
    for name, value in expected_grads.items():
        assert rel_err(grads[name], value) <= tol, name
    assert set(expected_grads) <= set(grads)
