"""The optimizers of :mod:`tsrnn.training.optimizers` against PyTorch's: whole
optimisation trajectories (Adam and SGD with Nesterov momentum) of a Conv1D -> LSTM ->
Dense network, and gradient clipping."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn import LSTM, Conv1D, Dense, Network, losses
from tsrnn.training import SGD, Adam, clip_by_global_norm, train_step

torch = pytest.importorskip("torch", reason="PyTorch is the cross-check reference; not installed")
pytestmark = pytest.mark.torch


class TorchConvLSTM(torch.nn.Module):
    """The torch twin of [Conv1D(6, 3, relu), LSTM(5), Dense(1)]."""

    def __init__(self, net, dtype):
        super().__init__()
        p = net.params
        self.conv = torch.nn.Conv1d(2, 6, 3)
        self.lstm = torch.nn.LSTM(6, 5)
        self.head = torch.nn.Linear(5, 1)
        self.to(dtype)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(p["0.conv1d.W"].transpose(2, 1, 0).copy()))
            self.conv.bias.copy_(torch.from_numpy(p["0.conv1d.b"]))
            self.lstm.weight_ih_l0.copy_(torch.from_numpy(p["1.lstm.l0.W_x"].T.copy()))
            self.lstm.weight_hh_l0.copy_(torch.from_numpy(p["1.lstm.l0.W_h"].T.copy()))
            self.lstm.bias_ih_l0.copy_(torch.from_numpy(p["1.lstm.l0.b"]))
            self.lstm.bias_hh_l0.zero_()
            self.head.weight.copy_(torch.from_numpy(p["2.dense.W"].T.copy()))
            self.head.bias.copy_(torch.from_numpy(p["2.dense.b"]))
        # tsrnn has one LSTM bias (b_ih + b_hh); train only torch's b_ih so the
        # trajectories are the same function of the same parameters.
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x):  # x: (batch, steps, channels)
        h = torch.relu(self.conv(x.permute(0, 2, 1)))  # (batch, filters, steps)
        _, (h_n, _) = self.lstm(h.permute(2, 0, 1))
        return self.head(h_n[-1])

    def as_tsrnn(self):
        return {
            "0.conv1d.W": self.conv.weight.detach().numpy().transpose(2, 1, 0),
            "0.conv1d.b": self.conv.bias.detach().numpy(),
            "1.lstm.l0.W_x": self.lstm.weight_ih_l0.detach().numpy().T,
            "1.lstm.l0.W_h": self.lstm.weight_hh_l0.detach().numpy().T,
            "1.lstm.l0.b": self.lstm.bias_ih_l0.detach().numpy(),
            "2.dense.W": self.head.weight.detach().numpy().T,
            "2.dense.b": self.head.bias.detach().numpy(),
        }


@pytest.mark.parametrize("optimizer", ["adam", "sgd-nesterov"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_trajectory_matches_torch(dtype, optimizer):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 12, 2))
    y = np.sin(X[:, :, 0].sum(axis=1, keepdims=True))
    net = Network([Conv1D(6, 3), LSTM(5), Dense(1)], dtype=dtype).build((12, 2), 0)
    tdt = torch.float64 if dtype == "float64" else torch.float32
    twin = TorchConvLSTM(net, tdt)
    trainable = [p for p in twin.parameters() if p.requires_grad]
    if optimizer == "adam":
        ours, theirs = (
            Adam(1e-2, weight_decay=1e-3),
            torch.optim.Adam(trainable, lr=1e-2, weight_decay=1e-3),
        )
    else:
        ours = SGD(5e-2, momentum=0.9, nesterov=True, weight_decay=1e-3)
        theirs = torch.optim.SGD(
            trainable, lr=5e-2, momentum=0.9, nesterov=True, weight_decay=1e-3
        )
    Xc, yc = X.astype(dtype), y.astype(dtype)
    for step in range(20):
        idx = slice((step % 4) * 10, (step % 4) * 10 + 10)
        train_step(net, ours, losses.MSE(), Xc[idx], yc[idx], clip_norm=1.0)
        theirs.zero_grad()
        loss = torch.nn.functional.mse_loss(
            twin(torch.from_numpy(Xc[idx])), torch.from_numpy(yc[idx])
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        theirs.step()
    tol = 1e-5 if dtype == "float32" else 1e-9
    moved = np.abs(
        net.params.flat
        - Network([Conv1D(6, 3), LSTM(5), Dense(1)], dtype=dtype).build((12, 2), 0).params.flat
    ).max()
    assert moved > 1e-2  # the weights really changed
    for name, value in twin.as_tsrnn().items():
        err = rel_err(net.params[name], value)
        assert err <= tol, f"{name}: relative difference {err:.2e} after 20 steps"


def test_clip_by_global_norm_matches_torch():
    g = np.random.default_rng(5).standard_normal(50) * 10
    tg = torch.tensor(g.copy(), requires_grad=True)
    tg.grad = torch.tensor(g.copy())
    norm = clip_by_global_norm(g, 2.0)
    tnorm = torch.nn.utils.clip_grad_norm_([tg], 2.0)
    assert norm == pytest.approx(tnorm.item(), rel=1e-14)
    np.testing.assert_allclose(g, tg.grad.numpy(), rtol=1e-14)
