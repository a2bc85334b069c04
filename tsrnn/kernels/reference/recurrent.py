"""Reference forward and backward passes of the recurrent cells, in plain NumPy.

This module is the specification. It loops over time, is vectorised over the
batch, and mirrors the equations line by line; it is used by the tests as the
oracle and is never on the fast path. It shares no code with the Numba kernels.

Conventions (shared with every backend)
---------------------------------------
* Layout is time-major: ``x`` is ``(n_steps, batch, n_features)``.
* Weights act on the right: a gate pre-activation is ``x_t @ W_x + h_{t-1} @ W_h + b``,
  with ``W_x`` of shape ``(n_features, G * hidden_size)`` and ``W_h`` of shape
  ``(hidden_size, G * hidden_size)``; the ``G`` gate blocks are concatenated
  along the last axis in the documented gate order.
* LSTM gate order is (i, f, g, o), where g is the candidate C~; GRU gate order is
  (r, z, n), where n is the candidate h~. This is PyTorch's order.
* ``mask[t, b]`` is False on padding. At a masked step the state is carried
  through unchanged (``h_t = h_{t-1}``, ``C_t = C_{t-1}``), the output at that
  step is the carried state (Keras' convention), and the step contributes no
  gradient to the weights.
* ``rmask`` (optional, ``(batch, hidden_size)``) is a variational recurrent-dropout
  mask, already scaled by 1 / (1 - p): the recurrent matrix product reads
  ``h_{t-1} * rmask`` (the same mask at every step, Gal & Ghahramani 2016), while the
  state carried from step to step is not dropped.
* ``reverse=True`` runs the recurrence from the last step to the first (the
  backward half of a bidirectional layer); outputs stay aligned with the input
  steps.

Equations
---------
Simple RNN (Elman)::

    h_t = act(x_t W_x + h_{t-1} W_h + b),   act = tanh (default) or relu

LSTM::

    i_t = sigma(x_t W_xi + h_{t-1} W_hi + b_i)
    f_t = sigma(x_t W_xf + h_{t-1} W_hf + b_f)
    g_t = act  (x_t W_xg + h_{t-1} W_hg + b_g)        (C~_t)
    o_t = sigma(x_t W_xo + h_{t-1} W_ho + b_o)
    C_t = f_t * C_{t-1} + i_t * g_t
    h_t = o_t * act(C_t)

    act = tanh (default) or relu (Keras' ``LSTM(activation='relu')``)

GRU, "reset after" (PyTorch, Keras' default ``reset_after=True``)::

    r_t = sigma(x_t W_xr + h_{t-1} W_hr + b_r)
    z_t = sigma(x_t W_xz + h_{t-1} W_hz + b_z)
    n_t = tanh (x_t W_xn + b_n + r_t * (h_{t-1} W_hn + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

GRU, original formulation ("reset before"; Cho et al. 2014)::

    r_t = sigma(x_t W_xr + h_{t-1} W_hr + b_r)
    z_t = sigma(x_t W_xz + h_{t-1} W_hz + b_z)
    n_t = tanh (x_t W_xn + (r_t * h_{t-1}) W_hn + b_n)     (h~_t)
    h_t = (1 - z_t) * h_{t-1} + z_t * n_t

Note the two GRU update conventions: in the original formulation z weights the
candidate; in the reset-after (PyTorch) formulation z weights h_{t-1}. Keras'
``reset_after=False`` GRU uses PyTorch's convention, so importing it into the
original variant negates z's weights and bias (sigma(-a) = 1 - sigma(a)).
"""

import numpy as np


def sigmoid(a):
    """Logistic function, computed without overflow for large |a|."""
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _step_order(n_steps, reverse):
    return range(n_steps - 1, -1, -1) if reverse else range(n_steps)


def _dropped(h, rmask):
    """The recurrent input h_{t-1} * rmask (h itself when there is no dropout)."""
    return h if rmask is None else h * rmask


def _full_mask(x, mask):
    if mask is None:
        return np.ones(x.shape[:2], dtype=bool)
    return np.asarray(mask, dtype=bool)


# ------------------------------------------------------------------------------------
# Simple RNN
# ------------------------------------------------------------------------------------


def rnn_forward(x, h0, W_x, W_h, b, activation="tanh", mask=None, reverse=False, rmask=None):
    """Elman RNN forward pass.

    Returns
    -------
    h_seq : ndarray (n_steps, batch, hidden_size)
        Output at every step.
    h_n : ndarray (batch, hidden_size)
        Final state.
    cache : dict
        What :func:`rnn_backward` needs.
    """
    mask = _full_mask(x, mask)
    n_steps = x.shape[0]
    h_seq = np.zeros((n_steps,) + h0.shape, dtype=x.dtype)
    h_prev_seq = np.zeros_like(h_seq)
    h = h0.copy()
    for t in _step_order(n_steps, reverse):
        a = x[t] @ W_x + _dropped(h, rmask) @ W_h + b
        h_new = np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)
        m = mask[t][:, None]
        h_prev_seq[t] = h
        h = np.where(m, h_new, h)
        h_seq[t] = h
    cache = dict(x=x, h_seq=h_seq, h_prev_seq=h_prev_seq, W_x=W_x, W_h=W_h)
    cache.update(mask=mask, reverse=reverse, activation=activation, rmask=rmask)
    return h_seq, h, cache


