"""Training checkpoints: atomic, resumable to the same weights, even after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tsrnn
from tests.helpers import assert_bit_identical
from tsrnn import SequenceClassifier, SequenceRegressor

ROOT = Path(__file__).resolve().parents[2]
PARAMS = dict(
    hidden_size=8,
    dropout=0.2,
    recurrent_dropout=0.1,
    early_stopping=True,
    patience=100,
    tol=0.0,
    random_state=5,
)


def data(n=96, steps=12):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, steps, 2))
    return X, X[:, -4:, 0].sum(axis=1) + 0.1 * X[:, 0, 1]


@pytest.mark.parametrize("every", [1, 2])
def test_resumed_run_equals_uninterrupted_run(every, tmp_path):
    X, y = data()
    full = SequenceRegressor(max_epochs=7, **PARAMS).fit(X, y)
    path = tmp_path / "run.tsrnn"
    # A run stopped after 4 epochs (as a crash would leave it: the latest checkpoint).
    SequenceRegressor(max_epochs=4, **PARAMS).fit(X, y, checkpoint=path, checkpoint_every=every)
    resumed = SequenceRegressor(max_epochs=7, **PARAMS).fit(X, y, checkpoint=path, resume=True)
    assert_bit_identical(resumed, full)
    assert resumed.loss_curve_ == full.loss_curve_
    assert resumed.validation_scores_ == full.validation_scores_
    assert resumed.n_epochs_ == 7
    # Resuming a finished run trains no further.
    again = SequenceRegressor(max_epochs=7, **PARAMS).fit(X, y, checkpoint=path, resume=True)
    assert_bit_identical(again, full)


def test_best_checkpoint_holds_the_best_epoch(tmp_path):
    X, y = data()
    labels = np.where(y > 0, "hi", "lo")
    path = tmp_path / "clf.tsrnn"
    est = SequenceClassifier(architecture="recurrent", max_epochs=6, **PARAMS).fit(
        X, labels, checkpoint=path
    )
    best = tsrnn.load(tmp_path / "clf.best.tsrnn")
    # early_stopping restored the best validation epoch: the two files agree with it.
    assert_bit_identical(best, est._history.best_weights)
    assert_bit_identical(best, est)
    np.testing.assert_array_equal(best.predict_proba(X), est.predict_proba(X))
    latest = tsrnn.load(path)
    assert latest.n_epochs_ == 6


def test_resume_refuses_other_parameters_or_data(tmp_path):
    X, y = data()
    path = tmp_path / "run.tsrnn"
    SequenceRegressor(max_epochs=2, **PARAMS).fit(X, y, checkpoint=path)
    with pytest.raises(ValueError, match=r"other parameters \(hidden_size=8 there, 9 here\)"):
        SequenceRegressor(max_epochs=3, **{**PARAMS, "hidden_size": 9}).fit(
            X, y, checkpoint=path, resume=True
        )
    with pytest.raises(ValueError, match="training on other data"):
        SequenceRegressor(max_epochs=3, **PARAMS).fit(X, y + 1, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="holds a SequenceRegressor, not a SequenceClassifier"):
        SequenceClassifier(architecture="recurrent", max_epochs=3, **PARAMS).fit(
            X, y > 0, checkpoint=path, resume=True
        )
    SequenceRegressor(max_epochs=2).fit(X, y).save(tmp_path / "model.tsrnn")
    with pytest.raises(ValueError, match="a saved model, not a training checkpoint"):
        SequenceRegressor(max_epochs=2).fit(X, y, checkpoint=tmp_path / "model.tsrnn", resume=True)
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        SequenceRegressor(max_epochs=2).fit(X, y, resume=True)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive integer"):
        SequenceRegressor(max_epochs=2).fit(X, y, checkpoint=path, checkpoint_every=0)
    with pytest.raises(FileNotFoundError, match="checkpoint folder"):
        SequenceRegressor(max_epochs=2).fit(X, y, checkpoint=tmp_path / "nope" / "run.tsrnn")


def test_resume_without_a_checkpoint_starts_afresh(tmp_path):
    X, y = data()
    fresh = SequenceRegressor(max_epochs=3, **PARAMS).fit(
        X, y, checkpoint=tmp_path / "new.tsrnn", resume=True
    )
    plain = SequenceRegressor(max_epochs=3, **PARAMS).fit(X, y)
    assert_bit_identical(fresh, plain)


TRAIN_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from tsrnn import SequenceRegressor
    from tests.estimators.test_checkpoint import data
    params, path, n, steps = json.loads(sys.argv[1])
    X, y = data(n, steps)
    SequenceRegressor(**params).fit(X, y, checkpoint=path)
    """
)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path):
    n, steps, epochs = 1024, 30, 60
    params = dict(PARAMS, max_epochs=epochs, hidden_size=24)
    path = tmp_path / "run.tsrnn"
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAIN_SCRIPT, json.dumps([params, str(path), n, steps])],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        deadline = time.monotonic() + 300
        epochs_seen = 0
        while epochs_seen < 3:
            assert proc.poll() is None, "training finished or failed before it was killed"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
            if path.exists():
                epochs_seen = tsrnn.load(path).n_epochs_  # never a torn file
        # Kill at an arbitrary moment of an epoch (possibly during a checkpoint write).
        time.sleep(np.random.default_rng().uniform(0.0, 0.3))
        assert proc.poll() is None, "training finished before it was killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    killed_at = tsrnn.load(path).n_epochs_
    assert 3 <= killed_at < epochs
    print(f"killed after {killed_at} of {epochs} epochs")
    X, y = data(n, steps)
    resumed = SequenceRegressor(**params).fit(X, y, checkpoint=path, resume=True)
    full = SequenceRegressor(**params).fit(X, y)
    assert_bit_identical(resumed, full)
    assert resumed.loss_curve_ == full.loss_curve_


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the estimator may catch it."""


STOPPING_RUNS = {
    "patience": dict(hidden_size=4, max_epochs=60, patience=2, tol=0.02, random_state=0),
    "early_stopping_dropout": dict(
        hidden_size=6,
        max_epochs=60,
        dropout=0.3,
        early_stopping=True,
        patience=3,
        tol=0.0,
        random_state=3,
    ),
}


@pytest.mark.parametrize("kill_at", ["after_last_update", "after_last_checkpoint", "final_save"])
@pytest.mark.parametrize("run", sorted(STOPPING_RUNS))
def test_kill_at_the_end_of_the_stopping_epoch_then_resume(run, kill_at, tmp_path, monkeypatch):
    from tsrnn.persistence import Checkpoint
    from tsrnn.training import loop

    params = STOPPING_RUNS[run]
    X, y = data()
    steps = []
    original_step = loop.train_step

    def counting_step(*args, **kwargs):
        value = original_step(*args, **kwargs)
        steps.append(value)
        return value

    monkeypatch.setattr(loop, "train_step", counting_step)
    full = SequenceRegressor(**params).fit(X, y, checkpoint=tmp_path / "full.tsrnn")
    assert full._history.stopped_early and full.n_epochs_ < params["max_epochs"]
    stop_epoch, last_step = full.n_epochs_, len(steps)

    steps.clear()
    if kill_at == "after_last_update":

        def kill_after_last_update(*args, **kwargs):
            value = counting_step(*args, **kwargs)
            if len(steps) == last_step:
                raise Killed
            return value

        monkeypatch.setattr(loop, "train_step", kill_after_last_update)
    elif kill_at == "after_last_checkpoint":
        after_epoch = Checkpoint.after_epoch

        def kill_after_checkpoint(self, estimator, history, state):
            after_epoch(self, estimator, history, state)
            if history.n_epochs == stop_epoch:
                raise Killed

        monkeypatch.setattr(Checkpoint, "after_epoch", kill_after_checkpoint)
    else:

        def kill_in_final_save(self, estimator, state):
            raise Killed  # the write is atomic: a kill inside it leaves the previous file

        monkeypatch.setattr(Checkpoint, "final", kill_in_final_save)
    path = tmp_path / "run.tsrnn"
    with pytest.raises(Killed):
        SequenceRegressor(**params).fit(X, y, checkpoint=path)
    monkeypatch.undo()

    resumed = SequenceRegressor(**params).fit(X, y, checkpoint=path, resume=True)
    assert resumed.n_epochs_ == full.n_epochs_
    assert resumed.loss_curve_ == full.loss_curve_
    assert_bit_identical(resumed, full)
    assert_bit_identical(tsrnn.load(path), full)
