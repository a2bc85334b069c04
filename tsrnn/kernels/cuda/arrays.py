"""Array plumbing between kernels (GPU); the twin of :mod:`tsrnn.kernels.cpu.arrays`.

Layout changes (time-major <-> batch-major, concatenation of directions, slices of
the feature axis) are small copy kernels, so a batch never leaves the device
between layers. Every array made here is C-contiguous.

Dropout masks are drawn on the device from a counter-based hash of (seed,
element index): each element's draw depends only on the seed and its position,
not on the launch shape, so masks are reproducible with ``random_state`` (the
seed comes from the training loop's NumPy generator). The hash is the 32-bit
"lowbias32" mixer (Chris Wellons' hash-prospector), applied twice with the two
halves of the seed; products are masked to 32 bits so that no arithmetic wraps.
"""

import numpy as np
from numba import cuda, uint64

from tsrnn.kernels import workspace as _workspace
from tsrnn.kernels.cuda._launch import blocks

_MASK32 = 0xFFFFFFFF


def _is_device(a):
    return bool(getattr(a, "__cuda_ndarray__", False))  # numba's devicearray.is_cuda_ndarray


def _allocate(shape, dtype):
    return cuda.device_array(shape, dtype=dtype)


def new_workspace():
    """A :class:`tsrnn.kernels.workspace.Workspace` of device arrays.

    numba.cuda has no caching allocator: each ``device_array`` is a ``cuMemAlloc``.
    """
    return _workspace.Workspace(_allocate)


def empty(shape, dtype):
    """An uninitialised device array; from the active workspace when there is one."""
    return _workspace.empty(_allocate, shape, dtype)


@cuda.jit
def _fill(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


def zeros(shape, dtype):
    """A zero-filled device array; from the active workspace when there is one."""
    a = empty(shape, dtype)
    if a.size:
        _fill[blocks(a.size)](a.reshape(-1), 0)
    return a


def empty_like(a):
    """An uninitialised device array of ``a``'s shape and dtype (see :func:`empty`)."""
    return empty(a.shape, a.dtype)


def zeros_like(a):
    """A zero-filled device array of ``a``'s shape and dtype (see :func:`zeros`)."""
    return zeros(a.shape, a.dtype)


def ones_mask(shape):
    """A device padding mask with every step real (a new array on every call)."""
    a = cuda.device_array(shape, dtype=np.bool_)
    if a.size:
        _fill[blocks(a.size)](a.reshape(-1), True)
    return a


def to_device(a, dtype=None):
    """``a`` as a device array (copied in from the host unless it already is one)."""
    if _is_device(a):
        if dtype is not None and np.dtype(dtype) != a.dtype:
            raise TypeError(f"device array of dtype {a.dtype} where {np.dtype(dtype)} is needed")
        return a
    return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))


def to_host(a):
    """A NumPy copy of a device array (NumPy input is returned as is)."""
    return a.copy_to_host() if _is_device(a) else np.asarray(a)


def copy(a):
    """A device copy of device array ``a`` (in workspace memory when one is active)."""
    out = empty(a.shape, a.dtype)
    if a.size:
        out.copy_to_device(a)
    return out


def copy_into(src, dst):
    """``dst[...] = src``; ``src`` may be a device array or host data."""
    if not dst.size:
        return
    if not _is_device(src):
        src = np.ascontiguousarray(np.broadcast_to(src, dst.shape), dtype=dst.dtype)
    dst.copy_to_device(src)


def contiguous(a):
    """``a`` itself: device arrays made here are always C-contiguous.

    Raises ValueError (an internal error) if a non-contiguous one turns up.
    """
    if not a.is_c_contiguous():
        raise ValueError("internal error: a non-contiguous device array reached a kernel")
    return a


@cuda.jit
def _swap01(src, dst):
    # src (a, b, c) -> dst (b, a, c), one thread per element of dst.
    i = cuda.grid(1)
    if i < dst.size:
        b, a, c = dst.shape
        j, k, m = i // (a * c), (i // c) % a, i % c
        dst[j, k, m] = src[k, j, m]


