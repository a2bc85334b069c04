"""1-D convolution and pooling over time (GPU); the twin of :mod:`tsrnn.kernels.cpu.conv`.

Convolution is an im2col copy and one GEMM, as on the CPU. Backward passes gather
rather than scatter (each thread sums the contributions to one input element in a
fixed order), so they need no atomics and are deterministic.
"""

from numba import cuda

from tsrnn.kernels.cuda._launch import blocks
from tsrnn.kernels.cuda.dense import activation_backward, dense_forward
from tsrnn.kernels.cuda.linalg import column_sums, gemm


@cuda.jit
def _im2col(x, kernel_size, stride, dilation, pad_left, n_out, cols):
    i = cuda.grid(1)
    batch, n_steps, channels = x.shape
    if i < cols.size:
        row, col = i // cols.shape[1], i % cols.shape[1]
        bi, t = row // n_out, row % n_out
        k, c = col // channels, col % channels
        s = t * stride + k * dilation - pad_left
        cols[row, col] = x[bi, s, c] if 0 <= s < n_steps else x[0, 0, 0] * 0


def conv1d_forward(x, W, b, stride, dilation, pad_left, activation, cols, y):
    """Y (batch, n_out, filters) = act(conv(x, W) + b); ``cols`` is kept for backward."""
    batch, _, channels = x.shape
    kernel_size, _, filters = W.shape
    n_out = y.shape[1]
    _im2col[blocks(cols.size)](x, kernel_size, stride, dilation, pad_left, n_out, cols)
    # After im2col, a convolution is a dense layer over the (sample, step) rows.
    dense_forward(
        cols,
        W.reshape(kernel_size * channels, filters),
        b,
        activation,
        y.reshape(batch * n_out, filters),
    )


