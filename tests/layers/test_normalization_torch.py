"""Cross-checks against PyTorch: BatchNorm1d (training steps, running statistics,
inference), LayerNorm, and 20 Adam steps of a Conv1D -> BatchNormalization ->
Activation('relu') -> GlobalAveragePooling1D -> Dense network."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn import (
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    GlobalAveragePooling1D,
    LayerNormalization,
    Network,
    losses,
)
from tsrnn.layers.base import Context
from tsrnn.training import Adam, train_step

torch = pytest.importorskip("torch", reason="PyTorch is the cross-check reference; not installed")
pytestmark = pytest.mark.torch

TOLERANCE = {"float32": 1e-5, "float64": 1e-10}
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}


def _channels_first(a):
    """(batch, n_steps, C) -> torch's (batch, C, n_steps); vectors stay (batch, C)."""
    return a if a.ndim == 2 else a.transpose(1, 2)


@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 9, 4), (10, 4)])
def test_batch_norm_matches_torch_in_training_and_inference(dtype, shape, activation):
    rng = np.random.default_rng(0)
    layer = BatchNormalization(momentum=0.9, epsilon=1e-4, activation=activation)
    layer.build(shape[1:], dtype)
    params = {name: np.zeros(s, dtype) for name, s in layer.param_specs()}
    layer.init_params(params, None)
    params["gamma"][...] = rng.standard_normal(4)
    params["beta"][...] = rng.standard_normal(4)
    norm = torch.nn.BatchNorm1d(4, eps=1e-4, momentum=1 - 0.9).to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(params["gamma"]))
        norm.bias.copy_(torch.from_numpy(params["beta"]))
    theirs = torch.nn.Sequential(
        norm, torch.nn.ReLU() if activation == "relu" else torch.nn.Identity()
    )
    tol = TOLERANCE[dtype]
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        dy = rng.standard_normal(shape).astype(dtype)
        grads = {name: np.zeros(s, dtype) for name, s in layer.param_specs()}
        y, cache = layer.forward(params, x, Context(training=True))
        dx = layer.backward(params, cache, dy, grads)
        tx = torch.from_numpy(x).requires_grad_(True)
        theirs.zero_grad()
        ty = _channels_first(theirs(_channels_first(tx)))
        (ty * torch.from_numpy(dy)).sum().backward()
        assert rel_err(y, ty.detach().numpy()) <= tol
        assert rel_err(dx, tx.grad.numpy()) <= tol
        assert rel_err(grads["gamma"], norm.weight.grad.numpy()) <= tol
        assert rel_err(grads["beta"], norm.bias.grad.numpy()) <= tol
        assert rel_err(params["moving_mean"], norm.running_mean.numpy()) <= tol
        assert rel_err(params["moving_variance"], norm.running_var.numpy()) <= tol
    assert np.abs(params["moving_mean"]).max() > 0.5  # the statistics really moved
    if activation == "relu":
        assert (y == 0).any() and (y > 0).any()  # the ReLU really cut
    theirs.eval()
    x = rng.standard_normal(shape).astype(dtype)
    y, _ = layer.forward(params, x, Context(training=False))
    with torch.no_grad():
        expected = _channels_first(theirs(_channels_first(torch.from_numpy(x)))).numpy()
    assert rel_err(y, expected) <= tol


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_matches_torch(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 7, 5)) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    layer = LayerNormalization(epsilon=1e-5)
    layer.build(x.shape[1:], dtype)
    params = {
        "gamma": rng.standard_normal(5).astype(dtype),
        "beta": rng.standard_normal(5).astype(dtype),
    }
    grads = {name: np.zeros(5, dtype) for name in params}
    y, cache = layer.forward(params, x, Context(training=True))
    dx = layer.backward(params, cache, dy, grads)
    theirs = torch.nn.LayerNorm(5, eps=1e-5).to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(params["gamma"]))
        theirs.bias.copy_(torch.from_numpy(params["beta"]))
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = theirs(tx)
    (ty * torch.from_numpy(dy)).sum().backward()
    tol = TOLERANCE[dtype]
    assert rel_err(y, ty.detach().numpy()) <= tol
    assert rel_err(dx, tx.grad.numpy()) <= tol
    assert rel_err(grads["gamma"], theirs.weight.grad.numpy()) <= tol
    assert rel_err(grads["beta"], theirs.bias.grad.numpy()) <= tol


