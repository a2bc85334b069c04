"""Bad input to the recurrent layer raises a clear exception; nothing crashes.

CI runs this file a second time with NUMBA_BOUNDSCHECK=1, so any out-of-bounds
access in a kernel would raise IndexError instead of passing silently.
"""

import os

import numpy as np
import pytest

from tests.helpers import make_case
from tsrnn import Recurrent
from tsrnn.kernels.cpu import recurrent as cpu


@pytest.fixture(params=["rnn", "lstm", "gru"])
def case(request):
    return make_case(request.param, {}, 5, 3, 4, 6, 2, True, dtype="float32", seed=2)


def _forward(case, **overrides):
    c = dict(case, **overrides)
    return c["layer"].forward(c["params"], c["x"], c["mask"], c["h0"], c["c0"])


@pytest.mark.parametrize("shape", [(5, 3), (5,), (2, 5, 3, 4)])
def test_wrong_rank(case, shape):
    with pytest.raises(ValueError, match=r"expected a 3-D input of shape \(n_steps, batch, "):
        _forward(case, x=np.zeros(shape))


def test_mismatched_feature_count(case):
    with pytest.raises(ValueError, match="input has 7 features, but this layer expects 4"):
        _forward(case, x=np.zeros((5, 3, 7)))


@pytest.mark.parametrize("bad", [np.array([["a"]], dtype=object), np.zeros(1, complex)])
def test_wrong_dtype(case, bad):
    x = np.broadcast_to(bad.reshape(1, 1, 1), (5, 3, 4))
    with pytest.raises(TypeError, match="input must be real numbers"):
        _forward(case, x=x)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_input(case, value):
    x = case["x"].copy()
    x[2, 1, 3] = value
    with pytest.raises(ValueError, match="input contains NaN or infinity"):
        _forward(case, x=x)


def test_nan_input_propagates_when_checks_are_off(case):
    x = case["x"].copy()
    x[2, 1, :] = np.nan
    layer = case["layer"]
    y, h_n, _, _ = layer.forward(case["params"], x, None, None, None, check_finite=False)
    # Sample 1 is NaN from step 2 on (forward) and up to step 2 (reverse); others are clean.
    assert np.isnan(y[2:, 1, : layer.hidden_size]).all()
    assert np.isnan(y[:3, 1, layer.hidden_size :]).all()
    assert np.isfinite(y[:, [0, 2]]).all()


def test_empty_input(case):
    for x in (np.zeros((0, 3, 4)), np.zeros((5, 0, 4))):
        with pytest.raises(ValueError, match="at least one step and one sample"):
            _forward(case, x=x, mask=None, h0=None, c0=None)


def test_integer_input_is_accepted_as_float(case):
    y, *_ = _forward(case, x=np.ones((5, 3, 4), dtype=np.int64))
    assert y.dtype == np.float32 and y.shape == (5, 3, 12)


def test_bad_mask(case):
    with pytest.raises(ValueError, match=r"mask must have shape \(n_steps, batch\)"):
        _forward(case, mask=np.ones((3, 5), bool))
    with pytest.raises(ValueError, match="mask must be boolean"):
        _forward(case, mask=np.full((5, 3), 0.5))


def test_bad_initial_state(case):
    with pytest.raises(ValueError, match=r"h0 must have shape .* = \(4, 3, 6\), got \(2, 3, 6\)"):
        _forward(case, h0=np.zeros((2, 3, 6)))
    if case["layer"].cell != "lstm":
        with pytest.raises(ValueError, match="c0 is only used by the LSTM"):
            _forward(case, c0=np.zeros((4, 3, 6)))


def test_parameters_of_another_layer(case):
    other = Recurrent(case["layer"].cell, 4, 7, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"parameter 'l0.W_x' must have shape"):
        _forward(case, params=other.init_params(0))
    with pytest.raises(ValueError, match="dtype float32"):
        _forward(
            case,
            params=Recurrent(
                case["layer"].cell, 4, 6, num_layers=2, bidirectional=True, dtype="float64"
            ).init_params(0),
        )


def test_bad_upstream_gradient_shape(case):
    *_, cache = _forward(case)
    with pytest.raises(ValueError, match=r"dy must have shape \(5, 3, 12\)"):
        case["layer"].backward(case["params"], cache, dy=np.zeros((5, 3, 6)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(cell="transformer"), "cell must be one of"),
        (dict(hidden_size=0), "hidden_size must be a positive integer"),
        (dict(hidden_size=-3), "hidden_size must be a positive integer"),
        (dict(input_size=2.5), "input_size must be a positive integer"),
        (dict(num_layers=0), "num_layers must be a positive integer"),
        (dict(activation="gelu"), "activation must be one of"),
        (dict(cell="gru", activation="relu"), "not available for cell='gru'"),
    ],
)
def test_bad_layer_configuration(kwargs, message):
    config = dict(cell="rnn", input_size=2, hidden_size=3) | kwargs
    with pytest.raises(ValueError, match=message):
        Recurrent(**config)


@pytest.mark.parametrize("dtype", ["float16", "int32", "complex64", "bogus"])
def test_bad_layer_dtype(dtype):
    with pytest.raises(TypeError, match="dtype must be 'float32' or 'float64'"):
        Recurrent("lstm", 2, 3, dtype=dtype)


@pytest.mark.skipif(
    os.environ.get("NUMBA_BOUNDSCHECK") != "1",
    reason="only meaningful when test_boundscheck.py runs this file with NUMBA_BOUNDSCHECK=1",
)
def test_boundscheck_is_active():
    """Proves the bounds-checked run really checks: a kernel handed a bias one
    element short (which validation normally prevents) raises IndexError."""
    T, B, F, H = 3, 2, 2, 4
    x = np.ones((T, B, F), np.float32)
    short_bias = np.zeros(H - 1, np.float32)
    with pytest.raises(IndexError):
        cpu.rnn_forward(
            x,
            np.ones((T, B), bool),
            np.zeros((F, H), np.float32),
            np.zeros((H, H), np.float32),
            short_bias,
            np.empty((0, H), np.float32),
            0,
            False,
            np.zeros((B, H), np.float32),
            np.empty((T, B, H), np.float32),
            np.empty((B, H), np.float32),
        )