def swap_leading_axes(a):
    """A copy with the first two axes swapped (2-D masks and 3-D sequences)."""
    shape3 = a.shape if a.ndim == 3 else a.shape + (1,)
    out = empty((shape3[1], shape3[0]) + a.shape[2:], a.dtype)
    if a.size:
        _swap01[blocks(a.size)](a.reshape(shape3), out.reshape((shape3[1], shape3[0], shape3[2])))
    return out


@cuda.jit
def _copy_columns(src, dst, src_lo, dst_lo, width):
    # dst[r, dst_lo + c] = src[r, src_lo + c] for c < width: column blocks of 2-D views.
    i = cuda.grid(1)
    if i < src.shape[0] * width:
        r, c = i // width, i % width
        dst[r, dst_lo + c] = src[r, src_lo + c]


def _width(a):
    return a.shape[a.ndim - 1]  # the simulator's shapes refuse negative indexes


def _rows(a):
    return a.reshape((a.size // _width(a), _width(a)))


def concat_last(parts):
    """Concatenate device arrays along the last axis (directions of a bidirectional layer)."""
    if len(parts) == 1:
        return parts[0]
    width = sum(_width(p) for p in parts)
    out = empty(parts[0].shape[:-1] + (width,), parts[0].dtype)
    lo = 0
    for p in parts:
        n = p.size
        if n:
            _copy_columns[blocks(n)](_rows(p), _rows(out), 0, lo, _width(p))
        lo += _width(p)
    return out


def take_last(a, lo, hi):
    """A C-contiguous device copy of ``a[..., lo:hi]``."""
    out = empty(a.shape[:-1] + (hi - lo,), a.dtype)
    if out.size:
        _copy_columns[blocks(out.size)](_rows(a), _rows(out), lo, 0, hi - lo)
    return out


@cuda.jit
def _add(dst, src):
    i = cuda.grid(1)
    if i < dst.size:
        dst[i] += src[i]


def add_into(dst, src):
    """``dst += src`` for device arrays of the same size, in place."""
    if dst.size:
        _add[blocks(dst.size)](dst.reshape(-1), src.reshape(-1))


@cuda.jit
def _scale_steps(x, scales):
    i = cuda.grid(1)
    if i < x.size:
        per_step = scales.size
        x[i // per_step, i % per_step] *= scales[i % per_step]


def scale_steps(x, scales):
    """``x[t] *= scales`` for every step t of a time-major ``x``, in place."""
    if x.size:
        _scale_steps[blocks(x.size)](x.reshape((x.shape[0], scales.size)), scales.reshape(-1))


@cuda.jit(device=True)
def _lowbias32(x):
    x ^= x >> uint64(16)
    x = (x * uint64(0x7FEB352D)) & uint64(_MASK32)
    x ^= x >> uint64(15)
    x = (x * uint64(0x846CA68B)) & uint64(_MASK32)
    x ^= x >> uint64(16)
    return x


@cuda.jit
def _uniform_keep(seed_lo, seed_hi, rate, scale, out):
    # out[i] = scale where the element's uniform draw u in [0, 1) is >= rate, else 0.
    i = cuda.grid(1)
    if i < out.size:
        x = _lowbias32((uint64(i) ^ uint64(seed_lo)) & uint64(_MASK32))
        x = _lowbias32(x ^ uint64(seed_hi))
        u = float(x >> uint64(8)) * (1.0 / 16777216.0)  # 24 random bits
        out[i] = scale if u >= rate else scale * 0


def _draw(rng, shape, rate, scale, dtype):
    out = cuda.device_array(shape, dtype=dtype)
    if out.size:
        if out.size >= 2**32:
            raise ValueError("a dropout mask of 2**32 elements or more is not supported")
        seed_lo, seed_hi = (int(s) for s in rng.integers(0, 2**32, size=2))
        _uniform_keep[blocks(out.size)](seed_lo, seed_hi, rate, scale, out.reshape(-1))
    return out


def keep_mask(rng, shape, rate):
    """Bernoulli keep mask (True with probability 1 - rate), drawn on the device."""
    return _draw(rng, shape, rate, True, np.bool_)


def dropout_scales(rng, shape, rate, dtype):
    """Inverted-dropout multipliers: 0 or 1 / (1 - rate), drawn on the device."""
    return _draw(rng, shape, rate, 1.0 / (1.0 - rate), dtype)
