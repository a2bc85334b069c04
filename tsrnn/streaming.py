"""Training on data larger than memory: mini-batches streamed chunk by chunk.

Two sources feed the estimators' ``fit`` without ever materialising all of X:

* a dask array ``(n_samples, n_steps, n_features)``, or a dask-backed xarray
  DataArray (dimensions recognised by name as for in-memory input), chunked along
  the sample axis. One chunk is computed at a time (or ``shuffle_chunks`` of them
  when shuffling); y is small and is read into memory.
* :class:`Batches`: a re-iterable of ``(X_batch, y_batch)`` pairs, e.g. read from
  files or a database, used in the order given.

Batches are cut exactly as in memory: without shuffling, a dask array and the same
data as numpy give the same batches and, with the same seed, bit-identical weights.
With shuffling, the chunk order is permuted and the rows of ``shuffle_chunks``
chunks at a time are mixed (a shuffle buffer of bounded size), reproducibly by seed.
"""

import hashlib

import numpy as np

from tsrnn import _formats


class Batches:
    """Mini-batches from any source, for out-of-core training.

    Parameters
    ----------
    source : callable or re-iterable
        A function returning a fresh iterator of ``(X_batch, y_batch)`` pairs per
        epoch (e.g. a generator function), or an object that can be iterated more
        than once (a list, a dataset class with ``__iter__``). ``X_batch`` is
        ``(batch, n_steps, n_features)``; every batch must have the same
        ``n_steps`` and ``n_features``.

    Raises
    ------
    TypeError
        If ``source`` is an iterator that can be read only once (a generator object).

    Notes
    -----
    Batches are used as given (the estimator's ``batch_size`` and shuffling do not
    apply); the first pass reads the targets to fit the target encoding (labels,
    or the mean and scale of regression targets).

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import SequenceRegressor
    >>> from tsrnn.streaming import Batches
    >>> def read_batches():
    ...     rng = np.random.default_rng(0)
    ...     for _ in range(4):
    ...         X = rng.normal(size=(16, 10, 2))
    ...         yield X, X[:, -1, 0]
    >>> reg = SequenceRegressor(hidden_size=8, max_epochs=2, random_state=0)
    >>> reg.fit(Batches(read_batches)).predict(np.zeros((3, 10, 2))).shape
    (3,)
    """

    def __init__(self, source):
        if not callable(source) and iter(source) is source:
            raise TypeError(
                "Batches needs a function that returns a new iterator per epoch (or a list); "
                "a generator object can only be read once: pass the generator function"
            )
        self.source = source

    def __iter__(self):
        return iter(self.source() if callable(self.source) else self.source)


def is_dask(X):
    """True for a dask array or a dask-backed xarray DataArray."""
    if hasattr(X, "dims") and not hasattr(X, "data_vars"):
        return _is_dask_array(getattr(X, "data", None))
    return _is_dask_array(X)


def _is_dask_array(a):
    return type(a).__module__.startswith("dask.") and hasattr(a, "chunks")


def is_stream(X):
    """True when ``X`` must be streamed rather than converted in memory."""
    return isinstance(X, Batches) or is_dask(X)


