"""Hyper-parameter search on a dask.distributed cluster through joblib's dask backend."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from tsrnn import SequenceClassifier

distributed = pytest.importorskip("distributed")


def search():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 12, 2))
    y = np.where(X[:, -3:, 0].sum(axis=1) > 0, "up", "down")
    grid = {"hidden_size": [4, 8], "learning_rate": [3e-3, 3e-2], "cell": ["gru", "lstm"]}
    base = SequenceClassifier(max_epochs=8, random_state=0)
    return GridSearchCV(base, grid, cv=3), X, y


@pytest.mark.slow
def test_grid_search_on_a_local_cluster_equals_the_serial_search():
    serial, X, y = search()
    serial.set_params(n_jobs=1).fit(X, y)
    # Two worker processes on loopback; one thread each, and BLAS capped at one thread
    # per worker so that workers do not oversubscribe the cores.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        parallel, _, _ = search()
        with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            parallel.set_params(n_jobs=-1).fit(X, y)
    # The 8 candidates x 3 folds ran on the cluster (joblib batches them), on both workers.
    assert len(tasks.data) >= 2
    assert len({task["worker"] for task in tasks.data}) == 2
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])  # fmt: skip
    # The refitted best model came back from the cluster and predicts like the serial one.
    np.testing.assert_array_equal(parallel.predict_proba(X), serial.predict_proba(X))
