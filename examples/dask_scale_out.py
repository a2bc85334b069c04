"""
Scaling out with Dask
=====================

Scale out with Dask: a grid search on a cluster, and training on data larger than memory.

1. GridSearchCV over a SequenceClassifier runs its fits on a dask.distributed
   cluster through joblib's dask backend (here a LocalCluster with two worker
   processes; point the Client at your scheduler's address for a real cluster).
2. A SequenceRegressor trains on a synthetic dask array of about 10 GB (set
   TSRNN_EXAMPLE_GB to change it) that is generated chunk by chunk and never held
   in memory: peak memory is a few chunks plus the model.

Run: pip install "tsrnn[dask]" && python dask_scale_out.py
"""

import os
import resource
import time

import dask.array as da
import joblib
import numpy as np
from _common import FAST, epochs
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.datasets import load_gunpoint

STEPS, FEATURES = 50, 8


def tune_on_a_cluster():
    X_train, y_train = load_gunpoint("train")
    X_test, y_test = load_gunpoint("test")
    grid = {"cell": ["gru", "lstm"], "hidden_size": [16, 32]}
    search = GridSearchCV(
        SequenceClassifier(
            architecture="recurrent",
            lr_schedule="constant",
            conv_filters=16,
            pool_size=5,
            random_state=0,
            max_epochs=epochs(60),
        ),
        grid,
        cv=3,
    )
    # One thread per worker and one BLAS thread each: workers share the cores.
    blas = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, env=blas) as c,
        Client(c),
        joblib.parallel_backend("dask"),
    ):
        start = time.perf_counter()
        search.set_params(n_jobs=-1).fit(X_train, y_train)
    print(
        f"grid search on 2 dask workers: {time.perf_counter() - start:.1f} s, best "
        f"{search.best_params_}, CV accuracy {search.best_score_:.3f}, test accuracy "
        f"{search.score(X_test, y_test):.3f}"
    )


def synthetic_block(block_info=None):
    """One chunk of a noisy sum-of-sines problem, generated from its position only."""
    start, stop = block_info[None]["array-location"][0]
    rng = np.random.default_rng(start)
    t = np.arange(STEPS, dtype=np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=(stop - start, 1, FEATURES)).astype(np.float32)
    noise = 0.1 * rng.standard_normal((stop - start, STEPS, FEATURES), dtype=np.float32)
    return np.sin(t[None, :, None] / 5 + phase) + noise


def train_out_of_core():
    gigabytes = 0.05 if FAST else float(os.environ.get("TSRNN_EXAMPLE_GB", "10"))
    chunk = 2_000
    bytes_per_sample = STEPS * FEATURES * 4
    n = max(2, int(gigabytes * 1e9 / bytes_per_sample) // chunk) * chunk
    X = da.map_blocks(
        synthetic_block, dtype=np.float32, chunks=((chunk,) * (n // chunk), (STEPS,), (FEATURES,))
    )
    # Target: the mean of the last 5 steps of the first feature. dask computes it chunk
    # by chunk; targets are small (one float per sequence) and live in memory.
    y = X[:, -5:, 0].mean(axis=1).compute()
    chunk_mb = X.nbytes / (n // chunk) / 1e6
    print(
        f"training on a dask array of {X.nbytes / 1e9:.2f} GB ({n:,} sequences of "
        f"{STEPS} x {FEATURES}) in chunks of {chunk_mb:.1f} MB"
    )
    reg = SequenceRegressor(
        cell="gru", hidden_size=16, max_epochs=1, batch_size=256, random_state=0
    )
    start = time.perf_counter()
    reg.fit(X, y)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"one epoch in {elapsed:.1f} s ({n / elapsed:,.0f} sequences/s), training loss "
        f"{reg.loss_curve_[-1]:.4f}, peak memory of this process {peak:.0f} MB"
    )


if __name__ == "__main__":
    tune_on_a_cluster()
    train_out_of_core()
