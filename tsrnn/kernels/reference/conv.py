"""Reference 1-D convolution and pooling over time, in plain NumPy.

Layout is batch-major ``(batch, n_steps, channels)`` (Keras' ``channels_last``).

Conv1D::

    y[b, t, f] = act( sum_k sum_c x_pad[b, t*stride + k*dilation, c] * W[k, c, f] + bias[f] )

with ``W`` of shape ``(kernel_size, in_channels, filters)`` and ``x_pad`` the input
with ``pad_left`` zeros before and ``pad_right`` after it (see :func:`conv_padding`).

Pooling (average pooling: ``padding='valid'`` only, as Keras' default)::

    max:     y[b, t, c] = max_{k < pool}  x_pad[b, t*stride + k, c]  (gradient to the first argmax)
    average: y[b, t, c] = mean_{k < pool} x[b, t*stride + k, c]
    global:  y[b, c]    = max or mean over the real (unmasked) steps

where max pooling's ``x_pad`` has ``pad_left`` steps of -inf before the input and
``pad_right`` after it, placed as for a convolution (:func:`conv_padding` with the
pool as kernel): a padded step never wins, so a window's maximum is over the real
steps it covers. 'same' with an even ``pool_size`` pads one step more on the right
than on the left, as Keras (TensorFlow) does.
"""

import numpy as np

from tsrnn.kernels.reference.dense import activation_backward, activation_forward
from tsrnn.kernels.shapes import conv_padding, pool_output_length


def conv1d_forward(x, W, b, stride=1, dilation=1, padding="valid", activation="linear"):
    """Conv1D forward. Returns ``(y, cache)``."""
    batch, n_steps, _ = x.shape
    kernel_size, _, filters = W.shape
    left, right, n_out = conv_padding(n_steps, kernel_size, stride, dilation, padding)
    x_pad = np.pad(x, ((0, 0), (left, right), (0, 0)))
    a = np.zeros((batch, n_out, filters), dtype=x.dtype)
    for t in range(n_out):
        for k in range(kernel_size):
            a[:, t, :] += x_pad[:, t * stride + k * dilation, :] @ W[k]
    a += b
    y = activation_forward(a, activation)
    cache = dict(
        x_pad=x_pad,
        W=W,
        y=y,
        stride=stride,
        dilation=dilation,
        left=left,
        n_steps=n_steps,
        activation=activation,
    )
    return y, cache


def conv1d_backward(cache, dy):
    """Conv1D backward. Returns a dict with the gradients of ``x``, ``W`` and ``b``."""
    x_pad, W, stride, dilation = cache["x_pad"], cache["W"], cache["stride"], cache["dilation"]
    da = activation_backward(cache["y"], dy, cache["activation"])
    n_out = da.shape[1]
    dx_pad = np.zeros_like(x_pad)
    dW = np.zeros_like(W)
    for t in range(n_out):
        for k in range(W.shape[0]):
            s = t * stride + k * dilation
            dW[k] += x_pad[:, s, :].T @ da[:, t, :]
            dx_pad[:, s, :] += da[:, t, :] @ W[k].T
    left = cache["left"]
    return dict(x=dx_pad[:, left : left + cache["n_steps"], :], W=dW, b=da.sum(axis=(0, 1)))


def max_pool_forward(x, pool_size, stride, padding="valid"):
    """Max pooling over time. Returns ``(y, cache)``."""
    left, right, n_out = conv_padding(x.shape[1], pool_size, stride, 1, padding)
    x_pad = np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=-np.inf)
    windows = np.stack([x_pad[:, t * stride : t * stride + pool_size, :] for t in range(n_out)], 1)
    arg = windows.argmax(axis=2)  # first maximum, as PyTorch and Keras
    y = np.take_along_axis(windows, arg[:, :, None, :], axis=2)[:, :, 0, :]
    return y, dict(arg=arg, shape=x.shape, stride=stride, left=left, right=right)


def max_pool_backward(cache, dy):
    """Gradient of :func:`max_pool_forward`: ``dy`` routed to each window's first argmax."""
    batch, n_steps, channels = cache["shape"]
    left = cache["left"]
    dx_pad = np.zeros((batch, left + n_steps + cache["right"], channels), dtype=dy.dtype)
    b_idx, c_idx = np.meshgrid(np.arange(batch), np.arange(channels), indexing="ij")
    for t in range(dy.shape[1]):
        np.add.at(dx_pad, (b_idx, t * cache["stride"] + cache["arg"][:, t, :], c_idx), dy[:, t, :])
    return dx_pad[:, left : left + n_steps, :]


def average_pool_forward(x, pool_size, stride):
    """Average pooling over time. Returns ``(y, cache)``."""
    n_out = pool_output_length(x.shape[1], pool_size, stride)
    y = np.stack(
        [x[:, t * stride : t * stride + pool_size, :].mean(axis=1) for t in range(n_out)], axis=1
    )
    return y, dict(shape=x.shape, pool_size=pool_size, stride=stride)


def average_pool_backward(cache, dy):
    """Gradient of :func:`average_pool_forward`: ``dy / pool_size`` over each window."""
    dx = np.zeros(cache["shape"], dtype=dy.dtype)
    p, s = cache["pool_size"], cache["stride"]
    for t in range(dy.shape[1]):
        dx[:, t * s : t * s + p, :] += dy[:, t : t + 1, :] / p
    return dx


def global_average_pool_forward(x, mask=None):
    """Mean over the real steps (all steps when ``mask`` is None); mask is (batch, n_steps)."""
    m = np.ones(x.shape[:2], dtype=x.dtype) if mask is None else mask.astype(x.dtype)
    count = m.sum(axis=1, keepdims=True)
    return (x * m[:, :, None]).sum(axis=1) / count, dict(m=m, count=count)


def global_average_pool_backward(cache, dy):
    """Gradient of :func:`global_average_pool_forward`: ``dy / count`` on the real steps."""
    return cache["m"][:, :, None] * (dy / cache["count"])[:, None, :]


def global_max_pool_forward(x, mask=None):
    """Max over the real steps (all when ``mask`` is None). Returns ``(y, cache)``."""
    xm = x if mask is None else np.where(mask[:, :, None], x, -np.inf)
    arg = xm.argmax(axis=1)
    y = np.take_along_axis(x, arg[:, None, :], axis=1)[:, 0, :]
    return y, dict(arg=arg, shape=x.shape)


def global_max_pool_backward(cache, dy):
    """Gradient of :func:`global_max_pool_forward`: ``dy`` to each channel's argmax step."""
    dx = np.zeros(cache["shape"], dtype=dy.dtype)
    np.put_along_axis(dx, cache["arg"][:, None, :], dy[:, None, :], axis=1)
    return dx