def rnn_backward(cache, dh_seq, dh_n):
    """Backpropagation through time for :func:`rnn_forward`.

    ``dh_seq`` is dL/dh_seq and ``dh_n`` is dL/dh_n. Returns a dict with the
    gradients of ``x``, ``h0``, ``W_x``, ``W_h`` and ``b``.
    """
    x, h_seq, h_prev_seq = cache["x"], cache["h_seq"], cache["h_prev_seq"]
    W_x, W_h, mask, rmask = cache["W_x"], cache["W_h"], cache["mask"], cache["rmask"]
    grads = dict(x=np.zeros_like(x), W_x=np.zeros_like(W_x), W_h=np.zeros_like(W_h))
    grads["b"] = np.zeros(W_h.shape[1], dtype=x.dtype)
    dh = dh_n.copy()
    for t in _step_order(x.shape[0], not cache["reverse"]):
        dh = dh + dh_seq[t]
        m = mask[t][:, None]
        h = h_seq[t]
        if cache["activation"] == "tanh":
            da = dh * (1.0 - h**2)
        else:
            da = dh * (h > 0)
        da = np.where(m, da, 0.0)
        grads["x"][t] = da @ W_x.T
        grads["W_x"] += x[t].T @ da
        grads["W_h"] += _dropped(h_prev_seq[t], rmask).T @ da
        grads["b"] += da.sum(axis=0)
        dh = np.where(m, _dropped(da @ W_h.T, rmask), dh)
    grads["h0"] = dh
    return grads


# ------------------------------------------------------------------------------------
# LSTM
# ------------------------------------------------------------------------------------


def _act(a, activation):
    return np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)


def _dact(y, activation):
    """Derivative of the activation from its output y."""
    return 1.0 - y**2 if activation == "tanh" else (y > 0).astype(y.dtype)


def lstm_forward(x, h0, c0, W_x, W_h, b, mask=None, reverse=False, rmask=None, activation="tanh"):
    """LSTM forward pass (gate order i, f, g, o).

    Returns ``(h_seq, h_n, c_n, cache)``.
    """
    mask = _full_mask(x, mask)
    n_steps, H = x.shape[0], h0.shape[1]
    h_seq = np.zeros((n_steps,) + h0.shape, dtype=x.dtype)
    steps = {}
    h, c = h0.copy(), c0.copy()
    for t in _step_order(n_steps, reverse):
        a = x[t] @ W_x + _dropped(h, rmask) @ W_h + b
        i = sigmoid(a[:, 0 * H : 1 * H])
        f = sigmoid(a[:, 1 * H : 2 * H])
        g = _act(a[:, 2 * H : 3 * H], activation)
        o = sigmoid(a[:, 3 * H : 4 * H])
        c_new = f * c + i * g
        h_new = o * _act(c_new, activation)
        steps[t] = dict(i=i, f=f, g=g, o=o, c=c_new, h_prev=h, c_prev=c)
        m = mask[t][:, None]
        h = np.where(m, h_new, h)
        c = np.where(m, c_new, c)
        h_seq[t] = h
    cache = dict(x=x, steps=steps, W_x=W_x, W_h=W_h, mask=mask, reverse=reverse, rmask=rmask)
    cache["activation"] = activation
    return h_seq, h, c, cache


def lstm_backward(cache, dh_seq, dh_n, dc_n):
    """BPTT for :func:`lstm_forward`. Returns gradients of x, h0, c0, W_x, W_h, b."""
    x, steps, W_x, W_h, mask = (cache[k] for k in ("x", "steps", "W_x", "W_h", "mask"))
    grads = dict(x=np.zeros_like(x), W_x=np.zeros_like(W_x), W_h=np.zeros_like(W_h))
    grads["b"] = np.zeros(W_h.shape[1], dtype=x.dtype)
    dh, dc = dh_n.copy(), dc_n.copy()
    for t in _step_order(x.shape[0], not cache["reverse"]):
        s = steps[t]
        m = mask[t][:, None]
        dh = dh + dh_seq[t]
        act = cache["activation"]
        act_c = _act(s["c"], act)
        do = dh * act_c
        dc_t = dc + dh * s["o"] * _dact(act_c, act)
        di = dc_t * s["g"]
        dg = dc_t * s["i"]
        df = dc_t * s["c_prev"]
        da = np.concatenate(
            [
                di * s["i"] * (1.0 - s["i"]),
                df * s["f"] * (1.0 - s["f"]),
                dg * _dact(s["g"], act),
                do * s["o"] * (1.0 - s["o"]),
            ],
            axis=1,
        )
        da = np.where(m, da, 0.0)
        grads["x"][t] = da @ W_x.T
        grads["W_x"] += x[t].T @ da
        grads["W_h"] += _dropped(s["h_prev"], cache["rmask"]).T @ da
        grads["b"] += da.sum(axis=0)
        dh = np.where(m, _dropped(da @ W_h.T, cache["rmask"]), dh)
        dc = np.where(m, dc_t * s["f"], dc)
    grads["h0"], grads["c0"] = dh, dc
    return grads


