"""One direction of one recurrent layer through the NumPy reference, for any cell.

The single place that maps a cell name and variant onto the reference's
per-cell functions, so that the tests and the ``tsrnn check`` command compare the
kernels with the spec the same way.
"""

import numpy as np

from tsrnn.kernels.reference import recurrent as ref

CELLS = ("rnn", "lstm", "gru")


def reference_direction(
    cell,
    params,
    x,
    h0,
    c0=None,
    *,
    mask=None,
    reverse=False,
    rmask=None,
    activation="tanh",
    reset_after=True,
):
    """Forward pass of one cell over a sequence, and the function of its backward pass.

    Parameters
    ----------
    cell : {'rnn', 'lstm', 'gru'}
        Cell type; ``reset_after`` picks the GRU formulation.
    params : mapping
        ``W_x``, ``W_h``, ``b`` (and ``b_hn`` for the reset-after GRU) of one direction.
    x : ndarray of shape (n_steps, batch, n_features)
        Time-major input.
    h0 : ndarray of shape (batch, hidden_size)
        Initial state.
    c0 : ndarray of shape (batch, hidden_size), optional
        Initial cell state of the LSTM (required for it, ignored otherwise).
    mask : ndarray of shape (n_steps, batch), optional
        False marks padding.
    reverse : bool, default=False
        Run from the last step to the first.
    rmask : ndarray of shape (batch, hidden_size), optional
        Recurrent-dropout mask, already scaled.
    activation : {'tanh', 'relu'}, default='tanh'
        Of the simple RNN and the LSTM.
    reset_after : bool, default=True
        GRU formulation.

    Returns
    -------
    outputs : dict
        ``h_seq``, ``h_n`` and, for the LSTM, ``c_n``.
    backward : callable ``(dh_seq, dh_n=None, dc_n=None) -> dict``
        Backpropagation through this pass: from dL/dh_seq, dL/dh_n and (LSTM)
        dL/dc_n (zeros if omitted) to the gradients with respect to ``x``, ``h0``
        (``c0``) and every parameter, keyed by those names. A stack calls it after
        the layers above have given it ``dh_seq``.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}")
    W = (params["W_x"], params["W_h"], params["b"])
    common = dict(mask=mask, reverse=reverse, rmask=rmask)
    if cell == "lstm":
        h_seq, h_n, c_n, cache = ref.lstm_forward(x, h0, c0, *W, activation=activation, **common)
        outputs = dict(h_seq=h_seq, h_n=h_n, c_n=c_n)
    elif cell == "gru":
        b_hn = params["b_hn"] if reset_after else None
        h_seq, h_n, cache = ref.gru_forward(x, h0, *W, b_hn, reset_after, **common)
        outputs = dict(h_seq=h_seq, h_n=h_n)
    else:
        h_seq, h_n, cache = ref.rnn_forward(x, h0, *W, activation, **common)
        outputs = dict(h_seq=h_seq, h_n=h_n)

    def backward(dh_seq, dh_n=None, dc_n=None):
        zeros = np.zeros_like(h_n)
        dh_n = zeros if dh_n is None else dh_n
        if cell == "lstm":
            return ref.lstm_backward(cache, dh_seq, dh_n, zeros if dc_n is None else dc_n)
        if cell == "gru":
            return ref.gru_backward(cache, dh_seq, dh_n)
        return ref.rnn_backward(cache, dh_seq, dh_n)

    return outputs, backward
