"""n_ensemble: networks from seeds drawn from random_state, trained in threads, their
probabilities or predictions averaged; bit-identical whatever n_jobs, and saved whole."""

import pickle

import numpy as np
import pytest
from sklearn.utils import check_random_state

from tests.helpers import assert_bit_identical
from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.losses import sigmoid, softmax
from tsrnn.persistence import ModelFileError, load, save

FAST = dict(hidden_size=6, max_epochs=6, random_state=0)


def _data(n=40, steps=8, features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, steps, features))
    return X, X[:, -3:, 0].sum(axis=1)


@pytest.fixture(scope="module")
def binary():
    X, y = _data()
    return X, (y > 0).astype(int)


@pytest.fixture(scope="module")
def ensemble(binary):
    return SequenceClassifier(architecture="recurrent", n_ensemble=3, n_jobs=1, **FAST).fit(
        *binary
    )


def test_members_use_seeds_drawn_from_random_state(binary, ensemble):
    seeds = check_random_state(0).randint(np.iinfo(np.int32).max, size=3)
    assert len(ensemble.networks_) == 3 and ensemble.networks_[0] is ensemble.network_
    for seed, net in zip(seeds, ensemble.networks_, strict=True):
        alone = SequenceClassifier(
            architecture="recurrent", n_ensemble=1, **{**FAST, "random_state": int(seed)}
        ).fit(*binary)
        assert_bit_identical(net, alone)
    # The first member's training record.
    first = SequenceClassifier(
        architecture="recurrent", n_ensemble=1, **{**FAST, "random_state": int(seeds[0])}
    ).fit(*binary)
    assert ensemble.loss_curve_ == first.loss_curve_


def test_probabilities_are_the_mean_of_the_members(binary, ensemble):
    X, _ = binary
    members = [
        sigmoid(net.predict(X.astype(np.float32))[:, 0].astype(np.float64))
        for net in ensemble.networks_
    ]
    p1 = (members[0] + members[1] + members[2]) / 3
    proba = ensemble.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], p1, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(ensemble.predict(X), ensemble.classes_[(p1 > 0.5).astype(int)])
    np.testing.assert_allclose(
        ensemble.decision_function(X), np.log(proba[:, 1] / proba[:, 0]), rtol=1e-9
    )


def test_multiclass_probabilities_are_the_mean_of_the_members():
    X, y = _data()
    labels = np.digitize(y, [-1.0, 1.0])
    clf = SequenceClassifier(architecture="recurrent", n_ensemble=2, **FAST).fit(X, labels)
    members = [
        softmax(net.predict(X.astype(np.float32)).astype(np.float64)) for net in clf.networks_
    ]
    np.testing.assert_allclose(clf.predict_proba(X), (members[0] + members[1]) / 2, rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.decision_function(X)), clf.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("n_jobs", [2, 3, -1])
def test_threads_do_not_change_the_ensemble(binary, ensemble, n_jobs):
    threaded = SequenceClassifier(
        architecture="recurrent", n_ensemble=3, n_jobs=n_jobs, **FAST
    ).fit(*binary)
    for a, b in zip(ensemble.networks_, threaded.networks_, strict=True):
        assert_bit_identical(a, b)
    np.testing.assert_array_equal(
        ensemble.predict_proba(binary[0]), threaded.predict_proba(binary[0])
    )


def test_regressor_predicts_the_mean_of_the_members():
    X, y = _data()
    reg = SequenceRegressor(n_ensemble=3, n_jobs=2, **FAST).fit(X, y)
    outs = [net.predict(X.astype(np.float32)).astype(np.float64) for net in reg.networks_]
    expected = ((outs[0] + outs[1] + outs[2]) / 3 * reg.y_scale_ + reg.y_mean_)[:, 0]
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-12)
    again = SequenceRegressor(n_ensemble=3, n_jobs=1, **FAST).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), again.predict(X))


def test_a_single_network_has_no_extra_members(binary, ensemble):
    clf = SequenceClassifier(architecture="recurrent", n_ensemble=1, **FAST).fit(*binary)
    assert clf.networks_ == [clf.network_] and "_extra_networks" not in vars(clf)
    # Refitting an ensemble as a single network drops the other members.
    refit = pickle.loads(pickle.dumps(ensemble)).set_params(n_ensemble=1).fit(*binary)
    assert len(refit.networks_) == 1
    with pytest.raises(AttributeError, match="not fitted"):
        SequenceClassifier(architecture="recurrent").networks_  # noqa: B018


