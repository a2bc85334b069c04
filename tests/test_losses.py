"""The losses of :mod:`tsrnn.losses` against PyTorch's: values and gradients."""

import numpy as np
import pytest

from tests.helpers import rel_err
from tsrnn import losses

torch = pytest.importorskip("torch", reason="PyTorch is the cross-check reference; not installed")
pytestmark = pytest.mark.torch


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def test_losses_match_torch():
    rng = np.random.default_rng(3)
    p, y = rng.standard_normal((8, 2)) * 3, rng.standard_normal((8, 2))
    y01 = (rng.random((8, 2)) > 0.5).astype(float)
    labels = rng.integers(0, 4, 8)
    logits = rng.standard_normal((8, 4)) * 5
    cw = np.array([1.0, 0.5, 2.0, 1.5])
    cases = [
        (losses.MSE(), p, y, torch.nn.MSELoss()),
        (losses.MAE(), p, y, torch.nn.L1Loss()),
        (losses.Huber(1.3), p, y, torch.nn.HuberLoss(delta=1.3)),
        (losses.BinaryCrossEntropy(), p, y01, torch.nn.BCEWithLogitsLoss()),
    ]
    for ours, pred, target, theirs in cases:
        value, grad = ours(pred, target)
        tp = _t(pred, True)
        tl = theirs(tp, _t(target))
        tl.backward()
        assert value == pytest.approx(tl.item(), rel=1e-12)
        assert rel_err(grad, tp.grad.numpy()) <= 1e-12
    value, grad = losses.SoftmaxCrossEntropy(cw)(logits, labels)
    tp = _t(logits, True)
    tl = torch.nn.CrossEntropyLoss(weight=_t(cw))(tp, torch.tensor(labels))
    tl.backward()
    assert value == pytest.approx(tl.item(), rel=1e-12)
    assert rel_err(grad, tp.grad.numpy()) <= 1e-12
