"""Seeded training is bit-identical to the fits recorded in tests/data/bitwise_fits.npz.

With other versions of the numerical libraries than the recorded ones (the
minimum-versions and newest-Python CI jobs) the fits must agree to rounding instead
(tests/bitwise/record_fits.py says why). Regenerate the file only for a change that is
meant to alter results: ``python -m tests.bitwise.record_fits``.
"""

import numpy as np
import pytest

from tests.bitwise.record_fits import DTYPES, NETWORKS, OPTIMIZERS, PATH, environment, run

#: Agreement asked of a fit under other library versions than the recorded ones.
RTOL = {"float32": 1e-5, "float64": 1e-12}


@pytest.fixture(scope="module")
def recorded():
    with np.load(PATH) as data:
        return dict(data)


@pytest.fixture(scope="module")
def recorded_here(recorded):
    """Whether this environment has the library versions and BLAS kernels of the record."""
    versions = environment()
    missing = [key for key in versions if key not in recorded]
    if missing:
        pytest.fail(
            f"{PATH.name} lacks {missing}: re-record with python -m tests.bitwise.record_fits"
        )
    return all(recorded[key] == version for key, version in versions.items())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_seeded_fit_is_bit_identical(recorded, recorded_here, name, optimizer, dtype):
    weights, losses = run(name, optimizer, dtype)
    key = f"{name}/{optimizer}/{dtype}"
    assert weights.dtype == np.dtype(dtype)
    if recorded_here:
        np.testing.assert_array_equal(losses, recorded[key + "/losses"])
        np.testing.assert_array_equal(weights, recorded[key + "/weights"])
    else:
        tol = RTOL[dtype]
        np.testing.assert_allclose(losses, recorded[key + "/losses"], rtol=tol, atol=tol)
        np.testing.assert_allclose(weights, recorded[key + "/weights"], rtol=tol, atol=tol)
