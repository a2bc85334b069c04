"""Out-of-core training: dask arrays and batch iterables, streamed chunk by chunk."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from tests.helpers import assert_bit_identical, fitted_weights
from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.streaming import Batches, DaskSource

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(100, 12, 3)).astype(np.float32)
Y = X[:, -2:, 0].sum(axis=1)
KW = dict(
    architecture="recurrent",
    hidden_size=8,
    max_epochs=3,
    batch_size=16,
    dropout=0.1,
    random_state=0,
)


def batches_like_numpy(X, y, size=16):
    def read():
        for start in range(0, len(X), size):
            yield X[start : start + size], y[start : start + size]

    return Batches(read)


@pytest.mark.parametrize("cls", [SequenceRegressor, SequenceClassifier])
def test_numpy_dask_xarray_and_batches_give_identical_weights(cls):
    y = Y if cls is SequenceRegressor else np.where(Y > 0, "up", "down")
    kw = dict(KW, shuffle=False)
    reference = cls(**kw).fit(X, y)
    # Chunks of 7 do not divide the batch size: batches must span chunk boundaries.
    streamed = cls(**kw).fit(da.from_array(X, chunks=(7, 12, 3)), da.from_array(y, chunks=9))
    assert_bit_identical(streamed, reference)
    lazy = xr.DataArray(
        da.from_array(X.transpose(2, 0, 1), chunks=(3, 10, 12)), dims=["feature", "sample", "time"]
    )
    assert_bit_identical(cls(**kw).fit(lazy, y), reference)
    assert_bit_identical(cls(**kw).fit(batches_like_numpy(X, y)), reference)


def test_shuffled_streaming_is_reproducible_and_sees_every_sample_once():
    Xd = da.from_array(X, chunks=(10, 12, 3))
    a = SequenceRegressor(**KW).fit(Xd, Y)
    b = SequenceRegressor(**KW).fit(Xd, Y)
    c = SequenceRegressor(**{**KW, "random_state": 1}).fit(Xd, Y)
    assert_bit_identical(a, b)
    assert not np.array_equal(fitted_weights(a), fitted_weights(c))
    source = DaskSource(Xd, np.arange(len(X)))
    rng = np.random.default_rng(0)
    epoch1 = [yb for _, yb in source.epoch(16, rng, shuffle=True)]
    epoch2 = [yb for _, yb in source.epoch(16, rng, shuffle=True)]
    for epoch in (epoch1, epoch2):
        assert sorted(np.concatenate(epoch)) == list(range(len(X)))
        assert [len(b) for b in epoch] == [16] * 6 + [4]
    assert not np.array_equal(np.concatenate(epoch1), np.concatenate(epoch2))
    # Mixing is across chunks, but bounded: a batch draws from one group of 4 chunks
    # plus the leftover rows of the previous group.
    assert max(len(np.unique(b // 10)) for b in epoch1) <= 8
    assert max(len(np.unique(b // 10)) for b in epoch1) >= 2


def test_streamed_fit_predicts_and_warm_starts():
    Xd = da.from_array(X, chunks=(25, 12, 3))
    reg = SequenceRegressor(**{**KW, "max_epochs": 30}).fit(Xd, Y)
    assert reg.score(X, Y) > 0.5
    assert reg.n_features_in_ == 3 and reg.n_epochs_ == 30
    clf = SequenceClassifier(**KW, warm_start=True).fit(batches_like_numpy(X, Y > 0))
    clf.fit(batches_like_numpy(X, Y > 0))
    assert clf.n_epochs_ == 6 and set(clf.classes_) == {False, True}


def test_streaming_errors_name_the_problem():
    Xd = da.from_array(X, chunks=(25, 12, 3))
    with pytest.raises(ValueError, match="early_stopping needs in-memory data"):
        SequenceRegressor(early_stopping=True).fit(Xd, Y)
    with pytest.raises(ValueError, match="sample_weight is not supported with streamed data"):
        SequenceRegressor().fit(Xd, Y, sample_weight=np.ones(len(Y)))
    with pytest.raises(ValueError, match="X has 100 samples but y has 99"):
        SequenceRegressor().fit(Xd, Y[:-1])
    with pytest.raises(ValueError, match="must be 3-D"):
        SequenceRegressor().fit(Xd[:, :, 0], Y)
    with pytest.raises(TypeError, match="a generator object can only be read once"):
        Batches(x for x in [(X, Y)])
    with pytest.raises(ValueError, match="each batch must be a pair"):
        SequenceRegressor().fit(Batches([X]))
    with pytest.raises(ValueError, match="pass y=None"):
        SequenceRegressor().fit(Batches([(X, Y)]), Y)
    reg = SequenceRegressor(**KW).fit(Xd, Y)
    with pytest.raises(ValueError, match="X has 2 features per step, but SequenceRegressor"):
        reg.set_params(warm_start=True).fit(Xd[:, :, :2], Y)
    nan = X.copy()
    nan[50, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        SequenceRegressor(**KW).fit(da.from_array(nan, chunks=(25, 12, 3)), Y)


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    import dask
    import dask.array as da
    import numpy as np
    from tsrnn import SequenceRegressor
    n, steps, features, chunk = json.loads(sys.argv[1])

    def peak_rss():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))

    def block(block_info=None):
        loc = block_info[None]["array-location"][0]
        rng = np.random.default_rng(loc[0])
        return rng.standard_normal((loc[1] - loc[0], steps, features), dtype=np.float32)

    X = da.map_blocks(block, dtype=np.float32, chunks=((chunk,) * (n // chunk),
                      (steps,), (features,)))
    y = np.zeros(n)  # targets are small: they are read into memory
    kw = dict(hidden_size=4, max_epochs=1, batch_size=64, random_state=0)
    SequenceRegressor(**kw).fit(X[: 2 * chunk], y[: 2 * chunk])  # imports, compilation
    before = peak_rss()
    # Allow the process 100 MB more address space than it has now: a quarter of the data.
    with open("/proc/self/statm") as f:
        vm_bytes = int(f.read().split()[0]) * resource.getpagesize()
    limit = vm_bytes + X.nbytes // 4
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with dask.config.set(scheduler="synchronous"):  # no new threads (and stacks) under the limit
        SequenceRegressor(**kw).fit(X, y)
        after = peak_rss()
        try:  # the limit is real: the data itself does not fit under it
            X.compute()
            materialised = True
        except MemoryError:
            materialised = False
    print(json.dumps({"data_bytes": X.nbytes, "chunk_bytes": X.nbytes // (n // chunk),
                      "peak_before": before, "peak_after": after, "address_space_limit": limit,
                      "address_space_before": vm_bytes,
                      "could_materialise": materialised}))
    """
)


