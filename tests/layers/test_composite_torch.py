"""A whole LSTM-FCN (the 'lstm-fcn' preset: a Conv-BatchNorm-ReLU branch in parallel
with an LSTM branch, concatenated, Dense) against its PyTorch twin: forward output,
every gradient, and 20 Adam steps from the same weights."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn import Network, architectures, losses
from tsrnn.interop import recurrent_to_torch_state_dict
from tsrnn.kernels.shapes import conv_padding
from tsrnn.training import Adam, train_step

torch = pytest.importorskip("torch", reason="PyTorch is the cross-check reference; not installed")
F = torch.nn.functional
pytestmark = pytest.mark.torch

TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}
N_STEPS, N_FEATURES, WIDTH, HIDDEN = 11, 2, 3, 4


def lstm_fcn(dtype):
    layers = architectures.lstm_fcn(3, True, hidden_size=HIDDEN, dropout=0.0, width=WIDTH)
    return Network(layers, dtype=dtype).build((N_STEPS, N_FEATURES), 7)


def views_of(net, buffer):
    """Views of ``buffer`` (weights or gradients laid out like ``net.params``): the
    convolutions', the batch normalizations', the LSTM's and the Dense layer's.
    """
    parallel = net.layers[0]
    branch, (lstm,) = parallel._child_views(net._views(buffer)[0])
    fcn = parallel.branches[0]
    return {
        "conv": [branch[i] for i, la in enumerate(fcn) if la.name == "conv1d"],
        "bn": [branch[i] for i, la in enumerate(fcn) if la.name == "batch_normalization"],
        "lstm": lstm,
        "dense": {"W": buffer["1.dense.W"], "b": buffer["1.dense.b"]},
    }


class TorchLSTMFCN(torch.nn.Module):
    """The twin of :func:`lstm_fcn`, loaded with its weights."""

    def __init__(self, net, dtype):
        super().__init__()
        fcn, (rnn,) = net.layers[0].branches
        self.convs = [layer for layer in fcn if layer.name == "conv1d"]
        bns = [layer for layer in fcn if layer.name == "batch_normalization"]
        views = views_of(net, net.params)
        self.conv = torch.nn.ModuleList(
            torch.nn.Conv1d(c.input_shape[1], c.filters, c.kernel_size) for c in self.convs
        )
        self.bn = torch.nn.ModuleList(
            torch.nn.BatchNorm1d(b.n_features, eps=b.epsilon, momentum=1 - b.momentum) for b in bns
        )
        self.lstm = torch.nn.LSTM(N_FEATURES, HIDDEN, batch_first=True)
        self.head = torch.nn.Linear(WIDTH + HIDDEN, 3)
        self.to(dtype)
        with torch.no_grad():
            for conv, p in zip(self.conv, views["conv"], strict=True):
                conv.weight.copy_(torch.from_numpy(p["W"].transpose(2, 1, 0).copy()))
                conv.bias.copy_(torch.from_numpy(p["b"]))
            for bn, p in zip(self.bn, views["bn"], strict=True):
                bn.weight.copy_(torch.from_numpy(p["gamma"]))
                bn.bias.copy_(torch.from_numpy(p["beta"]))
            self.lstm.load_state_dict(recurrent_to_torch_state_dict(rnn.core, views["lstm"]))
            self.head.weight.copy_(torch.from_numpy(net.params["1.dense.W"].T.copy()))
            self.head.bias.copy_(torch.from_numpy(net.params["1.dense.b"]))
        # tsrnn's LSTM has one bias (torch's bias_ih + bias_hh): keep bias_hh at zero.
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x):  # x: (batch, steps, features)
        h = x.permute(0, 2, 1)
        for conv, layer, bn in zip(self.conv, self.convs, self.bn, strict=True):
            left, right, _ = conv_padding(N_STEPS, layer.kernel_size, 1, 1, "same")
            h = torch.relu(bn(conv(F.pad(h, (left, right)))))
        _, (h_n, _) = self.lstm(x)
        return self.head(torch.cat([h.mean(dim=2), h_n[-1]], dim=1))

    def pairs(self, views, grads=False):
        """(tsrnn array, torch array, name) for every parameter but the conv biases,
        with ``views`` from :func:`views_of`; the torch side is the gradient if ``grads``.
        """
        get = (lambda t: t.grad) if grads else (lambda t: t.detach())
        out = []
        for conv, p in zip(self.conv, views["conv"], strict=True):
            out.append((p["W"], get(conv.weight).numpy().transpose(2, 1, 0), "conv.W"))
        for bn, p in zip(self.bn, views["bn"], strict=True):
            out.append((p["gamma"], get(bn.weight).numpy(), "bn.gamma"))
            out.append((p["beta"], get(bn.bias).numpy(), "bn.beta"))
            if not grads:
                out.append((p["moving_mean"], bn.running_mean.numpy(), "bn.moving_mean"))
                out.append((p["moving_variance"], bn.running_var.numpy(), "bn.moving_var"))
        lv = views["lstm"]
        out.append((lv["l0.W_x"], get(self.lstm.weight_ih_l0).numpy().T, "lstm.W_x"))
        out.append((lv["l0.W_h"], get(self.lstm.weight_hh_l0).numpy().T, "lstm.W_h"))
        out.append((lv["l0.b"], get(self.lstm.bias_ih_l0).numpy(), "lstm.b"))
        out.append((views["dense"]["W"], get(self.head.weight).numpy().T, "dense.W"))
        out.append((views["dense"]["b"], get(self.head.bias).numpy(), "dense.b"))
        return out


def _data(dtype):
    rng = np.random.default_rng(4)
    X = (rng.standard_normal((40, N_STEPS, N_FEATURES)) * 2 + 1).astype(dtype)
    y = np.tanh(X.sum(axis=1) @ rng.standard_normal((N_FEATURES, 3))).astype(dtype)
    return X, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_fcn_forward_and_gradients_match_torch(dtype):
    X, y = _data(dtype)
    net = lstm_fcn(dtype)
    twin = TorchLSTMFCN(net, TORCH_DTYPE[dtype])
    out, caches = net.forward(X[:10], training=True)
    ty = twin(torch.from_numpy(X[:10]))
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    (ty * torch.from_numpy(dout)).sum().backward()
    grads = net.backward(caches, dout)
    tol = {"float32": 1e-5, "float64": 1e-10}[dtype]
    assert rel_err(out, ty.detach().numpy()) <= tol
    grad_views = views_of(net, grads)
    for ours, theirs, name in twin.pairs(grad_views, grads=True):
        assert rel_err(ours, theirs) <= tol, name
    # A conv bias feeding a BatchNormalization has a zero gradient in exact arithmetic.
    for conv, p in zip(twin.conv, grad_views["conv"], strict=True):
        assert np.abs(p["b"]).max() <= 10 * tol and conv.bias.grad.abs().max() <= 10 * tol


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_fcn_adam_trajectory_matches_torch(dtype):
    X, y = _data(dtype)
    net = lstm_fcn(dtype)
    twin = TorchLSTMFCN(net, TORCH_DTYPE[dtype])
    # As in tests/layers/test_normalization_torch.py: in float32 the conv biases'
    # gradients (zero in exact arithmetic, before BatchNormalization) are rounding
    # noise that Adam with eps=1e-8 would turn into full-size steps.
    eps = 1e-3 if dtype == "float32" else 1e-8
    trainable = [p for p in twin.parameters() if p.requires_grad]
    ours, theirs = Adam(1e-2, eps=eps), torch.optim.Adam(trainable, lr=1e-2, eps=eps)
    for step in range(20):
        idx = slice((step % 4) * 10, (step % 4) * 10 + 10)
        train_step(net, ours, losses.MSE(), X[idx], y[idx])
        theirs.zero_grad()
        F.mse_loss(twin(torch.from_numpy(X[idx])), torch.from_numpy(y[idx])).backward()
        theirs.step()
    moved = np.abs(net.params.flat - lstm_fcn(dtype).params.flat).max()
    assert moved > 1e-2  # the weights really changed
    tol = {"float32": 1e-5, "float64": 1e-9}[dtype]
    for ours_p, theirs_p, name in twin.pairs(views_of(net, net.params)):
        err = rel_err(ours_p, theirs_p)
        if name == "bn.moving_mean":
            # The batch means include the conv biases, whose rounding-noise steps (see
            # above) differ between the two; the means are small, so compare them
            # absolutely, on the scale of the O(1) activations.
            err = np.abs(ours_p - theirs_p).max()
        assert err <= tol, f"{name}: relative difference {err:.2e} after 20 steps"
    twin.eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(X)).numpy()
    assert rel_err(net.predict(X), expected) <= tol
