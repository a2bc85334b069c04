"""scikit-learn's estimator checks on both estimators (small, fast settings).

The check instances use float64: in float32, BLAS may round a row by an ulp
differently depending on its position in a batch, which the sample-order and
subset-invariance checks (rtol 1e-7) would see; predictions agree to float32
precision either way (tests/estimators/test_estimators.py checks that).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from tsrnn import SequenceClassifier, SequenceRegressor

FAST = dict(hidden_size=16, max_epochs=60, learning_rate=1e-2, dtype="float64", random_state=0)


@parametrize_with_checks(
    [
        SequenceRegressor(**FAST),
        SequenceClassifier(architecture="recurrent", n_ensemble=1, **FAST),
        # The classifier's default shape: a ResNet ensemble (narrower, for speed).
        SequenceClassifier(
            n_ensemble=2,
            conv_filters=4,
            max_epochs=30,
            learning_rate=1e-2,
            dtype="float64",
            random_state=0,
        ),
    ],
    expected_failed_checks=lambda est: est._expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
