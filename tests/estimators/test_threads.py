"""Two estimators fitted at the same time in two threads (joblib's threading backend)
end with exactly the weights of fitting them one after the other."""

import numpy as np
from joblib import Parallel, delayed

from tests.helpers import assert_bit_identical
from tsrnn import SequenceClassifier, SequenceRegressor


def _fit(estimator, X, y):
    return estimator.fit(X, y).network_.get_weights()


def test_concurrent_fits_equal_sequential_fits():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 30, 3))
    y = X[:, -4:, 0].sum(axis=1)
    jobs = [
        (SequenceRegressor(cell="lstm", hidden_size=24, max_epochs=8, random_state=1), y),
        (
            SequenceClassifier(
                architecture="recurrent",
                cell="gru",
                hidden_size=24,
                conv_filters=4,
                max_epochs=8,
                recurrent_dropout=0.2,
                random_state=2,
            ),
            y > 0,
        ),
    ]
    sequential = [_fit(est, X, target) for est, target in jobs]
    concurrent = Parallel(n_jobs=2, backend="threading")(
        delayed(_fit)(est, X, target) for est, target in jobs
    )
    for a, b in zip(sequential, concurrent, strict=True):
        assert_bit_identical(a, b)
