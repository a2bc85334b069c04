"""Training checkpoints: the latest state of a run and its best epoch, as model files."""

import hashlib
from pathlib import Path

import numpy as np

from tsrnn._validation import check_positive_int
from tsrnn.modelfile.io import load, save

#: Parameters that may differ between a checkpointed run and its resumption.
_RESUMABLE_CHANGES = ("verbose", "max_epochs", "warm_start")


def best_checkpoint_path(path):
    """Where the best epoch's model is kept next to checkpoint ``path``.

    ``run.tsrnn`` gives ``run.best.tsrnn``.
    """
    path = Path(path)
    return path.with_name(f"{path.stem}.best{path.suffix or '.tsrnn'}")


def data_fingerprint(*arrays):
    """A short hash of the training data, so that a run is never resumed on other data."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data if a.dtype.kind != "O" else repr(a.tolist()).encode())
    return h.hexdigest()


class Checkpoint:
    """Training checkpoints of an estimator: the latest state and the best epoch.

    Parameters
    ----------
    path : str or path-like
        The latest state (weights, optimizer moments, history, random generator),
        written every ``every`` epochs and at the end; the best epoch's model goes
        to :func:`best_checkpoint_path`. Both are written atomically and are
        ordinary model files that :func:`load` reads.
    every : int, default=1
        Epochs between writes of the latest state.
    """

    def __init__(self, path, every=1):
        every = check_positive_int(every, "checkpoint_every")
        self.path = Path(path)
        self.best_path = best_checkpoint_path(path)
        self.every = int(every)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(
                f"the checkpoint folder {str(self.path.parent)!r} does not exist"
            )

    def restore(self, estimator):
        """Load the latest state into ``estimator`` and return the stored training state.

        Parameters
        ----------
        estimator : estimator
            Updated in place with the checkpoint's fitted attributes.

        Returns
        -------
        dict or None
            The training state saved with it (seed, data fingerprint and random
            generator state), or None when there is no checkpoint yet.

        Raises
        ------
        ValueError
            If the checkpoint holds another estimator type, is a plain saved model,
            or was written with other parameters than those that may change on resume.
        """
        if not self.path.exists():
            return None
        loaded, extra = load(self.path, return_extra=True)
        if type(loaded) is not type(estimator):
            raise ValueError(
                f"the checkpoint {str(self.path)!r} holds a {type(loaded).__name__}, "
                f"not a {type(estimator).__name__}"
            )
        if not isinstance(extra, dict) or "rng_state" not in extra:
            raise ValueError(
                f"{str(self.path)!r} is a saved model, not a training checkpoint "
                "(it has no training state to resume)"
            )
        ours, theirs = estimator.get_params(deep=False), loaded.get_params(deep=False)
        changed = [
            k for k in ours if k not in _RESUMABLE_CHANGES and not _same(ours[k], theirs[k])
        ]
        if changed:
            diffs = ", ".join(f"{k}={theirs[k]!r} there, {ours[k]!r} here" for k in changed)
            raise ValueError(
                f"the checkpoint {str(self.path)!r} was written with other "
                f"parameters ({diffs}); resume with the same ones"
            )
        estimator.__dict__.update({k: v for k, v in vars(loaded).items() if k not in ours})
        return extra

    def after_epoch(self, estimator, history, state):
        """Write the best model when this epoch is the best, and the latest state.

        The latest state is written every ``every`` epochs.

        Parameters
        ----------
        estimator : estimator
            The estimator being trained.
        history : TrainingHistory
            Its history so far (``n_epochs``, ``best_epoch``).
        state : dict
            The training state to store with the latest model (see :meth:`restore`).
        """
        if history.best_epoch == history.n_epochs - 1:
            save(estimator, self.best_path)
        if history.n_epochs % self.every == 0:
            save(estimator, self.path, state)

    def final(self, estimator, state):
        """Write the finished run's state (resuming it then trains no further)."""
        save(estimator, self.path, state)


def _same(a, b):
    try:
        return bool(a == b) if not isinstance(a, np.random.RandomState) else a is b
    except (TypeError, ValueError):
        return False
