"""Seeded fits are bit-identical on one or two BLAS threads, and in threads at once.

OpenBLAS tiles a threaded product differently from a single-threaded one, and its
kernels round edge tiles differently; training runs on one BLAS thread
(tsrnn/_threads.py), so none of this reaches the weights.
"""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tests.helpers import weights_digest
from tsrnn import Forecaster, SequenceClassifier, SequenceRegressor


def _data(n=40, n_steps=24, n_features=1, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, n_steps, n_features))
    return X, X[:, -3:, 0].sum(axis=1)


def _default_classifier(dtype):
    X, y = _data()
    return SequenceClassifier(max_epochs=3, random_state=0, dtype=dtype), X, y > 0


def _lstm_fcn(dtype):
    X, y = _data()
    return (
        SequenceClassifier(architecture="lstm-fcn", max_epochs=3, random_state=0, dtype=dtype),
        X,
        y > 0,
    )


def _recurrent_regressor(dtype):
    # Batches of 10 and 128 LSTM units: the per-step (10, 128) @ (128, 512) product
    # rounds differently on two OpenBLAS threads in float64 too.
    X, y = _data(n=30, n_steps=8, n_features=2)
    reg = SequenceRegressor(
        cell="lstm", hidden_size=128, batch_size=10, max_epochs=2, random_state=0, dtype=dtype
    )
    return reg, X, y


def _digest(make, dtype, threads):
    estimator, X, y = make(dtype)
    with threadpool_limits(limits=threads):
        return weights_digest(estimator.fit(X, y))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "make",
    [_default_classifier, _lstm_fcn, _recurrent_regressor],
    ids=["default-classifier", "lstm-fcn", "recurrent-regressor"],
)
def test_one_and_two_blas_threads_give_the_same_weights(make, dtype):
    assert _digest(make, dtype, 1) == _digest(make, dtype, 2)


@pytest.mark.parametrize("architecture", ["recurrent", "fcn", "inceptiontime"])
def test_every_preset_fits_the_same_on_one_and_two_blas_threads(architecture):
    def make(dtype):
        X, y = _data()
        clf = SequenceClassifier(
            architecture=architecture, max_epochs=2, random_state=0, dtype=dtype
        )
        return clf, X, y > 0

    assert _digest(make, "float32", 1) == _digest(make, "float32", 2)


def test_forecaster_fits_the_same_on_one_and_two_blas_threads():
    series = np.sin(np.arange(120.0) / 5) + np.random.default_rng(0).normal(0, 0.1, 120)

    def fit(threads):
        model = Forecaster(window=12, horizon=3, hidden_size=32, max_epochs=3, random_state=0)
        with threadpool_limits(limits=threads):
            return weights_digest(model.fit(series).networks_[0])

    assert fit(1) == fit(2)


def test_threaded_ensemble_equals_a_sequential_one_on_any_blas_thread_count():
    X, y = _data()

    def fit(n_jobs, threads):
        clf = SequenceClassifier(max_epochs=2, n_ensemble=2, n_jobs=n_jobs, random_state=0)
        with threadpool_limits(limits=threads):
            return weights_digest(clf.fit(X, y > 0))

    assert fit(2, 2) == fit(1, 1)


def test_a_fit_in_another_thread_gets_one_blas_thread_too():
    # threadpoolctl lets only one thread set OpenBLAS' limit and ignores the others;
    # a limit set here without a `with` block makes this thread that one.
    expected = _digest(_default_classifier, "float32", 1)
    limiter = threadpool_limits(limits=2)
    try:
        digests = []
        estimator, X, y = _default_classifier("float32")

        def fit():
            digests.append(weights_digest(estimator.fit(X, y)))

        worker = threading.Thread(target=fit)
        worker.start()
        worker.join()
    finally:
        limiter.restore_original_limits()
    assert digests == [expected]


def test_a_blas_library_threadpoolctl_cannot_see_is_warned(monkeypatch):
    # threadpoolctl before 3.5 does not see current wheels' 'libscipy_openblas': the
    # limit would do nothing, so the user is told instead of silently losing it.
    import tsrnn._threads as threads

    class NoBlas:
        lib_controllers = []

        def limit(self, limits):
            return self

        def restore_original_limits(self):
            pass

    class Controller:
        def select(self, user_api):
            return NoBlas()

    monkeypatch.setattr(threads, "ThreadpoolController", Controller)
    with pytest.warns(RuntimeWarning, match="no BLAS library to limit"):
        with threads.single_blas_thread():
            pass
