"""Output lengths of convolution and pooling over time.

Shape arithmetic shared by the layers (which size their outputs) and the NumPy
reference (which defines the operations): it is convention, not math under test,
and is checked against PyTorch in ``tests/layers/test_layers_torch.py``.
"""


def conv_padding(n_steps, kernel_size, stride, dilation, padding):
    """Return ``(pad_left, pad_right, n_out)`` for a padding mode.

    'valid' pads nothing; 'causal' pads ``dilation * (kernel_size - 1)`` on the left
    so that output t sees only inputs up to t; 'same' gives ``ceil(n_steps / stride)``
    outputs, splitting the padding with the extra step on the right (as Keras and
    PyTorch do).

    Parameters
    ----------
    n_steps : int
        Input length.
    kernel_size, stride, dilation : int
        The convolution's geometry.
    padding : {'valid', 'causal', 'same'}
        Padding mode.

    Returns
    -------
    pad_left, pad_right, n_out : int
    """
    span = dilation * (kernel_size - 1) + 1
    if padding == "valid":
        left = right = 0
    elif padding == "causal":
        left, right = span - 1, 0
    elif padding == "same":
        n_out = -(-n_steps // stride)
        total = max((n_out - 1) * stride + span - n_steps, 0)
        left, right = total // 2, total - total // 2
    else:
        raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")
    n_out = (n_steps + left + right - span) // stride + 1
    return left, right, max(n_out, 0)


def pool_output_length(n_steps, pool_size, stride):
    """Number of windows of 'valid' pooling: ``(n_steps - pool_size) // stride + 1``.

    Parameters
    ----------
    n_steps, pool_size, stride : int

    Returns
    -------
    int
        Zero when the input is shorter than one window.
    """
    return max((n_steps - pool_size) // stride + 1, 0)
