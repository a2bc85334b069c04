"""Numba CPU kernels against the NumPy reference (forward outputs and all gradients)."""

import numpy as np
import pytest

from tests.helpers import (
    CELL_IDS,
    CELL_VARIANTS,
    fast_stack,
    make_case,
    reference_case,
    rel_err,
)

# (n_steps, batch, n_features, hidden, num_layers, bidirectional)
SHAPES = [
    (1, 1, 1, 1, 1, False),  # every size 1
    (6, 1, 2, 3, 1, True),  # batch 1, bidirectional
    (1, 4, 3, 5, 2, True),  # one step, stacked and bidirectional
    (5, 3, 11, 2, 1, False),  # more features than hidden units
    (7, 4, 3, 1, 2, False),  # hidden 1, stacked
    (210, 3, 2, 4, 1, True),  # long sequence
]
SHAPE_IDS = ["ones", "batch1-bi", "step1-stack-bi", "wide-input", "hidden1-stack", "long-bi"]


def _compare(case, tol):
    y, h_n, c_n, grads = fast_stack(case)
    ry, rh, rc, rgrads = reference_case(case)
    errors = {"y": rel_err(y, ry), "h_n": rel_err(h_n, rh)}
    if c_n is not None:
        errors["c_n"] = rel_err(c_n, rc)
    assert set(grads) == set(rgrads)
    for name in rgrads:
        errors[f"d{name}"] = rel_err(grads[name], rgrads[name])
    worst = max(errors, key=errors.get)
    assert errors[worst] <= tol, f"{worst}: relative error {errors[worst]:.2e} > {tol:g}"
    return errors


@pytest.mark.parametrize("mask", ["none", "lengths", "holes"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(("cell", "options"), CELL_VARIANTS, ids=CELL_IDS)
def test_float64_matches_reference(cell, options, shape, mask):
    T, B, F, H, L, bi = shape
    case = make_case(cell, options, T, B, F, H, L, bi, mask=mask, seed=T * 31 + B)
    _compare(case, 1e-10)


@pytest.mark.parametrize("mask", ["none", "holes"])
@pytest.mark.parametrize(("cell", "options"), CELL_VARIANTS, ids=CELL_IDS)
def test_recurrent_dropout_matches_reference(cell, options, mask):
    case = make_case(cell, options, 8, 3, 2, 5, 2, True, mask=mask, recurrent_dropout=0.4)
    errors = _compare(case, 1e-10)
    # The mask changes the result (the test would pass vacuously otherwise).
    plain = fast_stack(dict(case, rmask=None))
    assert np.abs(plain[0] - fast_stack(case)[0]).max() > 1e-3
    assert errors["dl0.W_h"] <= 1e-10


@pytest.mark.parametrize(("cell", "options"), CELL_VARIANTS, ids=CELL_IDS)
def test_float32_within_float32_tolerance(cell, options):
    # float32 uses the rational tanh (error 3.5e-7), so agreement is at float32 level.
    case = make_case(cell, options, 30, 4, 3, 8, 2, True, dtype="float32", mask="lengths")
    y, h_n, c_n, grads = fast_stack(case)
    assert y.dtype == np.float32 and grads["l0.W_x"].dtype == np.float32
    # relu recurrences are unbounded and amplify float32 rounding through 30 steps and
    # two layers; their math is pinned by the float64 test at 1e-10.
    relu = options.get("activation") == "relu"
    errors = _compare(case, 2e-4 if relu else 2e-5)
    assert errors["y"] <= (1e-5 if relu else 2e-6)


@pytest.mark.parametrize(("cell", "options"), CELL_VARIANTS, ids=CELL_IDS)
def test_padding_does_not_change_real_steps(cell, options):
    """A sequence padded inside a batch gives the same outputs and gradients as alone."""
    T, B, F, H = 9, 3, 2, 4
    lengths = np.array([9, 4, 6])
    full = make_case(cell, options, T, B, F, H, bidirectional=True, seed=5)
    full["mask"] = np.arange(T)[:, None] < lengths[None, :]
    full["h0"] = full["c0"] = None
    full["dh_n"] = full["dc_n"] = None
    # Outputs at padded steps carry the state (Keras' convention); a masked loss gives
    # them no upstream gradient.
    full["dy"] = full["dy"] * full["mask"][:, :, None]
    y, h_n, _, grads = fast_stack(full)
    for b, n in enumerate(lengths):
        alone = dict(full, x=full["x"][:n, b : b + 1], mask=None, dy=full["dy"][:n, b : b + 1])
        y1, h1, _, g1 = fast_stack(alone)
        np.testing.assert_allclose(y[:n, b : b + 1], y1, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h_n[:, b : b + 1], h1, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grads["x"][:n, b : b + 1], g1["x"], rtol=1e-10, atol=1e-12)
        # Padding steps receive no gradient.
        assert np.all(grads["x"][n:, b] == 0)
    # Parameter gradients are sums over samples: padding contributes nothing.
    per_sample = [
        fast_stack(
            dict(full, x=full["x"][:n, b : b + 1], mask=None, dy=full["dy"][:n, b : b + 1])
        )[3]
        for b, n in enumerate(lengths)
    ]
    for name in full["params"]:
        total = sum(g[name] for g in per_sample)
        np.testing.assert_allclose(grads[name], total, rtol=1e-10, atol=1e-12)


def test_masked_steps_carry_state_forward():
    case = make_case("lstm", {}, 5, 2, 3, 4, mask="none", seed=1)
    mask = np.ones((5, 2), dtype=bool)
    mask[2, 0] = False
    y, h_n, c_n, cache = case["layer"].forward(case["params"], case["x"], mask)
    np.testing.assert_array_equal(y[2, 0], y[1, 0])
    assert not np.array_equal(y[2, 1], y[1, 1])


def test_results_are_bit_identical_across_runs():
    case = make_case("gru", {}, 40, 16, 3, 24, 2, True, dtype="float32", mask="lengths")
    first = fast_stack(case)
    second = fast_stack(case)
    for a, b in zip(first[:2], second[:2], strict=True):
        assert np.array_equal(a, b)
    for name in first[3]:
        assert np.array_equal(first[3][name], second[3][name])