@pytest.mark.slow
def test_out_of_core_training_memory_is_bounded_by_the_chunk_size():
    # 400 MB of sequences, generated chunk by chunk, never all in memory: peak RSS
    # may grow by a few chunks (the shuffle buffer), not by the data.
    n, steps, features, chunk = 20_000, 50, 100, 500
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, json.dumps([n, steps, features, chunk])],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    growth = report["peak_after"] - report["peak_before"]
    print(
        f"data {report['data_bytes'] / 2**20:.0f} MiB, chunk "
        f"{report['chunk_bytes'] / 2**20:.1f} MiB, peak RSS {report['peak_after'] / 2**20:.0f} "
        f"MiB (+{growth / 2**20:.0f} MiB during the out-of-core fit, address space capped "
        f"at +{(report['address_space_limit'] - report['address_space_before']) / 2**20:.0f}"
        " MiB)"
    )
    assert report["data_bytes"] >= 400e6
    # The fit ran with a quarter of the data's size as headroom, under which the data
    # itself cannot be loaded.
    assert (
        report["address_space_limit"] - report["address_space_before"] <= report["data_bytes"] / 4
    )
    assert not report["could_materialise"]
    assert growth < report["data_bytes"] / 4
    assert growth < 12 * report["chunk_bytes"] + 50 * 2**20


def test_resume_on_streamed_data_checks_y_and_the_chunks(tmp_path):
    path = tmp_path / "run.tsrnn"
    Xd = da.from_array(X, chunks=(10, 12, 3))
    SequenceRegressor(**KW).fit(Xd, Y, checkpoint=path)
    more = dict(KW, max_epochs=4)
    with pytest.raises(ValueError, match="training on other data"):
        SequenceRegressor(**more).fit(Xd, Y + 1, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="training on other data"):
        SequenceRegressor(**more).fit(Xd.rechunk((20, 12, 3)), Y, checkpoint=path, resume=True)
    resumed = SequenceRegressor(**more).fit(Xd, Y, checkpoint=path, resume=True)
    assert_bit_identical(resumed, SequenceRegressor(**more).fit(Xd, Y))


def test_resume_on_batches_checks_the_first_batch_and_warns_about_the_rest(tmp_path):
    path = tmp_path / "run.tsrnn"
    SequenceRegressor(**KW).fit(batches_like_numpy(X, Y), checkpoint=path)
    more = dict(KW, max_epochs=4)
    with pytest.raises(ValueError, match="training on other data"):
        SequenceRegressor(**more).fit(batches_like_numpy(X, -Y), checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="training on other data"):
        SequenceRegressor(**more).fit(
            batches_like_numpy(X[::-1], Y[::-1]), checkpoint=path, resume=True
        )
    with pytest.warns(UserWarning, match="checks only the first batch"):
        resumed = SequenceRegressor(**more).fit(
            batches_like_numpy(X, Y), checkpoint=path, resume=True
        )
    full = SequenceRegressor(**more).fit(batches_like_numpy(X, Y))
    assert_bit_identical(resumed, full)
