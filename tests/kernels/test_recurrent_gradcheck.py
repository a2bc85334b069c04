"""Central finite differences of the NumPy reference's gradients (float64).

The reference is the spec the fast kernels are tested against, so its gradients
are checked here against an independent definition: the derivative itself.
"""

import numpy as np
import pytest

from tests.helpers import (
    CELL_IDS,
    CELL_VARIANTS,
    make_case,
    numeric_gradient,
    reference_case,
    reference_stack,
    rel_err,
)


def _loss(case, overrides):
    c = dict(case, **overrides)
    y, h_n, c_n, _ = reference_stack(
        c["layer"], c["params"], c["x"], c["mask"], c["h0"], c["c0"], rmask=c.get("rmask")
    )
    loss = np.sum(y * c["dy"]) + np.sum(h_n * c["dh_n"])
    if c_n is not None:
        loss += np.sum(c_n * c["dc_n"])
    return loss


@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
@pytest.mark.parametrize(("cell", "options"), CELL_VARIANTS, ids=CELL_IDS)
def test_reference_gradients_match_finite_differences(cell, options, bidirectional):
    case = make_case(
        cell,
        options,
        n_steps=4,
        batch=2,
        n_features=3,
        hidden=3,
        num_layers=2 if bidirectional else 1,
        bidirectional=bidirectional,
        mask="holes",
        seed=11,
        recurrent_dropout=0.3 if bidirectional else 0.0,  # bidirectional cases add dropout
    )
    if options.get("activation") == "relu":
        # relu is not differentiable at 0; keep pre-activations away from the kink.
        case["x"] = case["x"] + np.sign(case["x"]) * 0.1
    case["mask"][0, :] = True  # at least one real step per sample, first step included
    _, _, _, analytic = reference_case(case)
    targets = {"x": case["x"], "h0": case["h0"]}
    if case["c0"] is not None:
        targets["c0"] = case["c0"]
    targets.update({name: case["params"][name] for name in case["params"]})
    for name, array in targets.items():
        numeric = numeric_gradient(lambda: _loss(case, {}), array)
        err = rel_err(analytic[name], numeric)
        assert err <= 1e-6, f"d{name}: relative error {err:.2e}"
        assert np.abs(numeric).max() > 0 or name == "h0", f"d{name} is identically zero"
