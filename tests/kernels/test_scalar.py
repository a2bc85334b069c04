"""The scalar math spec: float32 approximations and exact float64 paths."""

import math

import numpy as np
import pytest
from numba import njit

from tsrnn.kernels.scalar import dsigmoid, dtanh, relu, sigmoid, sign, tanh


@njit
def _apply_tanh(x, out):
    for i in range(x.size):
        out[i] = tanh(x[i])


@njit
def _apply_sigmoid(x, out):
    for i in range(x.size):
        out[i] = sigmoid(x[i])


GRID = np.concatenate([np.linspace(-30, 30, 600_001), [0.0, 1e-30, -1e-30, 1e30, -1e30]])


def test_float32_tanh_error_bound_and_range():
    x = GRID.astype(np.float32)
    out = np.empty_like(x)
    _apply_tanh(x, out)
    assert out.dtype == np.float32
    assert np.abs(out - np.tanh(x.astype(np.float64))).max() <= 3.5e-7
    assert np.abs(out).max() <= 1.0
    # Odd, and monotone to within the approximation's error (a minimax fit wiggles
    # by a few ulps; gradients come from 1 - y^2, so this cannot flip a sign).
    negated = np.empty_like(x)
    _apply_tanh(-x, negated)
    np.testing.assert_array_equal(negated, -out)
    assert np.diff(out[:-5]).min() >= -3.6e-7


def test_float32_sigmoid_error_bound():
    x = GRID.astype(np.float32)
    out = np.empty_like(x)
    _apply_sigmoid(x, out)
    exact = 0.5 * (1 + np.tanh(x.astype(np.float64) / 2))
    assert np.abs(out - exact).max() <= 2.5e-7
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_float64_is_exact():
    # libm's tanh (Numba) and NumPy's may differ in the last bits.
    x = GRID.copy()
    out = np.empty_like(x)
    _apply_tanh(x, out)
    np.testing.assert_array_max_ulp(out, np.tanh(x), maxulp=2)
    _apply_sigmoid(x, out)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(out, 1 / (1 + np.exp(-x)), rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_values_propagate(dtype):
    x = np.array([np.nan, np.inf, -np.inf], dtype=dtype)
    out = np.empty_like(x)
    _apply_tanh(x, out)
    np.testing.assert_array_equal(out, [np.nan, 1, -1])
    _apply_sigmoid(x, out)
    np.testing.assert_array_equal(out, [np.nan, 1, 0])


def test_python_and_jitted_paths_agree():
    # Without JIT (NUMBA_DISABLE_JIT=1) the same functions run as Python.
    for value in (-3.7, -0.2, 0.0, 0.9, 12.0):
        x32 = np.float32(value)
        out = np.empty(1, np.float32)
        _apply_tanh(np.array([x32]), out)
        assert tanh(x32) == out[0] and isinstance(tanh(x32), np.float32)
        assert tanh(value) == math.tanh(value)
        assert relu(value) == max(value, 0.0)
    assert dtanh(np.float32(0.5)) == np.float32(0.75)
    assert dsigmoid(0.25) == 0.1875
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0


@njit
def _apply_sign(x, out):
    for i in range(x.size):
        out[i] = sign(x[i])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_is_numpys_sign_compiled_and_in_python(dtype):
    """The MAE and Huber gradients' sign, shared by both devices: -1, 0 or 1 with the
    zero's sign kept, +-1 for infinities and NaN for NaN (the CUDA kernels used to give
    NaN for an infinite residual)."""
    x = np.array([-np.inf, -3.5, -0.0, 0.0, 1e-30, 2.0, np.inf, np.nan], dtype=dtype)
    expected = np.array([-1, -1, -0.0, 0.0, 1, 1, 1, np.nan], dtype=dtype)
    compiled = np.empty_like(x)
    _apply_sign(x, compiled)
    in_python = np.array([sign(v) for v in x], dtype=dtype)
    for out in (compiled, in_python):
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))