def conv_bn_network(dtype):
    layers = [
        Conv1D(6, 3, activation="linear"),
        BatchNormalization(momentum=0.9, epsilon=1e-5),
        Activation("relu"),
        GlobalAveragePooling1D(),
        Dense(1),
    ]
    return Network(layers, dtype=dtype).build((12, 2), 0)


class TorchConvBN(torch.nn.Module):
    """The torch twin of :func:`conv_bn_network`."""

    def __init__(self, net, dtype):
        super().__init__()
        p = net.params
        self.conv = torch.nn.Conv1d(2, 6, 3)
        self.bn = torch.nn.BatchNorm1d(6, eps=1e-5, momentum=0.1)
        self.head = torch.nn.Linear(6, 1)
        self.to(dtype)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(p["0.conv1d.W"].transpose(2, 1, 0).copy()))
            self.conv.bias.copy_(torch.from_numpy(p["0.conv1d.b"]))
            self.bn.weight.copy_(torch.from_numpy(p["1.batch_normalization.gamma"]))
            self.bn.bias.copy_(torch.from_numpy(p["1.batch_normalization.beta"]))
            self.head.weight.copy_(torch.from_numpy(p["4.dense.W"].T.copy()))
            self.head.bias.copy_(torch.from_numpy(p["4.dense.b"]))

    def forward(self, x):  # x: (batch, steps, channels)
        h = torch.relu(self.bn(self.conv(x.permute(0, 2, 1))))
        return self.head(h.mean(dim=2))

    def as_tsrnn(self):
        return {
            "0.conv1d.W": self.conv.weight.detach().numpy().transpose(2, 1, 0),
            "0.conv1d.b": self.conv.bias.detach().numpy(),
            "1.batch_normalization.gamma": self.bn.weight.detach().numpy(),
            "1.batch_normalization.beta": self.bn.bias.detach().numpy(),
            "1.batch_normalization.moving_mean": self.bn.running_mean.numpy(),
            "1.batch_normalization.moving_variance": self.bn.running_var.numpy(),
            "4.dense.W": self.head.weight.detach().numpy().T,
            "4.dense.b": self.head.bias.detach().numpy(),
        }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_batch_norm_training_trajectory_matches_torch(dtype):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 12, 2)) * 2 + 1
    y = np.sin(X[:, :, 0].sum(axis=1, keepdims=True))
    net = conv_bn_network(dtype)
    twin = TorchConvBN(net, TORCH_DTYPE[dtype])
    # The convolution's bias has a zero gradient in exact arithmetic (the batch mean
    # removes it), so its float32 gradient is rounding noise, which Adam with eps=1e-8
    # turns into full-size steps that differ between any two implementations. In
    # float32 a larger eps keeps that noise from moving the bias.
    eps = 1e-3 if dtype == "float32" else 1e-8
    ours, theirs = Adam(1e-2, eps=eps), torch.optim.Adam(twin.parameters(), lr=1e-2, eps=eps)
    Xc, yc = X.astype(dtype), y.astype(dtype)
    for step in range(20):
        idx = slice((step % 4) * 10, (step % 4) * 10 + 10)
        train_step(net, ours, losses.MSE(), Xc[idx], yc[idx])
        theirs.zero_grad()
        loss = torch.nn.functional.mse_loss(
            twin(torch.from_numpy(Xc[idx])), torch.from_numpy(yc[idx])
        )
        loss.backward()
        theirs.step()
    # float64: 20 Adam steps grow rounding to about 1e-9 (1.0e-9 on OpenBLAS' SkylakeX
    # kernels, less on Haswell's), still six orders below a wrong gradient's error.
    tol = 1e-5 if dtype == "float32" else 3e-9
    moved = np.abs(net.params.flat - conv_bn_network(dtype).params.flat).max()
    assert moved > 1e-2  # the weights really changed
    theirs_now = twin.as_tsrnn()
    bias = theirs_now.pop("0.conv1d.b")  # rounding noise on both sides: it stays at ~0
    assert max(np.abs(bias).max(), np.abs(net.params["0.conv1d.b"]).max()) <= 1e-5
    for name, value in theirs_now.items():
        err = rel_err(net.params[name], value)
        assert err <= tol, f"{name}: relative difference {err:.2e} after 20 steps"
    twin.eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(Xc)).numpy()
    assert rel_err(net.predict(Xc), expected) <= tol
