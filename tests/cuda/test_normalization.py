"""CUDA normalisation and activation kernels against the CPU ones (simulator or a real
GPU), and a network with BatchNormalization, LayerNormalization and Activation layers
on both devices."""

import inspect

import numba
import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn.kernels.cpu import normalization as cpu

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn import losses  # noqa: E402
from tsrnn.kernels.cuda import _launch, linalg, optim  # noqa: E402
from tsrnn.kernels.cuda import normalization as gpu  # noqa: E402
from tsrnn.kernels.scalar import ACTIVATION_CODES  # noqa: E402
from tsrnn.layers import (  # noqa: E402
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    GlobalAveragePooling1D,
    LayerNormalization,
)
from tsrnn.network import Network  # noqa: E402
from tsrnn.training import Adam  # noqa: E402
from tsrnn.training.loop import train_step  # noqa: E402

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # Tiny inputs still span several blocks, with partial ones at the edges.
    monkeypatch.setattr(_launch, "THREADS", 16)
    monkeypatch.setattr(optim, "REDUCTION_BLOCKS", 2)
    if numba.config.ENABLE_CUDASIM:
        monkeypatch.setattr(linalg, "GEMM_KERNEL", "direct")


def _public(module):
    return {
        name: inspect.signature(getattr(obj, "py_func", obj))
        for name, obj in vars(module).items()
        if callable(obj)
        and not name.startswith("_")
        and getattr(obj, "__module__", "") == module.__name__
    }


def test_the_two_modules_export_the_same_names_and_signatures():
    names = {
        "batch_norm_train_forward",
        "batch_norm_inference_forward",
        "batch_norm_backward",
        "layer_norm_forward",
        "layer_norm_backward",
        "activation_forward",
    }
    assert set(_public(cpu)) == set(_public(gpu)) == names
    for name, signature in _public(cpu).items():
        assert _public(gpu)[name] == signature, name


def _device(d):
    return {k: cuda.to_device(v) for k, v in d.items()}


