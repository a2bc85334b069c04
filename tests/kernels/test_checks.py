"""Input checks: the Numba kernel against the NumPy reference, on shapes and edge values."""

import numpy as np
import pytest

from tsrnn.kernels.cpu import checks
from tsrnn.kernels.reference import checks as ref

rng = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 5), (4, 6, 2), (2, 0, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_largest_magnitude_matches_the_reference(shape, dtype):
    values = (rng.standard_normal(shape) * 1e3).astype(dtype)
    assert checks.largest_magnitude(values) == ref.largest_magnitude(values)


@pytest.mark.parametrize(
    "special, expected",
    [(np.nan, np.nan), (np.inf, np.inf), (-np.inf, np.inf), (-7.5, 7.5), (3e38, 3e38)],
)
@pytest.mark.parametrize("position", [0, 5, -1])
def test_largest_magnitude_reports_nan_infinity_and_extremes(special, expected, position):
    values = rng.uniform(-1, 1, size=(3, 4))
    values.flat[position] = special
    for result in (checks.largest_magnitude(values), ref.largest_magnitude(values)):
        np.testing.assert_equal(result, expected)


def test_nan_wins_over_infinity_wherever_it_stands():
    values = np.array([np.inf, 1.0, np.nan, -np.inf])
    assert np.isnan(checks.largest_magnitude(values))
    assert np.isnan(checks.largest_magnitude(values[::-1].copy()))


def test_non_contiguous_views_are_read_in_full():
    values = np.zeros((4, 6))
    values[3, 5] = -9.0
    view = values[:, ::2]  # drops column 5 ...
    assert checks.largest_magnitude(view) == ref.largest_magnitude(view) == 0.0
    assert checks.largest_magnitude(values.T) == 9.0  # ... the transpose keeps it
