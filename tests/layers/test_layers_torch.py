"""Cross-checks of the layers against PyTorch: Conv1d, MaxPool1d, Linear. (The losses
and optimizers are checked in tests/test_losses.py and tests/training/.)"""

import numpy as np
import pytest

from tests.helpers import rel_err
from tests.kernels.test_conv_dense import run_layer
from tsrnn import Conv1D, Dense, MaxPooling1D
from tsrnn.kernels.shapes import conv_padding

torch = pytest.importorskip("torch", reason="PyTorch is the cross-check reference; not installed")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize(
    ("padding", "stride", "dilation"),
    [
        ("valid", 1, 1),
        ("valid", 2, 1),
        ("valid", 1, 2),
        ("same", 1, 1),
        ("same", 1, 3),
        ("same", 2, 1),
        ("causal", 1, 1),
        ("causal", 1, 2),
        ("causal", 2, 1),
    ],
)
def test_conv1d_matches_torch(padding, stride, dilation):
    x = np.random.default_rng(0).standard_normal((3, 13, 2))
    layer = Conv1D(
        5, 3, strides=stride, dilation_rate=dilation, padding=padding, activation="tanh"
    )
    params, y, dy, dx, grads = run_layer(layer, x)
    left, right, _ = conv_padding(13, 3, stride, dilation, padding)
    tx = _t(x, True)
    tw = _t(params["W"].transpose(2, 1, 0), True)  # (filters, channels, kernel)
    tb = _t(params["b"], True)
    padded = F.pad(tx.permute(0, 2, 1), (left, right))
    ty = torch.tanh(F.conv1d(padded, tw, tb, stride=stride, dilation=dilation)).permute(0, 2, 1)
    (ty * _t(dy)).sum().backward()
    assert rel_err(y, ty.detach().numpy()) <= 1e-12
    assert rel_err(dx, tx.grad.numpy()) <= 1e-12
    assert rel_err(grads["W"], tw.grad.numpy().transpose(2, 1, 0)) <= 1e-12
    assert rel_err(grads["b"], tb.grad.numpy()) <= 1e-12
    if padding == "same" and stride == 1:  # torch's own 'same' mode agrees too
        ty2 = F.conv1d(tx.permute(0, 2, 1), tw, tb, dilation=dilation, padding="same")
        assert rel_err(y, torch.tanh(ty2).permute(0, 2, 1).detach().numpy()) <= 1e-12


@pytest.mark.parametrize(("pool", "stride"), [(2, 2), (3, 1), (3, 2)])
def test_max_pool_matches_torch(pool, stride):
    x = np.random.default_rng(1).standard_normal((2, 10, 3))
    _, y, dy, dx, _ = run_layer(MaxPooling1D(pool, stride), x)
    tx = _t(x, True)
    ty = F.max_pool1d(tx.permute(0, 2, 1), pool, stride).permute(0, 2, 1)
    (ty * _t(dy)).sum().backward()
    assert rel_err(y, ty.detach().numpy()) == 0 and rel_err(dx, tx.grad.numpy()) <= 1e-15


@pytest.mark.parametrize(
    ("pool", "stride", "padding"),
    [(3, 1, "same"), (5, 1, "same"), (2, 1, "same"), (4, 1, "same"), (3, 2, "same")]
    + [(3, 1, "causal"), (2, 2, "causal")],
)
def test_padded_max_pool_matches_torch(pool, stride, padding):
    # PyTorch pads max pooling with -inf; tsrnn's 'same' puts the odd step of an even
    # pool's padding on the right (Keras), which PyTorch's symmetric padding cannot,
    # so the padding is spelled out with F.pad.
    x = np.random.default_rng(1).standard_normal((2, 10, 3))
    _, y, dy, dx, _ = run_layer(MaxPooling1D(pool, stride, padding=padding), x)
    left, right, _ = conv_padding(10, pool, stride, 1, padding)
    tx = _t(x, True)
    padded = F.pad(tx.permute(0, 2, 1), (left, right), value=-np.inf)
    ty = F.max_pool1d(padded, pool, stride).permute(0, 2, 1)
    (ty * _t(dy)).sum().backward()
    assert rel_err(y, ty.detach().numpy()) == 0 and rel_err(dx, tx.grad.numpy()) <= 1e-15
    if padding == "same" and pool % 2 == 1 and stride == 1:  # so does torch's own padding
        ty2 = F.max_pool1d(tx.permute(0, 2, 1), pool, stride, padding=pool // 2)
        assert rel_err(y, ty2.permute(0, 2, 1).detach().numpy()) == 0


def test_dense_matches_torch_linear():
    x = np.random.default_rng(2).standard_normal((7, 4))
    params, y, dy, dx, grads = run_layer(Dense(3, activation="sigmoid"), x)
    tx, tw, tb = _t(x, True), _t(params["W"].T, True), _t(params["b"], True)
    ty = torch.sigmoid(F.linear(tx, tw, tb))
    (ty * _t(dy)).sum().backward()
    for a, b in ((y, ty), (dx, tx.grad), (grads["W"], tw.grad.T), (grads["b"], tb.grad)):
        assert rel_err(a, b.detach().numpy()) <= 1e-12
