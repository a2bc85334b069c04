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


def _trajectories(dtype, eps):
    """20 Adam steps of the network and its twin from the same weights and batches."""
    X, y = _data(dtype)
    net = lstm_fcn(dtype)
    twin = TorchLSTMFCN(net, TORCH_DTYPE[dtype])
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
    twin.eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(X)).numpy()
    return net, twin, rel_err(net.predict(X), expected)


# The conv biases feed BatchNormalization, so their gradients are zero in exact
# arithmetic and what each library computes is rounding noise (~1e-16) in a different
# order. Adam divides by sqrt(v) + eps: with eps=1e-8 that noise becomes steps of
# ~1e-11, different in each library, which reach the moving means (they average the
# conv outputs, biases included) and from there the inference output (~1e-9 apart
# after 20 steps). Every other parameter stays within ~1e-14. With eps=1e-3 the noise
# steps are ~1e-15 and the whole trajectory, moving means and predictions included,
# agrees to 1e-10. In float32 the noise is ~1e-8 and eps=1e-3 is needed throughout.
TRAJECTORY_CASES = [
    # dtype, Adam eps, tolerance of the parameters, of the moving means and predictions
    ("float32", 1e-3, 1e-5, 1e-5),
    ("float64", 1e-8, 1e-10, 1e-9),
    ("float64", 1e-3, 1e-10, 1e-10),
]


@pytest.mark.parametrize(("dtype", "eps", "tol", "tol_noisy"), TRAJECTORY_CASES)
def test_lstm_fcn_adam_trajectory_matches_torch(dtype, eps, tol, tol_noisy):
    net, twin, prediction_err = _trajectories(dtype, eps)
    for ours_p, theirs_p, name in twin.pairs(views_of(net, net.params)):
        if name == "bn.moving_mean":
            # Small means: compared absolutely, on the scale of the O(1) activations.
            err, bound = np.abs(ours_p - theirs_p).max(), tol_noisy
        else:
            err, bound = rel_err(ours_p, theirs_p), tol
        assert err <= bound, f"{name}: difference {err:.2e} after 20 steps"
    assert prediction_err <= tol_noisy


def test_lstm_fcn_trajectories_part_only_through_the_conv_biases_noise():
    # float64 with Adam's default eps: after 20 steps the parameters other than the
    # conv biases agree to rounding (1e-13), while the conv biases, which a perfect
    # computation would leave at 0, have taken different noise-driven steps.
    net, twin, _ = _trajectories("float64", 1e-8)
    for ours_p, theirs_p, name in twin.pairs(views_of(net, net.params)):
        if name != "bn.moving_mean":
            assert rel_err(ours_p, theirs_p) <= 1e-13, name
    views = views_of(net, net.params)
    for conv, p in zip(twin.conv, views["conv"], strict=True):
        drift = np.abs(p["b"] - conv.bias.detach().numpy()).max()
        assert 1e-13 < drift < 1e-8  # noise steps, not a difference in the model
