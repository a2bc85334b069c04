"""Array plumbing between kernels (CPU): allocation, layout changes, dropout masks.

The layers call these instead of NumPy directly, so that the same layer code runs
on either backend; :mod:`tsrnn.kernels.cuda.arrays` has the same functions for
device arrays. On the CPU they are NumPy one-liners.
"""

import functools

import numpy as np

from tsrnn.kernels import workspace as _workspace


def new_workspace():
    """A :class:`tsrnn.kernels.workspace.Workspace` of NumPy arrays."""
    return _workspace.Workspace(np.empty)


def empty(shape, dtype):
    """An uninitialised array; taken from the active workspace when there is one."""
    return _workspace.empty(np.empty, shape, dtype)


def zeros(shape, dtype):
    """A zero-filled array; taken from the active workspace when there is one."""
    if _workspace.active() is None:
        return np.zeros(shape, dtype=dtype)
    a = empty(shape, dtype)
    a.fill(0)
    return a


def empty_like(a):
    """An uninitialised array of ``a``'s shape and dtype (see :func:`empty`)."""
    return empty(a.shape, a.dtype)


def zeros_like(a):
    """A zero-filled array of ``a``'s shape and dtype (see :func:`zeros`)."""
    return zeros(a.shape, a.dtype)


@functools.lru_cache(maxsize=8)
def ones_mask(shape):
    """A padding mask with every step real.

    Shared between calls of the same shape (kernels and layers only read masks):
    allocating it on every call slows single-sequence predict.
    """
    return np.ones(shape, dtype=np.bool_)


def to_device(a, dtype=None):
    """``a`` as a C-contiguous array of this backend (no copy when it already is)."""
    return np.ascontiguousarray(a, dtype=dtype)


def to_host(a):
    """``a`` as a NumPy array (the array itself on the CPU)."""
    return a


def copy(a):
    """A copy of ``a`` (in workspace memory when one is active)."""
    out = empty(a.shape, a.dtype)
    out[...] = a
    return out


def copy_into(src, dst):
    """``dst[...] = src`` (``src`` may be any array-like of the same shape)."""
    dst[...] = src


def contiguous(a):
    """``a`` as a C-contiguous array (no copy when it already is)."""
    return np.ascontiguousarray(a)


def swap_leading_axes(a):
    """A C-contiguous copy with the first two axes swapped.

    Batch-major to time-major and back, for 2-D masks and 3-D sequences.
    """
    out = empty((a.shape[1], a.shape[0]) + a.shape[2:], a.dtype)
    out[...] = a.swapaxes(0, 1)
    return out


def concat_last(parts):
    """Concatenate along the last axis (directions of a bidirectional layer)."""
    if len(parts) == 1:
        return parts[0]
    width = sum(p.shape[-1] for p in parts)
    return np.concatenate(
        parts, axis=-1, out=empty(parts[0].shape[:-1] + (width,), parts[0].dtype)
    )


def take_last(a, lo, hi):
    """A C-contiguous copy of ``a[..., lo:hi]``."""
    out = empty(a.shape[:-1] + (hi - lo,), a.dtype)
    out[...] = a[..., lo:hi]
    return out


def add_into(dst, src):
    """``dst += src``."""
    dst += src


def scale_steps(x, scales):
    """``x[t] *= scales`` for every step t of a time-major ``x``, in place.

    Variational dropout: one mask per sequence, reused at every step.
    """
    x *= scales[None]


def keep_mask(rng, shape, rate):
    """Bernoulli keep mask (True with probability 1 - rate), drawn from ``rng``."""
    return rng.random(shape) >= rate


def dropout_scales(rng, shape, rate, dtype):
    """Inverted-dropout multipliers: 0 or 1 / (1 - rate), drawn from ``rng``."""
    return (keep_mask(rng, shape, rate) / (1 - rate)).astype(dtype)
