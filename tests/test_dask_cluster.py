"""Hyper-parameter search on a dask.distributed cluster through joblib's dask backend."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from tests.helpers import assert_bit_identical
from tsrnn import SequenceClassifier

distributed = pytest.importorskip("distributed")


def search():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 12, 2))
    y = np.where(X[:, -3:, 0].sum(axis=1) > 0, "up", "down")
    grid = {"hidden_size": [4, 8], "learning_rate": [3e-3, 3e-2], "cell": ["gru", "lstm"]}
    base = SequenceClassifier(architecture="recurrent", max_epochs=8, random_state=0)
    return GridSearchCV(base, grid, cv=3), X, y


@pytest.mark.slow
def test_grid_search_on_a_local_cluster_equals_the_serial_search():
    serial, X, y = search()
    serial.set_params(n_jobs=1).fit(X, y)
    # Two worker processes on loopback; one thread each, and BLAS capped at one thread
    # per worker so that workers do not oversubscribe the cores.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        parallel, _, _ = search()
        with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            parallel.set_params(n_jobs=-1).fit(X, y)
    # The 8 candidates x 3 folds ran on the cluster (joblib batches them), on both workers.
    assert len(tasks.data) >= 2
    assert len({task["worker"] for task in tasks.data}) == 2
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    # The refitted best model came back from the cluster and predicts like the serial one.
    np.testing.assert_array_equal(parallel.predict_proba(X), serial.predict_proba(X))


def _fit_small_gru(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(32, 6, 2))
    est = SequenceClassifier(
        architecture="recurrent", cell="gru", hidden_size=4, max_epochs=2, random_state=0
    )
    return est.fit(X, X[:, -1, 0] > 0).network_.get_weights()


@pytest.mark.slow
def test_workers_compiling_into_one_empty_numba_cache_at_once(tmp_path):
    # Both workers start with an empty shared on-disk cache and compile the same kernels
    # concurrently; results must be right, and the cache they wrote must load cleanly.
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env=env,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = list(client.scheduler_info()["workers"])
        futures = [client.submit(_fit_small_gru, 0, workers=[w], pure=False) for w in workers]
        concurrent = client.gather(futures)
    assert any((tmp_path / "cache").rglob("*.nbi")), "the workers wrote no cache"
    expected = _fit_small_gru(0)
    for weights in concurrent:
        assert_bit_identical(weights, expected)
    with (
        distributed.LocalCluster(
            n_workers=1, processes=True, host="127.0.0.1", dashboard_address=None, env=env
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert_bit_identical(client.submit(_fit_small_gru, 0).result(), expected)
