"""CUDA recurrent kernels against the NumPy reference (simulator or a real GPU).

Run on the simulator by ``tests/test_cuda_simulator.py`` (a subprocess with
``NUMBA_ENABLE_CUDASIM=1``), or directly on a GPU with ``pytest -m gpu tests/cuda``.
"""

import numpy as np
import pytest

from tests.helpers import random_mask, rel_err
from tsrnn.kernels.cells import CELLS
from tsrnn.kernels.reference.dispatch import reference_direction

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn.kernels.cuda import _launch  # noqa: E402
from tsrnn.kernels.cuda import recurrent as kernels  # noqa: E402
from tsrnn.kernels.scalar import ACTIVATION_CODES  # noqa: E402


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # Tiny inputs must still span several blocks, with partial blocks at the edges.
    monkeypatch.setattr(_launch, "BLOCK", (2, 4))


TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


def make_case(cell, dtype, mask_kind, dropout, seed=0):
    rng = np.random.default_rng(seed)
    T, B, F, H = 4, 3, 2, 5
    G = CELLS[cell].n_gates
    a = dict(
        x=rng.standard_normal((T, B, F)),
        W_x=rng.standard_normal((F, G * H)) * 0.5,
        W_h=rng.standard_normal((H, G * H)) * 0.5,
        b=rng.standard_normal(G * H) * 0.1,
        b_hn=rng.standard_normal(H) * 0.1,
        h0=rng.standard_normal((B, H)) * 0.5,
        c0=rng.standard_normal((B, H)) * 0.5,
        dh_seq=rng.standard_normal((T, B, H)),
        dh_n=rng.standard_normal((B, H)),
        dc_n=rng.standard_normal((B, H)),
    )
    a = {k: v.astype(dtype) for k, v in a.items()}
    mask = random_mask(rng, T, B, mask_kind)
    rmask = ((rng.random((B, H)) > 0.3) / 0.7).astype(dtype) if dropout else None
    return a, mask, rmask


def reference(cell, a, mask, rmask, reverse, activation):
    """Forward outputs and gradients from the NumPy spec, in float64."""
    r = {k: v.astype(np.float64) for k, v in a.items()}
    rm = None if rmask is None else rmask.astype(np.float64)
    base = "gru" if cell.startswith("gru") else cell
    options = dict(mask=mask, reverse=reverse, rmask=rm, activation=activation)
    out, backward = reference_direction(
        base, r, r["x"], r["h0"], r["c0"], reset_after=cell == "gru", **options
    )
    return out, backward(r["dh_seq"], r["dh_n"], r["dc_n"])


def run_cuda(cell, a, mask, rmask, reverse, activation, dtype):
    """Forward and backward with the CUDA kernels, called as the cell's spec says;
    results copied to the host."""
    spec = CELLS[cell]
    T, B, F = a["x"].shape
    H = a["h0"].shape[1]
    G = spec.n_gates
    d = {k: cuda.to_device(np.ascontiguousarray(v)) for k, v in a.items()}
    full = np.ones((T, B), bool) if mask is None else np.ascontiguousarray(mask)
    d_mask = cuda.to_device(full)
    d_rmask = cuda.to_device(np.empty((0, H), dtype) if rmask is None else rmask)
    act = ACTIVATION_CODES[activation]
    empty = lambda *shape: cuda.device_array(shape, dtype)  # noqa: E731
    names = ("h0", "c0") if spec.has_cell_state else ("h0",)
    states = [cuda.to_device(a[n].copy()) for n in names]
    h_seq = empty(T, B, H)
    cache = {name: empty(T, B, w * H) for name, w in spec.cache}
    params = [d[n] for n in spec.params]
    work = [empty(B, w * H) for w in spec.forward_work]
    spec.forward(kernels)(
        d["x"], d_mask, *params, d_rmask, act, reverse, *states, h_seq, *cache.values(), *work
    )
    out = dict(h_seq=h_seq.copy_to_host(), h_n=states[0].copy_to_host())
    if spec.has_cell_state:
        out["c_n"] = states[1].copy_to_host()
    state_grads = [cuda.to_device(a[n].copy()) for n in ("dh_n", "dc_n")[: len(names)]]
    shapes = dict(W_x=(F, G * H), W_h=(H, G * H), b=(G * H,), b_hn=(H,))
    g = {n: empty(*shapes[n]) for n in spec.params}
    dx = empty(T, B, F)
    inputs = (d["x"], d_mask, d["W_x"], d["W_h"], d_rmask, act, reverse)
    saved = (*(d[n] for n in names), h_seq, *cache.values())
    work = [empty(T, B, G * H), empty(T, B, H)]
    work += [empty(T, B, w * H) for w in spec.backward_seq_work]
    work += [empty(B, w * H) for w in spec.backward_work]
    spec.backward(kernels)(*inputs, *saved, d["dh_seq"], *state_grads, dx, *g.values(), *work)
    grads = {k: v.copy_to_host() for k, v in g.items()}
    grads["x"] = dx.copy_to_host()
    grads["h0"] = state_grads[0].copy_to_host()
    if spec.has_cell_state:
        grads["c0"] = state_grads[1].copy_to_host()
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


@pytest.mark.parametrize(("cell", "dtype", "mask_kind", "reverse", "dropout", "activation"), CASES)
def test_forward_and_backward_match_the_reference(
    cell, dtype, mask_kind, reverse, dropout, activation
):
    a, mask, rmask = make_case(cell, dtype, mask_kind, dropout)
    expected_out, expected_grads = reference(cell, a, mask, rmask, reverse, activation)
    out, grads = run_cuda(cell, a, mask, rmask, reverse, activation, dtype)
    tol = TOLERANCE[dtype]
    for name, value in expected_out.items():
        assert rel_err(out[name], value) <= tol, name
    for name, value in expected_grads.items():
        assert rel_err(grads[name], value) <= tol, name
    assert set(expected_grads) <= set(grads)
