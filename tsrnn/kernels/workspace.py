"""Reusing one training step's temporary arrays in the next step.

Every training step of a network allocates the same temporaries: gate activations,
cached states, the gradients of the pre-activations, layout copies. Freshly
allocated, those pages are new to the process each step, and the resulting page
faults cost a large share of a small network's step. A :class:`Workspace` hands
out the same arrays again instead.

The backends' ``arrays.empty`` (and the functions built on it) take from the
workspace made active with :func:`reusing`, in the calling thread only; without
one they allocate as usual. :func:`tsrnn.training.loop.train_step` activates it
around the forward pass, the loss and the backward pass, whose temporaries are all
dead when the step returns; the optimizer's undo copies are made outside it.
"""

import contextlib
import threading

import numpy as np

_active = threading.local()


class Workspace:
    """A pool of arrays keyed by (shape, dtype), reused from step to step.

    Within a step, the n-th request for a shape gets the n-th array of that shape,
    so no two live temporaries share memory; :meth:`release` (at the end of the
    step) makes them all available again. The pool holds, for each shape, as many
    arrays as one step used at once: memory is one step's temporaries (twice when
    an epoch's last batch is smaller), not a growing cache.

    Parameters
    ----------
    allocate : callable (shape, dtype) -> array
        The backend's allocator (``numpy.empty`` or ``cuda.device_array``).
    """

    def __init__(self, allocate):
        self._allocate = allocate
        self._pool = {}
        self._taken = {}
        self._children = {}

    def take(self, shape, dtype):
        """An array of ``shape`` and ``dtype`` not handed out since the last release.

        Allocated on first use, then reused after each :meth:`release`; its contents
        are whatever the previous user left.
        """
        key = (shape, dtype)
        n = self._taken.get(key, 0)
        self._taken[key] = n + 1
        arrays = self._pool.setdefault(key, [])
        if n == len(arrays):
            arrays.append(self._allocate(shape, dtype))
        return arrays[n]

    def child(self, key):
        """The workspace of ``key``'s share of a step, released with this one.

        A container's branch that may run in another thread takes its temporaries
        from a child of its own (:func:`using`): which arrays it gets then does not
        depend on how its requests interleave with the other thread's.
        """
        if key not in self._children:
            self._children[key] = Workspace(self._allocate)
        return self._children[key]

    def release(self):
        """Every array handed out since the last release may be handed out again."""
        self._taken.clear()
        for child in self._children.values():
            child.release()

    @property
    def nbytes(self):
        """Bytes held by every array in the pool and its children."""
        own = sum(a.nbytes for arrays in self._pool.values() for a in arrays)
        return own + sum(child.nbytes for child in self._children.values())


def shape_key(shape):
    """``shape`` (an int, tuple or list) as a hashable tuple.

    NumPy integers may stay: they hash and compare like Python ints.
    """
    if type(shape) is tuple:
        return shape
    return tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)


def empty(allocate, shape, dtype):
    """A backend's ``arrays.empty``: an uninitialised array of ``shape`` and ``dtype``.

    Taken from the active workspace when there is one, else ``allocate(shape, dtype)``.
    """
    pool = active()
    if pool is None:
        return allocate(shape, dtype)
    return pool.take(shape_key(shape), np.dtype(dtype))


def active():
    """The workspace :func:`reusing` made active in this thread, or None."""
    return getattr(_active, "workspace", None)


@contextlib.contextmanager
def reusing(workspace):
    """Take temporaries from ``workspace`` (None: allocate) in this thread.

    They are all released on exit, so nothing made inside may be used afterwards.
    """
    try:
        with using(workspace):
            yield workspace
    finally:
        if workspace is not None:
            workspace.release()


@contextlib.contextmanager
def using(workspace):
    """Take temporaries from ``workspace`` (None: allocate) in this thread, releasing nothing.

    For a share of a step (see :meth:`Workspace.child`): its temporaries live until
    the step's workspace is released.
    """
    previous = active()
    _active.workspace = workspace
    try:
        yield workspace
    finally:
        _active.workspace = previous