class DaskSource:
    """Batches from a dask array chunked along samples (see the module docstring).

    Parameters
    ----------
    X : dask.array.Array or xarray.DataArray
        3-D sequences ``(n_samples, n_steps, n_features)`` of real numbers (a
        DataArray's dimensions are recognised by name), chunked along samples.
    y : array-like of shape (n_samples, ...)
        The targets (read into memory; a dask array is computed).
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        Axis order of a 3-D dask array.
    shuffle_chunks : int, default=4
        Chunks whose rows are mixed together when shuffling.

    Raises
    ------
    ValueError
        If ``X`` is not 3-D or not numeric, ``y`` is missing, or their sample counts
        differ.
    """

    def __init__(self, X, y, data_format="channels_last", shuffle_chunks=4):
        if hasattr(X, "dims"):
            X = _dataarray_to_dask(X)
        if X.ndim != 3:
            raise ValueError(
                f"a dask array of sequences must be 3-D (n_samples, n_steps, "
                f"n_features), got shape {X.shape}"
            )
        if data_format == "channels_first":
            X = X.transpose(0, 2, 1)
        if X.dtype.kind not in "fiub":
            raise ValueError(f"X must contain real numbers, got dtype {X.dtype}")
        if y is None:
            raise ValueError("y is required with a dask array X")
        self.X = X.rechunk({1: -1, 2: -1})  # whole sequences in every chunk
        self.y = np.asarray(y.compute() if _is_dask_array(y) else y)
        if len(self.y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {len(self.y)}")
        self.n_samples, self.n_steps, self.n_features = (int(d) for d in X.shape)
        self.shuffle_chunks = shuffle_chunks
        bounds = np.cumsum((0,) + self.X.chunks[0])
        self.chunks = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def targets(self):
        """All targets, as a NumPy array of shape (n_samples, ...)."""
        return self.y

    def fingerprint(self):
        """A string a resumed run must share with the checkpointed one.

        It holds the dask graph's name (a token of the data's source), the chunk
        structure and a hash of y.
        """
        chunks = np.asarray(self.X.chunks[0])  # the sample axis: the others are whole
        return f"dask:{self.X.name}:{self.X.shape}:{_digest(chunks, self.y)}"

    def epoch(self, batch_size, rng, shuffle):
        """Yield ``(X_batch, y_batch)`` in memory-bounded order for one epoch.

        Parameters
        ----------
        batch_size : int
            Rows per batch; the last batch of the epoch may be smaller.
        rng : numpy.random.Generator
            Draws the chunk order and the row order within each shuffle group.
        shuffle : bool
            Permute chunks and mix the rows of ``shuffle_chunks`` chunks at a time;
            without it, batches follow the data's order exactly.

        Yields
        ------
        X_batch : ndarray of shape (batch, n_steps, n_features)
        y_batch : ndarray of shape (batch, ...)
        """
        chunks = [
            self.chunks[c]
            for c in (rng.permutation(len(self.chunks)) if shuffle else range(len(self.chunks)))
        ]
        group = self.shuffle_chunks if shuffle else 1
        pending = self.X[:0].compute()  # rows left over from the previous group
        pending_y = self.y[:0]
        for g in range(0, len(chunks), group):
            parts = chunks[g : g + group]
            rows = sum(b - a for a, b in parts)
            # One buffer per group: the leftover rows, then the group's chunks; batches
            # are gathered from it through an index order, so the data is never copied
            # as a whole (peak memory: the group plus one chunk being computed).
            X = np.empty((len(pending) + rows,) + pending.shape[1:], dtype=pending.dtype)
            X[: len(pending)] = pending
            y = np.concatenate([pending_y] + [self.y[a:b] for a, b in parts])
            pos = len(pending)
            for a, b in parts:
                X[pos : pos + b - a] = self.X[a:b].compute()
                pos += b - a
            order = np.arange(len(X))
            if shuffle:
                order[len(pending) :] = len(pending) + rng.permutation(rows)
            n_full = len(X) // batch_size * batch_size
            for start in range(0, n_full, batch_size):
                idx = order[start : start + batch_size]
                yield X[idx], y[idx]
            pending, pending_y = X[order[n_full:]], y[order[n_full:]]
            del X
        if len(pending):
            yield pending, pending_y


class BatchesSource:
    """Adapter giving :class:`Batches` the interface of :class:`DaskSource`."""

    def __init__(self, batches, y=None):
        if y is not None:
            raise ValueError("with Batches, the targets come from the batches: pass y=None")
        self.batches = batches
        first = next(iter(batches), None)
        if first is None:
            raise ValueError("the Batches source produced no batches")
        X0, y0 = _check_batch_pair(first)
        self.n_steps, self.n_features = X0.shape[1], X0.shape[2]
        self._first = X0, np.asarray(y0)

    def targets(self):
        """All targets, concatenated from one pass over the batches."""
        return np.concatenate([np.asarray(_check_batch_pair(b)[1]) for b in self.batches])

    def fingerprint(self):
        """A hash of the first batch: what a resumed run must share with the checkpointed one."""
        # Only the first batch: reading an arbitrary source in full costs an epoch.
        return f"batches:first:{_digest(*self._first)}"

    def epoch(self, batch_size, rng, shuffle):
        """Yield the source's ``(X_batch, y_batch)`` pairs as they come, checked.

        ``batch_size``, ``rng`` and ``shuffle`` are accepted for the interface of
        :meth:`DaskSource.epoch` and ignored: the batches set their own size and order.
        """
        for pair in self.batches:
            yield _check_batch_pair(pair)


def _digest(*arrays):
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data if a.dtype.kind != "O" else repr(a.tolist()).encode())
    return h.hexdigest()


def _check_batch_pair(pair):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError("each batch must be a pair (X_batch, y_batch)")
    X, y = pair
    X = np.asarray(X)
    _formats.refuse_non_numeric(X, "X_batch")
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3:
        raise ValueError(f"X_batch must be (batch, n_steps, n_features), got shape {X.shape}")
    if y is None:
        raise ValueError(
            "a batch has no targets (y_batch is None): Batches must yield pairs "
            "(X_batch, y_batch) with one target per sequence"
        )
    n_targets = np.shape(y)[0] if np.ndim(y) else None
    if n_targets != X.shape[0]:
        raise ValueError(
            f"a batch has {X.shape[0]} sequences but {n_targets or 'no'} targets "
            f"(y_batch of shape {np.shape(y)})"
        )
    return X, y


def _dataarray_to_dask(da):
    dims = list(da.dims)
    if da.ndim != 3:
        raise ValueError(f"a dask-backed DataArray of sequences must be 3-D, got dims {dims}")
    order = [
        _formats._find_dim(dims, n)
        for n in (_formats.SAMPLE_DIMS, _formats.TIME_DIMS, _formats.FEATURE_DIMS)
    ]
    if None in order or len(set(order)) < 3:
        order = dims
    return da.transpose(*order).data


def make_source(X, y, data_format, shuffle_chunks=4):
    """The stream source for ``X`` (a dask array/DataArray or :class:`Batches`).

    Parameters
    ----------
    X : dask.array.Array, xarray.DataArray or Batches
    y : array-like or None
        The targets of a dask ``X``; must be None with :class:`Batches`.
    data_format : {'channels_last', 'channels_first'}
        Axis order of a 3-D dask array.
    shuffle_chunks : int, default=4
        See :class:`DaskSource`.

    Returns
    -------
    DaskSource or BatchesSource
        An object with ``targets()``, ``fingerprint()`` and
        ``epoch(batch_size, rng, shuffle)``.
    """
    if isinstance(X, Batches):
        return BatchesSource(X, y)
    return DaskSource(X, y, data_format, shuffle_chunks)
