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


def lstm_case(dtype, mask_kind, reverse, dropout, activation, seed=0):
    rng = np.random.default_rng(seed)
    T, B, F, H = 4, 3, 2, 5
    x = rng.standard_normal((T, B, F))
    W_x, W_h = rng.standard_normal((F, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5
    b = rng.standard_normal(4 * H) * 0.1
    h0, c0 = rng.standard_normal((B, H)) * 0.5, rng.standard_normal((B, H)) * 0.5
    mask = random_mask(rng, T, B, mask_kind)
    rmask = (rng.random((B, H)) > 0.3) / 0.7 if dropout else None
    dh_seq, dh_n, dc_n = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), \
        rng.standard_normal((B, H))  # fmt: skip
    arrays = dict(x=x, W_x=W_x, W_h=W_h, b=b, h0=h0, c0=c0, dh_seq=dh_seq, dh_n=dh_n, dc_n=dc_n)
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    return arrays, mask, rmask


# A covering set (the simulator is slow): each dtype, mask kind, direction, dropout
# setting and activation appears, in varied combinations.
LSTM_CASES = [
    (np.float64, "none", False, False, "tanh"),
    (np.float64, "lengths", True, True, "tanh"),
    (np.float64, "holes", False, True, "relu"),
    (np.float64, "none", True, False, "relu"),
    (np.float32, "holes", True, False, "tanh"),
    (np.float32, "lengths", False, True, "relu"),
]


@pytest.mark.parametrize(("dtype", "mask_kind", "reverse", "dropout", "activation"), LSTM_CASES)
def test_lstm_forward_and_backward_match_the_reference(dtype, mask_kind, reverse, dropout,
                                                       activation):  # fmt: skip
    a, mask, rmask = lstm_case(dtype, mask_kind, reverse, dropout, activation)
    T, B, _ = a["x"].shape
    H = a["h0"].shape[1]
    # Reference in float64 from the same (possibly float32-rounded) inputs.
    r64 = {k: v.astype(np.float64) for k, v in a.items()}
    h_seq, h_n, c_n, cache = ref.lstm_forward(
        r64["x"], r64["h0"], r64["c0"], r64["W_x"], r64["W_h"], r64["b"], mask=mask,
        reverse=reverse, rmask=rmask, activation=activation,
    )  # fmt: skip
    grads = ref.lstm_backward(cache, r64["dh_seq"], r64["dh_n"], r64["dc_n"])

    dev = {k: cuda.to_device(np.ascontiguousarray(v)) for k, v in a.items()}
    full_mask = np.ones((T, B), bool) if mask is None else np.ascontiguousarray(mask)
    d_mask = cuda.to_device(full_mask)
    d_rmask = cuda.to_device(np.empty((0, H), dtype) if rmask is None else rmask.astype(dtype))
    act = ACTIVATION_CODES[activation]
    h_state, c_state = cuda.to_device(a["h0"].copy()), cuda.to_device(a["c0"].copy())
    d_h_seq = cuda.device_array((T, B, H), dtype)
    d_c_seq = cuda.device_array((T, B, H), dtype)
    d_gates = cuda.device_array((T, B, 4 * H), dtype)
    kernels.lstm_forward(dev["x"], d_mask, dev["W_x"], dev["W_h"], dev["b"], d_rmask, act,
                         reverse, h_state, c_state, d_h_seq, d_c_seq, d_gates,
                         cuda.device_array((B, 4 * H), dtype))  # fmt: skip
    tol = TOLERANCE[dtype]
    assert rel_err(d_h_seq.copy_to_host(), h_seq) <= tol
    assert rel_err(h_state.copy_to_host(), h_n) <= tol
    assert rel_err(c_state.copy_to_host(), c_n) <= tol

    dh_state, dc_state = cuda.to_device(a["dh_n"].copy()), cuda.to_device(a["dc_n"].copy())
    out = {k: cuda.device_array(a[k].shape, dtype) for k in ("x", "W_x", "W_h", "b")}
    kernels.lstm_backward(
        dev["x"], d_mask, dev["h0"], dev["c0"], dev["W_x"], dev["W_h"], d_rmask, act, reverse,
        d_h_seq, d_c_seq, d_gates, dev["dh_seq"], dh_state, dc_state,
        out["x"], out["W_x"], out["W_h"], out["b"], cuda.device_array((T, B, 4 * H), dtype),
        cuda.device_array((T, B, H), dtype), cuda.device_array((B, H), dtype),
    )  # fmt: skip
    for name in ("x", "W_x", "W_h", "b"):
        assert rel_err(out[name].copy_to_host(), grads[name]) <= tol, name
    assert rel_err(dh_state.copy_to_host(), grads["h0"]) <= tol
    assert rel_err(dc_state.copy_to_host(), grads["c0"]) <= tol