def test_model_files_and_pickles_hold_the_whole_ensemble(binary, ensemble, tmp_path):
    X, _ = binary
    save(ensemble, tmp_path / "ensemble.tsrnn")
    for loaded in (load(tmp_path / "ensemble.tsrnn"), pickle.loads(pickle.dumps(ensemble))):
        assert len(loaded.networks_) == 3
        np.testing.assert_array_equal(loaded.predict_proba(X), ensemble.predict_proba(X))


def test_a_model_file_with_a_mismatched_member_is_refused(binary, ensemble, tmp_path):
    X, y = binary
    other = SequenceClassifier(architecture="recurrent", n_ensemble=1, **FAST).fit(
        X[:, :5], y
    )  # shorter sequences
    broken = pickle.loads(pickle.dumps(ensemble))
    broken._extra_networks = [broken._extra_networks[0], other.network_]
    save(broken, tmp_path / "broken.tsrnn")
    with pytest.raises(ModelFileError, match="an ensemble member takes"):
        load(tmp_path / "broken.tsrnn")


def test_partial_fit_warm_start_and_checkpoints_are_refused(binary, ensemble, tmp_path):
    X, y = binary
    # An ensemble has no partial_fit (scikit-learn's available_if); the reason is the
    # AttributeError's cause.
    two = SequenceClassifier(architecture="recurrent", n_ensemble=2, **FAST)
    assert not hasattr(two, "partial_fit")
    with pytest.raises(AttributeError) as error:
        two.partial_fit(X, y, classes=[0, 1])
    assert "partial_fit trains a single network" in str(error.value.__cause__)
    assert "pass n_ensemble=1" in str(error.value.__cause__)
    assert hasattr(SequenceClassifier(n_ensemble=1), "partial_fit")
    warm = pickle.loads(pickle.dumps(ensemble)).set_params(warm_start=True)
    with pytest.raises(ValueError, match="warm_start continues a single network"):
        warm.fit(X, y)
    with pytest.raises(ValueError, match="checkpoints hold the training state of a single"):
        SequenceClassifier(architecture="recurrent", n_ensemble=2, **FAST).fit(
            X, y, checkpoint=tmp_path / "c.tsrnn"
        )
    # A fitted ensemble cannot be continued as one network either.
    single = pickle.loads(pickle.dumps(ensemble)).set_params(n_ensemble=1)
    with pytest.raises(ValueError, match="fitted as an ensemble of 3 networks"):
        single.partial_fit(X, y)


def test_an_unfitted_estimator_still_saves_and_loads(tmp_path):
    save(SequenceClassifier(architecture="recurrent", n_ensemble=2), tmp_path / "unfitted.tsrnn")
    assert load(tmp_path / "unfitted.tsrnn").get_params()["n_ensemble"] == 2


def _threads_used(monkeypatch, binary, **params):
    """The thread count the ensemble's fit starts its members in (1: no pool)."""
    import tsrnn.estimators._base as base

    used = [1]
    real = base.ThreadPoolExecutor

    def recording(max_workers):
        used[0] = max_workers
        return real(max_workers)

    monkeypatch.setattr(base, "ThreadPoolExecutor", recording)
    SequenceClassifier(architecture="recurrent", n_ensemble=3, **FAST, **params).fit(*binary)
    return used[0]


@pytest.mark.parametrize(
    ("omp", "n_jobs", "expected"),
    [("1", None, 1), ("2", None, 2), ("1,1", None, 1), ("", None, 4), ("1", 2, 2)],
)
def test_default_threads_follow_omp_num_threads(monkeypatch, binary, omp, n_jobs, expected):
    # joblib's process workers (GridSearchCV(n_jobs=2) on 2 cores) and dask's set
    # OMP_NUM_THREADS=1: an ensemble inside them must not start a thread per core.
    monkeypatch.setattr("tsrnn._threads.cpu_count", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert _threads_used(monkeypatch, binary, n_jobs=n_jobs) == min(expected, 3)


def test_joblib_process_workers_get_their_share_of_the_cores(monkeypatch):
    from joblib import Parallel, cpu_count, delayed

    from tsrnn._threads import default_thread_count

    # Without a setting of its own, loky gives each of its n_jobs workers
    # cpu_count() // n_jobs threads (it passes on a parent's OMP_NUM_THREADS instead).
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    counts = Parallel(n_jobs=2)(delayed(default_thread_count)() for _ in range(2))
    assert counts == [max(cpu_count() // 2, 1)] * 2
