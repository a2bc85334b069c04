"""CUDA dense, dropout and optimizer kernels against the CPU kernels (which the
reference tests pin down), on the simulator or a real GPU."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn.kernels.cpu import dense as cpu_dense
from tsrnn.kernels.cpu import optim as cpu_optim

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn.kernels.cuda import dense, optim  # noqa: E402
from tsrnn.kernels.scalar import ACTIVATION_CODES  # noqa: E402

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-6}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["linear", "tanh", "relu", "sigmoid"])
def test_dense_forward_backward_and_dropout(dtype, activation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5)).astype(dtype)
    W, b = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)
    dy = rng.standard_normal((7, 3)).astype(dtype)
    code = ACTIVATION_CODES[activation]
    y = np.empty((7, 3), dtype)
    cpu_dense.dense_forward(x, W, b, code, y)
    dx, dW, db = np.empty_like(x), np.empty_like(W), np.empty_like(b)
    cpu_dense.dense_backward(x, W, y, dy, code, dx, dW, db, np.empty_like(y))
    d = {k: cuda.to_device(v) for k, v in dict(x=x, W=W, b=b, dy=dy).items()}
    gy = cuda.device_array((7, 3), dtype)
    dense.dense_forward(d["x"], d["W"], d["b"], code, gy)
    g = {k: cuda.device_array(v.shape, dtype) for k, v in dict(dx=dx, dW=dW, db=db).items()}
    dense.dense_backward(
        d["x"],
        d["W"],
        gy,
        d["dy"],
        code,
        g["dx"],
        g["dW"],
        g["db"],
        cuda.device_array((7, 3), dtype),
    )
    tol = TOLERANCE[dtype]
    assert rel_err(gy.copy_to_host(), y) <= tol
    for name, value in dict(dx=dx, dW=dW, db=db).items():
        assert rel_err(g[name].copy_to_host(), value) <= tol, name
    keep = rng.random((7, 5)) > 0.4
    expected = np.empty_like(x)
    cpu_dense.scale_by_mask(x, keep, dtype(2.5), expected)
    out = cuda.device_array_like(x)
    dense.scale_by_mask(d["x"], cuda.to_device(keep), dtype(2.5), out)
    np.testing.assert_array_equal(out.copy_to_host(), expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizer_steps_norm_and_finiteness(dtype):
    rng = np.random.default_rng(2)
    n = 300  # not a multiple of the block size
    params, grads = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    m, v = (rng.random(n) * 0.1).astype(dtype), (rng.random(n) * 0.01).astype(dtype)
    d = {k: cuda.to_device(a.copy()) for k, a in dict(p=params, g=grads, m=m, v=v).items()}
    for step in (1, 2, 3):
        cpu_optim.adam_step(params, grads, m, v, 1e-2, 0.9, 0.999, 1e-8, 0.01, step)
        optim.adam_step(d["p"], d["g"], d["m"], d["v"], 1e-2, 0.9, 0.999, 1e-8, 0.01, step)
    tol = TOLERANCE[dtype]
    for name, value in dict(p=params, m=m, v=v).items():
        assert rel_err(d[name].copy_to_host(), value) <= tol, name
    velocity = np.zeros(n, dtype)
    d_velocity = cuda.to_device(velocity.copy())
    for first in (True, False, False):
        cpu_optim.sgd_step(params, grads, velocity, 0.1, 0.9, True, 0.001, first)
        optim.sgd_step(d["p"], d["g"], d_velocity, 0.1, 0.9, True, 0.001, first)
    assert rel_err(d["p"].copy_to_host(), params) <= tol
    assert rel_err(d_velocity.copy_to_host(), velocity) <= tol
    assert abs(optim.global_norm(d["g"]) - cpu_optim.global_norm(grads)) <= 1e-12 * n
    optim.scale_in_place(d["g"], 0.5)
    assert rel_err(d["g"].copy_to_host(), grads * dtype(0.5)) <= tol
    assert optim.all_finite(d["g"])
    grads[n - 1] = np.nan
    assert not optim.all_finite(cuda.to_device(grads))
    grads[n - 1], grads[3] = 1.0, -np.inf
    assert not optim.all_finite(cuda.to_device(grads))
