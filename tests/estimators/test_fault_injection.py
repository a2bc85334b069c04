"""Numerical failure under fault injection: training stops, keeps the last good
weights, warns, and the estimator stays usable."""

import warnings

import numpy as np
import pytest

from tsrnn import Forecaster, SequenceClassifier, SequenceRegressor
from tsrnn.estimators import TrainingDivergedWarning
from tsrnn.network import Network
from tsrnn.training import loop

RNG = np.random.default_rng(1)
X = RNG.normal(size=(48, 10, 2))
Y = X[:, -3:, 0].sum(axis=1)


@pytest.fixture
def weights_before_each_step(monkeypatch):
    """Record the weights just before every training step."""
    snapshots = []
    original = loop.train_step

    def recording(network, *args, **kwargs):
        snapshots.append(network.get_weights())
        return original(network, *args, **kwargs)

    monkeypatch.setattr(loop, "train_step", recording)
    return snapshots


def fit_quietly(est, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    return [w for w in caught if issubclass(w.category, TrainingDivergedWarning)]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("cls", [SequenceRegressor, SequenceClassifier])
def test_exploding_learning_rate_keeps_the_last_good_weights(
    cls, optimizer, weights_before_each_step
):
    y = Y if cls is SequenceRegressor else Y > 0
    # (The classifier's logit loss stays finite up to learning rates of ~1e30: only then
    # does the first update overflow float32.)
    est = cls(
        architecture="recurrent",
        hidden_size=8,
        max_epochs=40,
        optimizer=optimizer,
        learning_rate=1e38,
        clip_norm=None,
        random_state=0,
    )
    diverged = fit_quietly(est, X * 1e4, y)
    assert diverged, "a learning rate of 1e38 should diverge"
    assert "keeps the last good weights" in str(diverged[0].message)
    # The failing step was not applied: the weights are those before it, or those
    # before the step before it when the former give a non-finite loss on the data.
    kept = est.network_.get_weights()
    assert any(np.array_equal(kept, w) for w in weights_before_each_step[-2:])
    assert np.isfinite(kept).all()
    assert np.isfinite(est.network_.predict(X * 1e4)).all()
    assert est.predict(X).shape == (len(X),)
    # Still usable: a fit with sane settings works from there.
    est.set_params(learning_rate=1e-3, max_epochs=2)
    assert not fit_quietly(est, X, y)


def test_nan_gradient_injected_mid_epoch(monkeypatch, weights_before_each_step):
    calls = {"n": 0}
    original = Network.backward

    def poisoned(self, caches, dout, grads=None):
        grads = original(self, caches, dout, grads)
        calls["n"] += 1
        if calls["n"] == 13:  # the 5th step of the 3rd epoch (6 steps per epoch)
            grads.flat[7] = np.nan
        return grads

    monkeypatch.setattr(Network, "backward", poisoned)
    est = SequenceRegressor(hidden_size=8, max_epochs=10, random_state=0)
    diverged = fit_quietly(est, X, Y)
    assert len(diverged) == 1 and "gradient became NaN" in str(diverged[0].message)
    assert len(weights_before_each_step) == 13
    np.testing.assert_array_equal(est.network_.get_weights(), weights_before_each_step[-1])
    assert est.n_epochs_ == 2 and len(est.loss_curve_) == 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_inputs_never_give_non_finite_predictions(dtype):
    est = SequenceRegressor(hidden_size=8, max_epochs=5, dtype=dtype, random_state=0)
    fit_quietly(est, X * 1e30, Y)  # may diverge (then warns), must not crash
    pred = est.predict(X * 1e30)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()
    with pytest.raises(ValueError, match="beyond the range of float32"):
        SequenceRegressor(max_epochs=1).fit(X * 1e300, Y)


def test_constant_inputs_and_constant_targets():
    const_X = np.full_like(X, 3.0)
    est = SequenceRegressor(hidden_size=8, max_epochs=30, random_state=0)
    assert not fit_quietly(est, const_X, Y)
    pred = est.predict(const_X)
    # Identical inputs: equal predictions up to float32 BLAS rounding (which depends
    # on a row's position in the batch), near the mean target (the best constant).
    assert np.ptp(pred) < 1e-6 and abs(pred[0] - Y.mean()) < 0.5 * Y.std()
    est = SequenceRegressor(hidden_size=8, max_epochs=30, random_state=0)
    assert not fit_quietly(est, X, np.full(len(X), 7.5))
    assert est.y_scale_[0] == 1.0  # zero variance: no division by zero
    np.testing.assert_allclose(est.predict(X), 7.5, atol=0.05)
    clf = SequenceClassifier(architecture="recurrent", hidden_size=8, max_epochs=5, random_state=0)
    assert not fit_quietly(clf, const_X, Y > 0)
    assert np.ptp(clf.predict_proba(const_X), axis=0).max() < 1e-6


def test_forecaster_on_a_constant_series():
    est = Forecaster(window=6, horizon=3, hidden_size=4, max_epochs=20, random_state=0)
    est.fit(np.full(60, 42.0))
    np.testing.assert_allclose(est.predict(), 42.0, atol=0.5)
    lower, upper = est.predict_interval(0.9)
    assert np.isfinite(lower).all() and (lower <= upper).all()


def divergent_relu_rnn(**kw):
    return SequenceRegressor(
        cell="rnn",
        activation="relu",
        optimizer="sgd",
        learning_rate=0.5,
        clip_norm=None,
        random_state=0,
        **kw,
    )


def test_weights_with_a_non_finite_loss_are_not_kept_as_good():
    X64 = np.random.default_rng(0).normal(size=(64, 20, 2))
    y = X64[:, -5:, 0].sum(axis=1)
    est = divergent_relu_rnn()
    diverged = fit_quietly(est, X64, y)
    assert len(diverged) == 1 and "loss became nan" in str(diverged[0].message)
    # The weights the failing step started from give NaN; those before them do not.
    pred = est.predict(X64)
    assert np.isfinite(pred).all()


def test_divergence_without_any_finite_weights_raises_a_value_error():
    from tsrnn.estimators import TrainingDivergedError

    est = divergent_relu_rnn(dtype="float64", max_epochs=2)
    with pytest.raises(TrainingDivergedError, match="no weights it reached give a finite loss"):
        est.fit(X * 1e300, Y)
    assert issubclass(TrainingDivergedError, ValueError)
    assert not hasattr(est, "network_")  # not left fitted with weights that predict inf