def _host(d):
    return {k: v.copy_to_host() for k, v in d.items()}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_batch_norm_matches_the_cpu_kernels(dtype, masked, training, activation):
    code = ACTIVATION_CODES[activation]
    rng = np.random.default_rng(0)
    R, C = 21, 5
    x = (rng.standard_normal((R, C)) * 2 + 1).astype(dtype)
    mask = rng.random(R) > 0.3 if masked else np.ones(R, dtype=bool)
    mask[0] = True
    gamma, beta = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    moving = {
        "mm": rng.standard_normal(C).astype(dtype),
        "mv": (0.5 + rng.random(C)).astype(dtype),
    }
    dy = rng.standard_normal((R, C)).astype(dtype)
    host = {
        "y": np.empty((R, C), dtype),
        "mean": np.empty(C),
        "inv_std": np.empty(C),
        "dx": np.empty((R, C), dtype),
        "dgamma": np.empty(C, dtype),
        "dbeta": np.empty(C, dtype),
        "sums": np.empty((3, C)),
        **{k: v.copy() for k, v in moving.items()},
    }
    dev = _device({k: v.copy() for k, v in host.items()})
    ins = _device(dict(x=x, mask=mask, gamma=gamma, beta=beta, dy=dy))
    for module, o, i in (
        (cpu, host, dict(x=x, mask=mask, gamma=gamma, beta=beta, dy=dy)),
        (gpu, dev, ins),
    ):
        if training:
            module.batch_norm_train_forward(
                i["x"],
                i["mask"],
                i["gamma"],
                i["beta"],
                1e-3,
                0.8,
                o["mm"],
                o["mv"],
                o["y"],
                o["mean"],
                o["inv_std"],
                code,
            )
        else:
            module.batch_norm_inference_forward(
                i["x"],
                i["gamma"],
                i["beta"],
                1e-3,
                o["mm"],
                o["mv"],
                o["y"],
                o["mean"],
                o["inv_std"],
                code,
            )
        module.batch_norm_backward(
            i["x"],
            i["mask"],
            i["dy"],
            i["gamma"],
            o["mean"],
            o["inv_std"],
            training,
            o["dx"],
            o["dgamma"],
            o["dbeta"],
            o["sums"],
            o["y"],
            code,
        )
    got = _host(dev)
    for key in ("y", "mean", "inv_std", "dx", "dgamma", "dbeta", "mm", "mv"):
        assert rel_err(got[key], host[key]) <= TOLERANCE[dtype], key
    if training:
        assert rel_err(got["mm"], moving["mm"]) > 1e-3  # the moving statistics moved


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_matches_the_cpu_kernels(dtype):
    rng = np.random.default_rng(1)
    R, C = 19, 6
    x = (rng.standard_normal((R, C)) * 3 - 1).astype(dtype)
    gamma, beta = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    dy = rng.standard_normal((R, C)).astype(dtype)
    host = {
        "y": np.empty((R, C), dtype),
        "mean": np.empty(R),
        "inv_std": np.empty(R),
        "dx": np.empty((R, C), dtype),
        "dgamma": np.empty(C, dtype),
        "dbeta": np.empty(C, dtype),
        "sums": np.empty((2, C)),
    }
    dev = _device(host)
    ins = _device(dict(x=x, gamma=gamma, beta=beta, dy=dy))
    for module, o, i in ((cpu, host, dict(x=x, gamma=gamma, beta=beta, dy=dy)), (gpu, dev, ins)):
        module.layer_norm_forward(
            i["x"], i["gamma"], i["beta"], 1e-3, o["y"], o["mean"], o["inv_std"]
        )
        module.layer_norm_backward(
            i["x"],
            i["dy"],
            i["gamma"],
            o["mean"],
            o["inv_std"],
            o["dx"],
            o["dgamma"],
            o["dbeta"],
            o["sums"],
        )
    got = _host(dev)
    for key in ("y", "mean", "inv_std", "dx", "dgamma", "dbeta"):
        assert rel_err(got[key], host[key]) <= TOLERANCE[dtype], key


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_activation_forward_matches_the_cpu_kernel(activation):
    x = np.random.default_rng(2).standard_normal((3, 7, 2))
    y, y_gpu = np.empty_like(x), cuda.device_array_like(x)
    cpu.activation_forward(x, ACTIVATION_CODES[activation], y)
    gpu.activation_forward(cuda.to_device(x), ACTIVATION_CODES[activation], y_gpu)
    assert rel_err(y_gpu.copy_to_host(), y) <= 1e-15


def _layers():
    # tanh ahead of the batch normalisation: a linear convolution's bias would have a zero
    # gradient there, whose rounding noise Adam scales up differently on each device.
    return [
        Conv1D(4, 2, padding="causal", activation="tanh"),
        BatchNormalization(momentum=0.5),
        Activation("relu"),
        LayerNormalization(),
        GlobalAveragePooling1D(),
        Dense(2),
    ]


@pytest.mark.parametrize("masked", [False, True])
def test_a_normalised_network_trains_to_the_cpu_weights(masked):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((6, 5, 2)), rng.standard_normal((6, 2))
    mask = None
    if masked:
        mask = np.arange(5)[None, :] < np.array([5, 2, 4, 1, 5, 3])[:, None]
    cpu_net = Network(_layers(), dtype="float64").build((5, 2), 3)
    gpu_net = Network(_layers(), dtype="float64").build((5, 2), 3).to("cuda")
    opt_c, opt_g = Adam(0.05), Adam(0.05)
    for _ in range(3):
        train_step(cpu_net, opt_c, losses.MSE(), X, y, mask)
        train_step(gpu_net, opt_g, losses.MSE(), X, y, mask)
    assert rel_err(gpu_net.get_weights(), cpu_net.get_weights()) <= 1e-10
    moving = cpu_net.params["1.batch_normalization.moving_mean"]
    assert np.abs(moving).max() > 1e-2  # the moving statistics were trained on both
    np.testing.assert_allclose(
        gpu_net.predict(X, mask), cpu_net.predict(X, mask), rtol=1e-10, atol=1e-12
    )
