"""The estimators on real datasets: tuning in a Pipeline with GridSearchCV, and
variable-length multivariate classification."""

import numpy as np
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline

from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.datasets import load_airline, load_gunpoint, load_japanese_vowels
from tsrnn.preprocessing import TimeSeriesScaler


def test_gridsearch_pipeline_on_gunpoint():
    X, y = load_gunpoint("train")
    X_test, y_test = load_gunpoint("test")
    pipe = make_pipeline(
        TimeSeriesScaler(),
        SequenceClassifier(architecture="recurrent", conv_filters=16, pool_size=5, random_state=0),
    )
    grid = {
        "sequenceclassifier__cell": ["lstm", "gru"],
        "sequenceclassifier__hidden_size": [16, 32],
        "sequenceclassifier__learning_rate": [3e-3, 1e-2],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert search.score(X_test, y_test) >= 0.95


def test_japanese_vowels_variable_length():
    X, y = load_japanese_vowels("train")  # a list of (n_steps_i, 12) arrays
    X_test, y_test = load_japanese_vowels("test")
    assert isinstance(X, list) and len({len(x) for x in X}) > 10
    clf = make_pipeline(
        TimeSeriesScaler(),
        SequenceClassifier(architecture="recurrent", hidden_size=64, random_state=0),
    )
    clf.fit(X, y)
    assert clf.score(X_test, y_test) >= 0.95
    # A sequence's prediction does not depend on how long its batch-mates are.
    batch_proba = clf.predict_proba(X_test[:40])
    alone = np.vstack([clf.predict_proba([x]) for x in X_test[:40]])
    np.testing.assert_allclose(batch_proba, alone, rtol=1e-5, atol=1e-6)


def test_cross_val_score_with_time_series_split():
    series = np.log(load_airline().to_numpy())
    window = 12
    X = np.stack([series[i : i + window] for i in range(len(series) - window)])
    y = series[window:]
    scores = cross_val_score(
        SequenceRegressor(hidden_size=16, max_epochs=60, random_state=0),
        X - X[:, -1:],
        y - X[:, -1],
        cv=TimeSeriesSplit(n_splits=3),
        scoring="neg_mean_absolute_error",
    )
    assert scores.shape == (3,)
    # Mean absolute error of the next log change, below the naive "no change" forecast's.
    naive = np.mean(np.abs(np.diff(series)[-100:]))
    assert -scores.mean() < naive
