"""TimeSeriesScaler on extreme magnitudes."""

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn.preprocessing import TimeSeriesScaler

X = np.random.default_rng(0).normal(size=(8, 5, 2))


@pytest.mark.parametrize("factor", [1e200, 1.7e307, 1e-200, 1e-310])
def test_huge_and_tiny_values_are_standardised_like_ordinary_ones(factor):
    reference = TimeSeriesScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow on the way
        scaler = TimeSeriesScaler().fit(X * factor)
        scaled = scaler.transform(X * factor)
        restored = scaler.inverse_transform(scaled)
    np.testing.assert_allclose(scaled, reference, rtol=0, atol=1e-12)
    np.testing.assert_allclose(restored, X * factor, rtol=1e-13)
    np.testing.assert_allclose(scaler.scale_, X.reshape(-1, 2).std(axis=0) * factor, rtol=1e-13)


def test_ordinary_values_keep_numpys_mean_and_std():
    scaler = TimeSeriesScaler().fit(X)
    flat = X.reshape(-1, 2)
    np.testing.assert_array_equal(scaler.mean_, flat.mean(axis=0))
    np.testing.assert_array_equal(scaler.scale_, flat.std(axis=0))


def test_values_too_large_for_the_fitted_scale_are_refused():
    scaler = TimeSeriesScaler().fit(X * 1e-300)
    with pytest.raises(ValueError, match="too large to standardise"):
        scaler.transform(X * 1e300)


def test_multiindex_output_keeps_the_input_rows_in_their_order():
    index = pd.MultiIndex.from_tuples([("b", 12), ("a", 11), ("a", 10), ("b", 0), ("c", 2)])
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, -1.0, -6.0]}, index=index)
    scaled = TimeSeriesScaler().fit_transform(frame)
    assert scaled.index.equals(frame.index)
    values = frame["x"].to_numpy()
    np.testing.assert_allclose(scaled["x"], (values - values.mean()) / values.std())
