"""1-D convolution and pooling over time (CPU). Equations: :mod:`tsrnn.kernels.reference.conv`.

Convolution is an im2col copy followed by one GEMM: ``cols`` has a row per
(sample, output step) and ``kernel_size * channels`` columns, so the whole batch is
one ``(batch * n_out, K * C) @ (K * C, filters)`` product, computed in two halves of
rows that can run at the same time (:func:`tsrnn._threads.run_pair`), each in blocks
of rows (:data:`BLOCK_ROWS`). In the backward pass the weight gradient may run in a
helper thread (:func:`tsrnn._threads.defer`) beside the input gradient.
"""

import functools

import numpy as np
from numba import njit

from tsrnn._config import JIT_OPTIONS
from tsrnn._threads import defer, run_pair
from tsrnn.kernels.cpu._scalar import activate, activation_slope
from tsrnn.kernels.scalar import LINEAR

# Rows of one output (or cols) matrix are split at a multiple of this many rows: OpenBLAS
# tiles the columns of its column-major product (our rows) in blocks of 2 or 3 times
# its kernel width (up to 32), so the halves' products then get every row exactly as
# the whole product does (tested, float32 and float64, AVX2 and AVX-512 kernels).
ROW_ALIGNMENT = 96


# Products of fewer multiply-adds than this run in one thread: a hand-over to the
# helper costs about as much. A forward product below it is not split at all (see
# conv1d_forward).
PARALLEL_PRODUCT = 1 << 24


# The products run in blocks of this many rows (a multiple of ROW_ALIGNMENT, so each
# block's product gives the whole product's bits), and the copies and sums around
# each product handle its block while it is still in the core's cache: im2col just
# before the forward product, bias and activation after it, col2im after the input
# gradient's product (read back from memory, col2im took 3-4 times as long, and the
# LSTM-FCN step 3-7% longer).
BLOCK_ROWS = 5 * ROW_ALIGNMENT
# Products of fewer multiply-adds per block are not blocked: OpenBLAS' AVX-512 kernels
# round products of at most 1e6 multiply-adds differently (see conv1d_forward). The
# last block takes the rows left over (fewer than BLOCK_ROWS) for the same reason.
SMALLEST_BLOCK_PRODUCT = 1 << 21


@njit(**JIT_OPTIONS)
def _block_end(lo, stop, product_per_row):
    """Where the block of rows starting at ``lo`` ends (see BLOCK_ROWS)."""
    if BLOCK_ROWS * product_per_row < SMALLEST_BLOCK_PRODUCT or stop - lo < 2 * BLOCK_ROWS:
        return stop
    return lo + BLOCK_ROWS


def _split_rows(n_rows):
    """Where the rows of a batch are split in two (0: too few rows to split)."""
    return n_rows // 2 // ROW_ALIGNMENT * ROW_ALIGNMENT


@njit(**JIT_OPTIONS)
def _im2col(x, kernel_size, stride, dilation, pad_left, n_out, cols, start, stop):
    """Rows ``start:stop`` of ``cols`` (row = sample * n_out + output step)."""
    n_steps, channels = x.shape[1], x.shape[2]
    for row in range(start, stop):
        bi, t = divmod(row, n_out)
        for k in range(kernel_size):
            s = t * stride + k * dilation - pad_left
            inside = 0 <= s < n_steps
            for c in range(channels):
                cols[row, k * channels + c] = x[bi, s, c] if inside else 0


@njit(**JIT_OPTIONS)
def _forward_rows(x, W, b, stride, dilation, pad_left, activation, cols, y, start, stop):
    kernel_size, channels, filters = W.shape
    n_out = y.shape[1]
    W2 = W.reshape(kernel_size * channels, filters)
    lo = start
    while lo < stop:
        hi = _block_end(lo, stop, W2.size)
        _im2col(x, kernel_size, stride, dilation, pad_left, n_out, cols, lo, hi)
        y2 = y.reshape(-1, filters)[lo:hi]
        np.dot(cols[lo:hi], W2, y2)
        for r in range(hi - lo):
            for f in range(filters):
                y2[r, f] = activate(y2[r, f] + b[f], activation)
        lo = hi


def conv1d_forward(x, W, b, stride, dilation, pad_left, activation, cols, y):
    """Y (batch, n_out, filters) = act(conv(x, W) + b); ``cols`` is kept for backward.

    The rows (sample, output step) are computed in two halves, at the same time when
    a core is spare (:func:`tsrnn._threads.run_pair`).
    """
    n_rows = y.shape[0] * y.shape[1]
    half = _split_rows(n_rows)
    args = (x, W, b, stride, dilation, pad_left, activation, cols, y)
    # Split only large products: OpenBLAS' AVX-512 kernels take another path, which
    # rounds differently, for products of at most 1e6 multiply-adds; each half of a
    # product this large stays far above that.
    if half == 0 or n_rows * cols.shape[1] * W.shape[2] < PARALLEL_PRODUCT:
        _forward_rows(*args, 0, n_rows)
        return
    run_pair(
        functools.partial(_forward_rows, *args, 0, half),
        functools.partial(_forward_rows, *args, half, n_rows),
    )


