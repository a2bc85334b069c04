"""Seeded training is bit-identical to the fits recorded in tests/data/bitwise_fits.npz.

Regenerate the file only for a change that is meant to alter results:
``python -m tests.bitwise.record_fits``.
"""

import numpy as np
import pytest

from tests.bitwise.record_fits import DTYPES, NETWORKS, OPTIMIZERS, PATH, run


@pytest.fixture(scope="module")
def recorded():
    with np.load(PATH) as data:
        return dict(data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_seeded_fit_is_bit_identical(recorded, name, optimizer, dtype):
    weights, losses = run(name, optimizer, dtype)
    key = f"{name}/{optimizer}/{dtype}"
    assert weights.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(losses, recorded[key + "/losses"])
    np.testing.assert_array_equal(weights, recorded[key + "/weights"])
