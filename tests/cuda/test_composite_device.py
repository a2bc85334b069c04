"""Container layers (Parallel, Residual) on the device: they call their children's
kernels, so a composite network's forward output and every gradient match the CPU's,
with and without a padding mask."""

import numba
import numpy as np
import pytest

from tests.helpers import rel_err

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn import architectures  # noqa: E402
from tsrnn.kernels.cuda import _launch, linalg, optim  # noqa: E402
from tsrnn.layers import (  # noqa: E402
    LSTM,
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    GlobalAveragePooling1D,
    Parallel,
    Residual,
)
from tsrnn.network import Network  # noqa: E402


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # As in tests/cuda/test_network_device.py: several (partial) blocks, a quick simulator.
    monkeypatch.setattr(_launch, "BLOCK", (2, 4))
    monkeypatch.setattr(_launch, "THREADS", 16)
    monkeypatch.setattr(optim, "REDUCTION_BLOCKS", 2)
    if numba.config.ENABLE_CUDASIM:
        monkeypatch.setattr(linalg, "GEMM_KERNEL", "direct")


def lstm_fcn():
    return architectures.lstm_fcn(2, False, hidden_size=2, dropout=0.0, width=2)


def inception_time():
    # Causal convolutions and max pooling over a padded batch, nested Parallel.
    return architectures.inception_time(2, False, width=1, depth=3)


def residual():
    main = [
        Conv1D(2, 3, padding="causal", activation="linear"),
        BatchNormalization(),
        Activation("relu"),
    ]
    return [
        Residual(main, shortcut=[Conv1D(2, 1, padding="causal", activation="linear")]),
        Parallel([[GlobalAveragePooling1D()], [LSTM(2)]]),
        Dense(1),
    ]


@pytest.mark.parametrize("make", [lstm_fcn, inception_time, residual])
def test_composite_network_on_the_device_matches_the_cpu(make):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 5, 2))
    lengths = np.array([5, 3, 1])
    mask = np.arange(5)[None, :] < lengths[:, None]
    cpu = Network(make(), dtype="float64").build((5, 2), 3)
    gpu = Network(make(), dtype="float64").build((5, 2), 3).to("cuda")
    assert cuda.devicearray.is_cuda_ndarray(gpu.params.flat)
    out_c, caches_c = cpu.forward(X, mask, training=True)
    out_g, caches_g = gpu.forward(X, mask, training=True)
    assert rel_err(out_g.copy_to_host(), out_c) <= 1e-10
    dout = rng.standard_normal(out_c.shape)
    grads_c = cpu.backward(caches_c, dout)
    grads_g = gpu.backward(caches_g, dout)
    # Per parameter on the scale of all gradients: a conv bias before a batch
    # normalization has a zero gradient, i.e. rounding noise on both sides.
    scale = np.abs(grads_c.flat).max()
    for key in grads_c:
        err = np.abs(grads_g[key].copy_to_host() - grads_c[key]).max() / scale
        assert err <= 1e-10, key
    np.testing.assert_allclose(gpu.predict(X, mask), cpu.predict(X, mask), rtol=1e-10)