@cuda.jit
def _col2im(dcols, kernel_size, stride, dilation, pad_left, n_out, dx):
    i = cuda.grid(1)
    batch, n_steps, channels = dx.shape
    if i < dx.size:
        bi = i // (n_steps * channels)
        s, c = (i // channels) % n_steps, i % channels
        total = dcols[0, 0] * 0
        for k in range(kernel_size):
            num = s + pad_left - k * dilation  # = t * stride for the output step t
            if num >= 0 and num % stride == 0 and num // stride < n_out:
                total += dcols[bi * n_out + num // stride, k * channels + c]
        dx[bi, s, c] = total


def conv1d_backward(
    x, W, stride, dilation, pad_left, activation, cols, y, dy, dx, dW, db, da, dcols, need_dx
):
    """Gradients of :func:`conv1d_forward`, written into ``dx``, ``dW`` and ``db``.

    ``da`` (like y) and ``dcols`` (like cols) are workspaces. With ``need_dx`` False
    (a network's first layer) ``dx`` is left untouched.
    """
    batch, _, channels = x.shape
    kernel_size, _, filters = W.shape
    n_out = y.shape[1]
    activation_backward(y, dy, activation, da)
    da2 = da.reshape(batch * n_out, filters)
    gemm(cols, da2, dW.reshape(kernel_size * channels, filters), trans_a=True)
    column_sums(da2, db)
    if not need_dx:
        return
    gemm(da2, W.reshape(kernel_size * channels, filters), dcols, trans_b=True)
    _col2im[blocks(dx.size)](dcols, kernel_size, stride, dilation, pad_left, n_out, dx)


@cuda.jit
def _max_pool_forward(x, pool_size, stride, pad_left, y, arg):
    i = cuda.grid(1)
    if i < y.size:
        channels = y.shape[2]
        bi, t, c = i // (y.shape[1] * channels), (i // channels) % y.shape[1], i % channels
        start = t * stride - pad_left
        best_s = max(start, 0)
        best = x[bi, best_s, c]
        for s in range(best_s + 1, min(start + pool_size, x.shape[1])):
            v = x[bi, s, c]
            # Strict > keeps the first maximum; a NaN propagates (and then sticks).
            if (v > best or v != v) and best == best:
                best, best_s = v, s
        y[bi, t, c] = best
        arg[bi, t, c] = best_s


def max_pool_forward(x, pool_size, stride, pad_left, y, arg):
    """Max over each window; ``arg`` receives the (first) argmax's absolute step.

    Window t starts at step ``t * stride - pad_left``; its steps outside the input
    are skipped, which is padding with -inf.
    """
    _max_pool_forward[blocks(y.size)](x, pool_size, stride, pad_left, y, arg)


@cuda.jit
def _window_gradient(dy, arg, pool_size, stride, pad_left, average, dx):
    # dx[b, s, c] gathers dy from every window that contains step s.
    i = cuda.grid(1)
    if i < dx.size:
        n_steps, channels = dx.shape[1], dx.shape[2]
        bi, s, c = i // (n_steps * channels), (i // channels) % n_steps, i % channels
        total = dy[0, 0, 0] * 0
        p = s + pad_left  # the step's position in the padded input
        first = max(0, (p - pool_size + stride) // stride)
        for t in range(first, min(dy.shape[1], p // stride + 1)):
            if average:
                total += dy[bi, t, c] / pool_size
            elif arg[bi, t, c] == s:
                total += dy[bi, t, c]
        dx[bi, s, c] = total


def max_pool_backward(dy, arg, pool_size, stride, pad_left, dx):
    """Gradient of :func:`max_pool_forward`: each window's ``dy`` to its argmax in ``dx``.

    Each thread gathers for one element of ``dx``; ``pool_size``, ``stride`` and
    ``pad_left`` bound the windows a step can belong to (the CPU kernel scatters
    instead).
    """
    _window_gradient[blocks(dx.size)](dy, arg, pool_size, stride, pad_left, False, dx)


@cuda.jit
def _average_pool_forward(x, pool_size, stride, y):
    i = cuda.grid(1)
    if i < y.size:
        channels = y.shape[2]
        bi, t, c = i // (y.shape[1] * channels), (i // channels) % y.shape[1], i % channels
        total = x[bi, t * stride, c]
        for k in range(1, pool_size):
            total += x[bi, t * stride + k, c]
        y[bi, t, c] = total / pool_size


def average_pool_forward(x, pool_size, stride, y):
    """Mean over each window of ``pool_size`` steps: ``y`` (batch, n_out, channels)."""
    _average_pool_forward[blocks(y.size)](x, pool_size, stride, y)


def average_pool_backward(dy, pool_size, stride, dx):
    """Gradient of :func:`average_pool_forward`, written into ``dx``.

    ``dy / pool_size`` is added at every step of each window.
    """
    _window_gradient[blocks(dx.size)](dy, dy[:0], pool_size, stride, 0, True, dx)


@cuda.jit
def _global_average_pool_forward(x, mask, y, count):
    i = cuda.grid(1)
    if i < y.size:
        bi, c = i // y.shape[1], i % y.shape[1]
        total, n = x[0, 0, 0] * 0, 0
        for t in range(x.shape[1]):
            if mask[bi, t]:
                total += x[bi, t, c]
                n += 1
        y[bi, c] = total / n
        if c == 0:
            count[bi] = n


def global_average_pool_forward(x, mask, y, count):
    """Mean over the steps where ``mask`` (batch, n_steps) is True."""
    _global_average_pool_forward[blocks(y.size)](x, mask, y, count)


@cuda.jit
def _global_average_pool_backward(dy, mask, count, dx):
    i = cuda.grid(1)
    if i < dx.size:
        n_steps, channels = dx.shape[1], dx.shape[2]
        bi, t, c = i // (n_steps * channels), (i // channels) % n_steps, i % channels
        dx[bi, t, c] = dy[bi, c] / count[bi] if mask[bi, t] else dy[bi, c] * 0


def global_average_pool_backward(dy, mask, count, dx):
    """Gradient of :func:`global_average_pool_forward`, written into ``dx``.

    ``dy / count`` on the real steps, 0 on padding.
    """
    _global_average_pool_backward[blocks(dx.size)](dy, mask, count, dx)


@cuda.jit
def _global_max_pool_forward(x, mask, y, arg):
    i = cuda.grid(1)
    if i < y.size:
        bi, c = i // y.shape[1], i % y.shape[1]
        arg[bi, c] = -1
        for t in range(x.shape[1]):
            if mask[bi, t] and (arg[bi, c] < 0 or x[bi, t, c] > y[bi, c]):
                y[bi, c] = x[bi, t, c]
                arg[bi, c] = t


def global_max_pool_forward(x, mask, y, arg):
    """Max over the steps where ``mask`` is True; ``arg`` receives the first argmax."""
    _global_max_pool_forward[blocks(y.size)](x, mask, y, arg)


@cuda.jit
def _global_max_pool_backward(dy, arg, dx):
    i = cuda.grid(1)
    if i < dx.size:
        n_steps, channels = dx.shape[1], dx.shape[2]
        bi, t, c = i // (n_steps * channels), (i // channels) % n_steps, i % channels
        dx[bi, t, c] = dy[bi, c] if arg[bi, c] == t else dy[bi, c] * 0


def global_max_pool_backward(dy, arg, dx):
    """Gradient of :func:`global_max_pool_forward`, written into ``dx``.

    ``dy`` at each channel's argmax step, 0 elsewhere.
    """
    _global_max_pool_backward[blocks(dx.size)](dy, arg, dx)