@njit(**JIT_OPTIONS)
def _bias_gradient(y, dy, activation, da, db):
    """``db`` = column sums of the pre-activation gradient, which is returned.

    For a linear activation that gradient is ``dy`` itself (act' = 1), so no pass
    writes ``da``; otherwise ``da = dy * act'`` and its sums are taken in one pass.
    """
    filters = db.shape[0]
    dy2 = dy.reshape(-1, filters)
    db[:] = 0
    if activation == LINEAR:
        da2 = dy2
        for r in range(dy2.shape[0]):
            for f in range(filters):
                db[f] += dy2[r, f]
        return da2
    da2 = da.reshape(-1, filters)
    y2 = y.reshape(-1, filters)
    for r in range(dy2.shape[0]):
        for f in range(filters):
            # Summed after the store: the sum then adds the rounded gradient, as a
            # separate pass over da would (activation_slope may be float64).
            da2[r, f] = dy2[r, f] * activation_slope(y2[r, f], activation)
            db[f] += da2[r, f]
    return da2


@njit(**JIT_OPTIONS)
def _col2im(dcols, stride, dilation, pad_left, n_out, dx, start, stop):
    """Samples ``start:stop`` of ``dx``: sums of the ``dcols`` entries of each input step.

    ``dx`` at a step is the sum of the entries that the step was copied to. A gather
    (each step of dx written once, no zeroing pass) that adds the rows in increasing
    output step, the order of the im2col scatter, so the sums are the same.
    """
    n_steps, channels = dx.shape[1], dx.shape[2]
    kernel_size = dcols.shape[1] // channels
    for bi in range(start, stop):
        for s in range(n_steps):
            out = dx[bi, s]
            for c in range(channels):
                out[c] = 0
            # Output step t reads s through tap k when t * stride = s + pad_left - k * dilation;
            # t grows as k falls.
            for k in range(kernel_size - 1, -1, -1):
                offset = s + pad_left - k * dilation
                if offset < 0 or offset % stride != 0:
                    continue
                t = offset // stride
                if t >= n_out:
                    continue
                src = dcols[bi * n_out + t, k * channels : (k + 1) * channels]
                for c in range(channels):
                    out[c] += src[c]


@njit(**JIT_OPTIONS)
def _input_gradient(da2, W, stride, dilation, pad_left, n_out, dcols, dx):
    """``dx`` through ``dcols = da2 @ W.T`` and col2im, block by block of rows.

    Each block's complete samples are gathered into ``dx`` at once.
    """
    kernel_size, channels, filters = W.shape
    W2T = W.reshape(kernel_size * channels, filters).T
    n_rows, done, lo = dcols.shape[0], 0, 0
    while lo < n_rows:
        hi = _block_end(lo, n_rows, W2T.size)
        np.dot(da2[lo:hi], W2T, dcols[lo:hi])
        complete = hi // n_out  # the samples whose rows are all done
        if complete > done:
            _col2im(dcols, stride, dilation, pad_left, n_out, dx, done, complete)
            done = complete
        lo = hi


@njit(**JIT_OPTIONS)
def _weight_gradient(cols, da2, dW):
    kernel_size, channels, filters = dW.shape
    np.dot(cols.T, da2, dW.reshape(kernel_size * channels, filters))


def conv1d_backward(
    x, W, stride, dilation, pad_left, activation, cols, y, dy, dx, dW, db, da, dcols, need_dx
):
    """Gradients of :func:`conv1d_forward`, written into ``dx``, ``dW`` and ``db``.

    ``da`` (like y) and ``dcols`` (like cols) are workspaces. With ``need_dx`` False
    (a network's first layer) ``dx`` is left untouched. When a core is spare, the
    weight gradient of a large product is left to the helper thread
    (:func:`tsrnn._threads.defer`: it is complete when the enclosing deferring scope
    ends) while this thread computes ``dx``.
    """
    da2 = _bias_gradient(y, dy, activation, da, db)
    weights = functools.partial(_weight_gradient, cols, da2, dW)
    if cols.size * W.shape[2] >= PARALLEL_PRODUCT:
        # Nothing else in the backward pass reads dW: in a deferring scope (a network's
        # backward pass) the helper computes it while this thread goes on.
        defer(weights)
    else:
        weights()
    if not need_dx:
        return
    _input_gradient(da2, W, stride, dilation, pad_left, y.shape[1], dcols, dx)


