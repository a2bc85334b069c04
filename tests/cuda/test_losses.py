"""CUDA losses against the CPU kernels (simulator or a real GPU)."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn.kernels.cpu import losses as cpu

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn.kernels.cuda import losses as gpu  # noqa: E402

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-6}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "bce", "pinball", "softmax"])
def test_loss_and_gradient_match_the_cpu_kernels(dtype, loss):
    rng = np.random.default_rng(3)
    n, k = 9, 3
    p = (rng.standard_normal((n, k)) * 3).astype(dtype)
    w = rng.random(n).astype(dtype) + 0.1
    if loss == "softmax":
        labels = rng.integers(0, k, n)
        class_weight = (rng.random(k) + 0.5).astype(dtype)
        args, dev = (labels, w, class_weight), (labels, w, class_weight)
    else:
        y = (
            (rng.random((n, k)) > 0.5).astype(dtype)
            if loss == "bce"
            else rng.standard_normal((n, k)).astype(dtype)
        )
        extra = {"huber": (dtype(1.0),), "pinball": (np.array([0.1, 0.5, 0.9], dtype),)}
        extra = extra.get(loss, ())
        args = (y, w) + extra
        dev = args
    name = {"bce": "binary_cross_entropy_with_logits", "softmax": "softmax_cross_entropy"}
    name = name.get(loss, loss)
    grad = np.empty_like(p)
    expected = getattr(cpu, name)(p, *args, grad)
    d_grad = cuda.device_array_like(p)
    dev = tuple(cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in dev)
    value = getattr(gpu, name)(cuda.to_device(p), *dev, d_grad)
    tol = TOLERANCE[dtype]
    assert abs(value - expected) <= tol * max(1.0, abs(expected))
    assert rel_err(d_grad.copy_to_host(), grad) <= tol
