"""Losses: Numba kernels vs the NumPy reference, finite differences, stability."""

import numpy as np
import pytest

from tests.helpers import numeric_gradient, rel_err
from tsrnn import losses
from tsrnn.kernels.reference import losses as ref

rng = np.random.default_rng(0)
P = rng.standard_normal((6, 3))
Y = rng.standard_normal((6, 3))
Y01 = (rng.random((6, 3)) > 0.5).astype(float)
W = rng.random(6) + 0.1
LABELS = rng.integers(0, 3, size=6)

CASES = [
    ("mse", losses.MSE(), lambda p, w: ref.mse(p, Y, w), Y),
    ("mae", losses.MAE(), lambda p, w: ref.mae(p, Y, w), Y),
    ("huber", losses.Huber(0.7), lambda p, w: ref.huber(p, Y, w, 0.7), Y),
    (
        "bce",
        losses.BinaryCrossEntropy(),
        lambda p, w: ref.binary_cross_entropy_with_logits(p, Y01, w),
        Y01,
    ),
    (
        "pinball",
        losses.Pinball([0.1, 0.5, 0.9]),
        lambda p, w: ref.pinball(p, np.repeat(Y[:, :1], 3, 1), w, [0.1, 0.5, 0.9]),
        Y[:, :1],
    ),
    (
        "cross_entropy",
        losses.SoftmaxCrossEntropy([1.0, 2.0, 0.5]),
        lambda p, w: ref.softmax_cross_entropy(p, LABELS, w, [1.0, 2.0, 0.5]),
        LABELS,
    ),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("name", "loss", "reference", "target"), CASES, ids=IDS)
def test_loss_matches_reference(name, loss, reference, target, weighted):
    w = W if weighted else None
    value, grad = loss(P, target, w)
    r_value, r_grad = reference(P, W if weighted else np.ones(6))
    assert abs(value - r_value) <= 1e-12 * max(1.0, abs(r_value))
    assert rel_err(grad, r_grad) <= 1e-10


@pytest.mark.parametrize(("name", "loss", "reference", "target"), CASES, ids=IDS)
def test_reference_loss_gradient_matches_finite_differences(name, loss, reference, target):
    p = P.copy()
    if name in ("mae", "pinball", "huber"):
        # Keep residuals away from the kinks at 0 (and at +-delta for Huber).
        p = p + 0.05 * np.sign(p - (Y if name != "pinball" else Y[:, :1]))
    _, analytic = reference(p, W)
    numeric = numeric_gradient(lambda: reference(p, W)[0], p)
    assert rel_err(analytic, numeric) <= 1e-6


def test_bce_is_stable_for_large_logits():
    logits = np.array([[-800.0], [-60.0], [60.0], [800.0]])
    target = np.array([[0.0], [1.0], [0.0], [1.0]])
    value, grad = losses.BinaryCrossEntropy()(logits, target)
    # Correct confident predictions cost ~0; wrong ones cost |logit|.
    assert value == pytest.approx((0 + 60 + 60 + 0) / 4, rel=1e-12)
    np.testing.assert_allclose(grad[:, 0], np.array([0.0, -1.0, 1.0, 0.0]) / 4, atol=1e-20)
    assert np.isfinite(grad).all()


def test_cross_entropy_is_stable_for_large_logits():
    value, grad = losses.SoftmaxCrossEntropy()(np.array([[1000.0, -1000.0, 0.0]]), np.array([1]))
    assert value == pytest.approx(2000.0) and np.isfinite(grad).all()


def test_loss_input_errors():
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        losses.MSE()(P, Y, np.ones(3))
    with pytest.raises(ValueError, match="non-negative with a positive sum"):
        losses.MSE()(P, Y, np.zeros(6))
    with pytest.raises(ValueError, match="do not match predictions"):
        losses.MSE()(P, Y[:, :2])
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        losses.SoftmaxCrossEntropy()(P, np.array([0, 1, 2, 3, 0, 1]))
    with pytest.raises(ValueError, match="quantiles must lie strictly between 0 and 1"):
        losses.Pinball([0.0, 0.5])
    with pytest.raises(ValueError, match="loss must be one of"):
        losses.get_loss("hinge")