@njit(**JIT_OPTIONS)
def max_pool_forward(x, pool_size, stride, pad_left, y, arg):
    """Max over each window; ``arg`` receives the (first) argmax's absolute step.

    Window t starts at step ``t * stride - pad_left``; its steps outside the input
    are skipped, which is padding with -inf.
    """
    batch, n_steps, channels = x.shape
    for bi in range(batch):
        for t in range(y.shape[1]):
            start = t * stride - pad_left
            s0 = max(start, 0)
            end = min(start + pool_size, n_steps)
            y_row, arg_row = y[bi, t], arg[bi, t]
            for c in range(channels):
                y_row[c] = x[bi, s0, c]
                arg_row[c] = s0
            # Window positions outside, channels inside, and selects instead of branches:
            # the channel loop vectorises (branches on random data mispredict half the time).
            for s in range(s0 + 1, end):
                x_row = x[bi, s]
                for c in range(channels):
                    v, best = x_row[c], y_row[c]
                    # Strict > keeps the first maximum; a NaN propagates (and then sticks).
                    take = (v > best) | ((v != v) & (best == best))
                    y_row[c] = v if take else best
                    arg_row[c] = s if take else arg_row[c]


@njit(**JIT_OPTIONS)
def max_pool_backward(dy, arg, pool_size, stride, pad_left, dx):
    """Gradient of :func:`max_pool_forward`: ``dy`` added at each argmax into ``dx``."""
    # pool_size, stride and pad_left are unused here (the CPU scatters through arg);
    # the GPU kernel, which gathers, needs them, and both backends share one signature.
    dx[:] = 0
    for bi in range(dy.shape[0]):
        for t in range(dy.shape[1]):
            for c in range(dy.shape[2]):
                dx[bi, arg[bi, t, c], c] += dy[bi, t, c]


@njit(**JIT_OPTIONS)
def average_pool_forward(x, pool_size, stride, y):
    """Mean over each window of ``pool_size`` steps: ``y`` (batch, n_out, channels)."""
    for bi in range(x.shape[0]):
        for t in range(y.shape[1]):
            for c in range(x.shape[2]):
                total = x[bi, t * stride, c]
                for k in range(1, pool_size):
                    total += x[bi, t * stride + k, c]
                y[bi, t, c] = total / pool_size


@njit(**JIT_OPTIONS)
def average_pool_backward(dy, pool_size, stride, dx):
    """Gradient of :func:`average_pool_forward`, written into ``dx``.

    ``dy / pool_size`` is added at every step of each window.
    """
    dx[:] = 0
    for bi in range(dy.shape[0]):
        for t in range(dy.shape[1]):
            for c in range(dy.shape[2]):
                g = dy[bi, t, c] / pool_size
                for k in range(pool_size):
                    dx[bi, t * stride + k, c] += g


@njit(**JIT_OPTIONS)
def global_average_pool_forward(x, mask, y, count):
    """Mean over the steps where ``mask`` (batch, n_steps) is True."""
    batch, n_steps, channels = x.shape
    for bi in range(batch):
        n = 0
        for c in range(channels):
            y[bi, c] = 0
        for t in range(n_steps):
            if mask[bi, t]:
                n += 1
                for c in range(channels):
                    y[bi, c] += x[bi, t, c]
        count[bi] = n
        for c in range(channels):
            y[bi, c] /= n


@njit(**JIT_OPTIONS)
def global_average_pool_backward(dy, mask, count, dx):
    """Gradient of :func:`global_average_pool_forward`, written into ``dx``.

    ``dy / count`` on the real steps, 0 on padding.
    """
    batch, n_steps, channels = dx.shape
    share = np.empty(channels, dx.dtype)
    for bi in range(batch):
        # Each sample's share, divided once (not once per step): the same values.
        for c in range(channels):
            share[c] = dy[bi, c] / count[bi]
        for t in range(n_steps):
            if mask[bi, t]:
                dx[bi, t, :] = share
            else:
                dx[bi, t, :] = 0


@njit(**JIT_OPTIONS)
def global_max_pool_forward(x, mask, y, arg):
    """Max over the steps where ``mask`` is True; ``arg`` receives the first argmax."""
    batch, n_steps, channels = x.shape
    for bi in range(batch):
        for c in range(channels):
            arg[bi, c] = -1
            for t in range(n_steps):
                if mask[bi, t] and (arg[bi, c] < 0 or x[bi, t, c] > y[bi, c]):
                    y[bi, c] = x[bi, t, c]
                    arg[bi, c] = t


@njit(**JIT_OPTIONS)
def global_max_pool_backward(dy, arg, dx):
    """Gradient of :func:`global_max_pool_forward`, written into ``dx``.

    ``dy`` at each channel's argmax step, 0 elsewhere.
    """
    dx[:] = 0
    for bi in range(dy.shape[0]):
        for c in range(dy.shape[1]):
            dx[bi, arg[bi, c], c] = dy[bi, c]