# ------------------------------------------------------------------------------------
# GRU
# ------------------------------------------------------------------------------------


def gru_forward(
    x, h0, W_x, W_h, b, b_hn=None, reset_after=True, mask=None, reverse=False, rmask=None
):
    """GRU forward pass (gate order r, z, n), either formulation.

    ``b_hn`` (the recurrent bias of the candidate) exists only when
    ``reset_after`` is True. Returns ``(h_seq, h_n, cache)``.
    """
    mask = _full_mask(x, mask)
    n_steps, H = x.shape[0], h0.shape[1]
    h_seq = np.zeros((n_steps,) + h0.shape, dtype=x.dtype)
    steps = {}
    h = h0.copy()
    for t in _step_order(n_steps, reverse):
        ax = x[t] @ W_x + b
        hd = _dropped(h, rmask)
        if reset_after:
            ah = hd @ W_h
            r = sigmoid(ax[:, :H] + ah[:, :H])
            z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
            hn = ah[:, 2 * H :] + b_hn
            n = np.tanh(ax[:, 2 * H :] + r * hn)
            h_new = (1.0 - z) * n + z * h
            steps[t] = dict(r=r, z=z, n=n, hn=hn, h_prev=h)
        else:
            ah = hd @ W_h[:, : 2 * H]
            r = sigmoid(ax[:, :H] + ah[:, :H])
            z = sigmoid(ax[:, H : 2 * H] + ah[:, H:])
            rh = r * hd
            n = np.tanh(ax[:, 2 * H :] + rh @ W_h[:, 2 * H :])
            h_new = (1.0 - z) * h + z * n
            steps[t] = dict(r=r, z=z, n=n, rh=rh, h_prev=h)
        h = np.where(mask[t][:, None], h_new, h)
        h_seq[t] = h
    cache = dict(x=x, steps=steps, W_x=W_x, W_h=W_h, mask=mask, reverse=reverse, rmask=rmask)
    cache["reset_after"] = reset_after
    return h_seq, h, cache


def gru_backward(cache, dh_seq, dh_n):
    """BPTT for :func:`gru_forward`. Returns gradients of x, h0, W_x, W_h, b (and b_hn)."""
    x, steps, W_x, W_h, mask = (cache[k] for k in ("x", "steps", "W_x", "W_h", "mask"))
    H, rmask = W_h.shape[0], cache["rmask"]
    reset_after = cache["reset_after"]
    grads = dict(x=np.zeros_like(x), W_x=np.zeros_like(W_x), W_h=np.zeros_like(W_h))
    grads["b"] = np.zeros(W_h.shape[1], dtype=x.dtype)
    if reset_after:
        grads["b_hn"] = np.zeros(H, dtype=x.dtype)
    dh = dh_n.copy()
    for t in _step_order(x.shape[0], not cache["reverse"]):
        s = steps[t]
        m = mask[t][:, None]
        dh = dh + dh_seq[t]
        r, z, n, h_prev = s["r"], s["z"], s["n"], s["h_prev"]
        if reset_after:
            dn = dh * (1.0 - z)
            dz = dh * (h_prev - n)
            dh_prev = dh * z
            dan = dn * (1.0 - n**2)
            dhn = dan * r
            dr = dan * s["hn"]
            dar = dr * r * (1.0 - r)
            daz = dz * z * (1.0 - z)
            dax = np.where(m, np.concatenate([dar, daz, dan], axis=1), 0.0)
            dah = np.where(m, np.concatenate([dar, daz, dhn], axis=1), 0.0)
            grads["W_h"] += _dropped(h_prev, rmask).T @ dah
            grads["b_hn"] += dah[:, 2 * H :].sum(axis=0)
            dh_prev = dh_prev + _dropped(dah @ W_h.T, rmask)
        else:
            dn = dh * z
            dz = dh * (n - h_prev)
            dh_prev = dh * (1.0 - z)
            dan = np.where(m, dn * (1.0 - n**2), 0.0)
            drh = dan @ W_h[:, 2 * H :].T
            dr = drh * _dropped(h_prev, rmask)
            dh_prev = dh_prev + _dropped(drh * r, rmask)
            dar = dr * r * (1.0 - r)
            daz = dz * z * (1.0 - z)
            darz = np.where(m, np.concatenate([dar, daz], axis=1), 0.0)
            dax = np.concatenate([darz, dan], axis=1)
            grads["W_h"][:, : 2 * H] += _dropped(h_prev, rmask).T @ darz
            grads["W_h"][:, 2 * H :] += s["rh"].T @ dan
            dh_prev = dh_prev + _dropped(darz @ W_h[:, : 2 * H].T, rmask)
        grads["x"][t] = dax @ W_x.T
        grads["W_x"] += x[t].T @ dax
        grads["b"] += dax.sum(axis=0)
        dh = np.where(m, dh_prev, dh)
    grads["h0"] = dh
    return grads
