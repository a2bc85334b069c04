"""CUDA convolution and pooling against the CPU kernels (simulator or a real GPU)."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn.kernels.cpu import conv as cpu
from tsrnn.kernels.shapes import conv_padding

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn.kernels.cuda import conv as gpu  # noqa: E402
from tsrnn.kernels.scalar import ACTIVATION_CODES  # noqa: E402

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def host(a):
    return a.copy_to_host()


@pytest.mark.parametrize(
    ("dtype", "kernel", "stride", "dilation", "padding", "activation"),
    [
        (np.float64, 3, 1, 1, "valid", "relu"),
        (np.float64, 3, 2, 1, "same", "tanh"),
        (np.float64, 2, 1, 3, "causal", "linear"),
        (np.float32, 4, 3, 1, "same", "sigmoid"),
        (np.float32, 3, 1, 2, "causal", "relu"),
    ],
)
def test_conv1d_matches_the_cpu_kernel(dtype, kernel, stride, dilation, padding, activation):
    rng = np.random.default_rng(4)
    B, T, C, Fo = 3, 11, 2, 5
    x = rng.standard_normal((B, T, C)).astype(dtype)
    W = rng.standard_normal((kernel, C, Fo)).astype(dtype)
    b = rng.standard_normal(Fo).astype(dtype)
    left, _, n_out = conv_padding(T, kernel, stride, dilation, padding)
    code = ACTIVATION_CODES[activation]
    cols, y = np.empty((B * n_out, kernel * C), dtype), np.empty((B, n_out, Fo), dtype)
    cpu.conv1d_forward(x, W, b, stride, dilation, left, code, cols, y)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dW, db = np.empty_like(x), np.empty_like(W), np.empty_like(b)
    cpu.conv1d_backward(
        x,
        W,
        stride,
        dilation,
        left,
        code,
        cols,
        y,
        dy,
        dx,
        dW,
        db,
        np.empty_like(y),
        np.empty_like(cols),
        True,
    )
    d = {k: cuda.to_device(v) for k, v in dict(x=x, W=W, b=b, dy=dy).items()}
    g_cols, g_y = cuda.device_array_like(cols), cuda.device_array_like(y)
    gpu.conv1d_forward(d["x"], d["W"], d["b"], stride, dilation, left, code, g_cols, g_y)
    g = {k: cuda.device_array_like(v) for k, v in dict(dx=dx, dW=dW, db=db).items()}
    gpu.conv1d_backward(
        d["x"],
        d["W"],
        stride,
        dilation,
        left,
        code,
        g_cols,
        g_y,
        d["dy"],
        g["dx"],
        g["dW"],
        g["db"],
        cuda.device_array_like(y),
        cuda.device_array_like(cols),
        True,
    )
    tol = TOLERANCE[dtype]
    assert rel_err(host(g_y), y) <= tol
    for name, value in dict(dx=dx, dW=dW, db=db).items():
        assert rel_err(host(g[name]), value) <= tol, name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("pool", "stride", "padding"),
    [(2, 2, "valid"), (3, 1, "valid"), (3, 2, "valid"), (4, 4, "valid")]
    + [(3, 1, "same"), (4, 1, "same"), (3, 2, "same"), (3, 1, "causal")],
)
def test_pooling_matches_the_cpu_kernels(dtype, pool, stride, padding):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 10, 3)).astype(dtype)
    x[0, 2, 1] = x[0, 3, 1]  # a tie: the gradient goes to the first maximum
    x[1, 4, 2] = np.nan  # NaN wins its windows
    left, _, n_out = conv_padding(10, pool, stride, 1, padding)
    y, arg = np.empty((2, n_out, 3), dtype), np.empty((2, n_out, 3), np.int64)
    cpu.max_pool_forward(x, pool, stride, left, y, arg)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = np.empty_like(x)
    cpu.max_pool_backward(dy, arg, pool, stride, left, dx)
    d_x, d_dy = cuda.to_device(x), cuda.to_device(dy)
    g_y, g_arg, g_dx = (
        cuda.device_array_like(y),
        cuda.device_array_like(arg),
        cuda.device_array_like(x),
    )
    gpu.max_pool_forward(d_x, pool, stride, left, g_y, g_arg)
    gpu.max_pool_backward(d_dy, g_arg, pool, stride, left, g_dx)
    np.testing.assert_array_equal(host(g_y), y)
    np.testing.assert_array_equal(host(g_arg), arg)
    np.testing.assert_allclose(host(g_dx), dx, rtol=TOLERANCE[dtype], atol=0)
    if padding != "valid":
        return  # average pooling has 'valid' padding only
    x = np.nan_to_num(x)
    cpu.average_pool_forward(x, pool, stride, y)
    cpu.average_pool_backward(dy, pool, stride, dx)
    gpu.average_pool_forward(cuda.to_device(x), pool, stride, g_y)
    gpu.average_pool_backward(d_dy, pool, stride, g_dx)
    assert rel_err(host(g_y), y) <= TOLERANCE[dtype]
    assert rel_err(host(g_dx), dx) <= TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_global_pooling_with_masks_matches_the_cpu_kernels(dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 7, 4)).astype(dtype)
    mask = np.arange(7)[None, :] < np.array([7, 3, 1])[:, None]
    dy = rng.standard_normal((3, 4)).astype(dtype)
    y, count, dx = np.empty((3, 4), dtype), np.empty(3, np.int64), np.empty_like(x)
    cpu.global_average_pool_forward(x, mask, y, count)
    cpu.global_average_pool_backward(dy, mask, count, dx)
    d_x, d_mask, d_dy = cuda.to_device(x), cuda.to_device(mask), cuda.to_device(dy)
    g_y, g_count, g_dx = (
        cuda.device_array_like(y),
        cuda.device_array_like(count),
        cuda.device_array_like(x),
    )
    gpu.global_average_pool_forward(d_x, d_mask, g_y, g_count)
    gpu.global_average_pool_backward(d_dy, d_mask, g_count, g_dx)
    assert rel_err(host(g_y), y) <= TOLERANCE[dtype]
    np.testing.assert_array_equal(host(g_count), count)
    assert rel_err(host(g_dx), dx) <= TOLERANCE[dtype]
    arg = np.empty((3, 4), np.int64)
    cpu.global_max_pool_forward(x, mask, y, arg)
    cpu.global_max_pool_backward(dy, arg, dx)
    g_arg = cuda.device_array_like(arg)
    gpu.global_max_pool_forward(d_x, d_mask, g_y, g_arg)
    gpu.global_max_pool_backward(d_dy, g_arg, g_dx)
    np.testing.assert_array_equal(host(g_y), y)
    np.testing.assert_array_equal(host(g_arg), arg)
    np.testing.assert_array_equal(host(g_dx), dx)
