"""Forward and backpropagation-through-time kernels of the recurrent cells (CPU).

One direction of one layer per call; stacking and bidirectionality are composed
by :class:`tsrnn.layers.Recurrent`. Conventions (time-major layout, right-acting
weights, gate order, masking, ``reverse``) are documented once in
:mod:`tsrnn.kernels.reference.recurrent` and are the same here. Every cell's
kernels take one argument order, set by its spec in :mod:`tsrnn.kernels.cells`;
the per-unit gradient formulas are written once, for both devices, in
:mod:`tsrnn.kernels.formulas`.

Structure of every kernel:

1. the input projection of all steps is one GEMM, ``(T*B, F) @ (F, G*H)``;
2. each step does one recurrent GEMM ``(B, H) @ (H, G*H)`` (two for the
   reset-before GRU, whose candidate needs ``r * h`` first);
3. gate nonlinearities and the state update are fused in one loop over the batch,
   written with ``prange`` but compiled serially (``PARALLEL_JIT_OPTIONS`` in
   :mod:`tsrnn._config` explains why), so the matrix products keep BLAS' threads
   (the estimators train with one BLAS thread, :mod:`tsrnn._threads`, and predict
   with BLAS' own);
4. backward accumulates the per-step pre-activation gradients ``da`` and forms
   the weight gradients after the time loop as three large GEMMs.

Kernels assume validated, C-contiguous arrays of one float dtype and write into
the preallocated outputs and workspaces they are given; they allocate nothing
inside the time loop. ``rmask`` is the recurrent-dropout mask ``(batch, hidden)``
(already scaled by 1 / (1 - p)), or an empty ``(0, hidden)`` array for none.
``h_state`` (and ``c_state``) hold the initial state on
entry and the final state on return; in backward, ``dh_state`` (``dc_state``)
hold dL/dh_n on entry and dL/dh0 on return.
"""

import numpy as np
from numba import njit, prange

from tsrnn._config import JIT_OPTIONS, PARALLEL_JIT_OPTIONS
from tsrnn.kernels.cpu._scalar import (
    gru_candidate_preactivation,
    gru_cell_gradient,
    gru_reset_before_update_gradient,
    gru_state_update,
    lstm_cell_gradient,
    sigmoid_gate_gradient,
)
from tsrnn.kernels.scalar import TANH, drelu, dtanh, relu, sigmoid, tanh

# ------------------------------------------------------------------------------------
# Helpers shared by every cell
# ------------------------------------------------------------------------------------


@njit(**JIT_OPTIONS)
def _previous_states(h_seq, h0, reverse, out):
    """Write into ``out[t]`` the state each step started from (h0 for the first step)."""
    n_steps, batch, hidden = h_seq.shape
    # Element loops, not ``out[t] = h_seq[src]``: an array assignment makes Numba
    # compile its shape-mismatch error message, which slows a cold-cache fit.
    for t in range(n_steps):
        src = t + 1 if reverse else t - 1
        from_seq = 0 <= src < n_steps
        for bi in range(batch):
            for j in range(hidden):
                out[t, bi, j] = h_seq[src, bi, j] if from_seq else h0[bi, j]


@njit(**JIT_OPTIONS)
def _dropped_state(h_state, rmask, work):
    """The recurrent GEMM's input: ``h_state * rmask`` in ``work``, or ``h_state``."""
    if rmask.shape[0] == 0:
        return h_state
    for bi in range(h_state.shape[0]):
        for j in range(h_state.shape[1]):
            work[bi, j] = h_state[bi, j] * rmask[bi, j]
    return work


@njit(**JIT_OPTIONS)
def _drop_in_place(a, rmask):
    """Multiply ``a`` (batch, hidden) or (steps, batch, hidden) by ``rmask`` if present."""
    if rmask.shape[0] == 0:
        return
    flat = a.reshape(-1, rmask.shape[0], rmask.shape[1])
    for t in range(flat.shape[0]):
        for bi in range(rmask.shape[0]):
            for j in range(rmask.shape[1]):
                flat[t, bi, j] *= rmask[bi, j]


@njit(**JIT_OPTIONS)
def input_gradients(x, da_seq, W_x, dx, dW_x, db):
    """Dx = da W_x^T, dW_x = x^T da, db = sum(da) over all steps and samples."""
    n_steps, batch, n_features = x.shape
    width = da_seq.shape[2]
    x2 = x.reshape(n_steps * batch, n_features)
    da2 = da_seq.reshape(n_steps * batch, width)
    np.dot(da2, W_x.T, dx.reshape(n_steps * batch, n_features))
    np.dot(x2.T, da2, dW_x)
    db[:] = 0
    for row in range(n_steps * batch):
        for k in range(width):
            db[k] += da2[row, k]


@njit(**JIT_OPTIONS)
def _sigmoid_in_place(v):
    """``v = sigmoid(v)`` over a 1-D contiguous slice."""
    for k in range(v.shape[0]):
        v[k] = sigmoid(v[k])


@njit(**JIT_OPTIONS)
def _activate_in_place(v, activation):
    """``v = tanh(v)`` (or relu) over a 1-D contiguous slice."""
    if activation == TANH:
        for k in range(v.shape[0]):
            v[k] = tanh(v[k])
    else:
        for k in range(v.shape[0]):
            v[k] = relu(v[k])


@njit(**JIT_OPTIONS)
def _slope_into(y, activation, out):
    """``out = act'(a)`` from the outputs ``y = act(a)`` (tanh or relu), 1-D slices."""
    if activation == TANH:
        for k in range(y.shape[0]):
            out[k] = dtanh(y[k])
    else:
        for k in range(y.shape[0]):
            out[k] = drelu(y[k])


@njit(**JIT_OPTIONS)
def _copy_flat(src, dst):
    """``dst[...] = src`` for C-contiguous arrays of the same size, as one flat loop."""
    s1, d1 = src.reshape(-1), dst.reshape(-1)
    for k in range(s1.shape[0]):
        d1[k] = s1[k]


@njit(**JIT_OPTIONS)
def _project_inputs(x, W_x, out):
    n_steps, batch, n_features = x.shape
    np.dot(x.reshape(n_steps * batch, n_features), W_x, out.reshape(n_steps * batch, out.shape[2]))


@njit(**JIT_OPTIONS)
def _weight_gradients(
    x, h_seq, h0, reverse, rmask, W_x, da_seq, dah_seq, h_prev_seq, dx, dW_x, dW_h, db
):
    """The weight gradients and dx, after the time loop.

    First dW_h from the (dropped) previous states, then the input gradients.
    ``dah_seq`` is the recurrent pre-activation gradient (da_seq but for the GRU).
    """
    _recurrent_weight_gradient(h_seq, h0, reverse, rmask, dah_seq, h_prev_seq, dW_h)
    input_gradients(x, da_seq, W_x, dx, dW_x, db)


@njit(**JIT_OPTIONS)
def _recurrent_weight_gradient(h_seq, h0, reverse, rmask, dah_seq, h_prev_seq, dW_h):
    """dW_h = sum over steps of (h_{t-1} * rmask)^T dah_t, one GEMM."""
    n_steps, batch, H = h_seq.shape
    _previous_states(h_seq, h0, reverse, h_prev_seq)
    _drop_in_place(h_prev_seq, rmask)
    rows = n_steps * batch
    np.dot(h_prev_seq.reshape(rows, H).T, dah_seq.reshape(rows, dah_seq.shape[2]), dW_h)


# ------------------------------------------------------------------------------------
# Simple RNN
# ------------------------------------------------------------------------------------


@njit(**PARALLEL_JIT_OPTIONS)
def rnn_forward(x, mask, W_x, W_h, b, rmask, activation, reverse, h_state, h_seq, h_proj):
    """Elman RNN forward. ``h_seq`` (T, B, H) first receives the input projection."""
    n_steps, batch, _ = x.shape
    hidden = W_h.shape[0]
    h_work = np.empty_like(h_state)
    _project_inputs(x, W_x, h_seq)
    for s in range(n_steps):
        t = n_steps - 1 - s if reverse else s
        np.dot(_dropped_state(h_state, rmask, h_work), W_h, h_proj)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(hidden):
                    a = h_seq[t, bi, j] + h_proj[bi, j] + b[j]
                    y = tanh(a) if activation == TANH else relu(a)
                    h_state[bi, j] = y
                    h_seq[t, bi, j] = y
            else:
                for j in range(hidden):
                    h_seq[t, bi, j] = h_state[bi, j]


@njit(**PARALLEL_JIT_OPTIONS)
def rnn_backward(
    x,
    mask,
    W_x,
    W_h,
    rmask,
    activation,
    reverse,
    h0,
    h_seq,
    dh_seq,
    dh_state,
    dx,
    dW_x,
    dW_h,
    db,
    da_seq,
    h_prev_seq,
    dh_proj,
):
    """BPTT for :func:`rnn_forward`."""
    n_steps, batch, _ = x.shape
    hidden = W_h.shape[0]
    for s in range(n_steps):
        t = s if reverse else n_steps - 1 - s
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(hidden):
                    g = dh_state[bi, j] + dh_seq[t, bi, j]
                    y = h_seq[t, bi, j]
                    da_seq[t, bi, j] = g * (dtanh(y) if activation == TANH else drelu(y))
            else:
                for j in range(hidden):
                    dh_state[bi, j] += dh_seq[t, bi, j]
                    da_seq[t, bi, j] = 0
        np.dot(da_seq[t], W_h.T, dh_proj)
        _drop_in_place(dh_proj, rmask)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(hidden):
                    dh_state[bi, j] = dh_proj[bi, j]
    _weight_gradients(
        x, h_seq, h0, reverse, rmask, W_x, da_seq, da_seq, h_prev_seq, dx, dW_x, dW_h, db
    )


# ------------------------------------------------------------------------------------
# LSTM (gate order i, f, g, o)
# ------------------------------------------------------------------------------------


@njit(**PARALLEL_JIT_OPTIONS)
def lstm_forward(
    x,
    mask,
    W_x,
    W_h,
    b,
    rmask,
    activation,
    reverse,
    h_state,
    c_state,
    h_seq,
    c_seq,
    gates,
    h_proj,
):
    """LSTM forward. ``gates`` (T, B, 4H) receives the input projection, then i, f, g, o."""
    n_steps, batch, _ = x.shape
    H = W_h.shape[0]
    h_work = np.empty_like(h_state)
    _project_inputs(x, W_x, gates)
    for s in range(n_steps):
        t = n_steps - 1 - s if reverse else s
        np.dot(_dropped_state(h_state, rmask, h_work), W_h, h_proj)
        for bi in prange(batch):
            if mask[t, bi]:
                # Simple same-index loops (not one fused loop that reads gates[H + j] while
                # writing gates[j]) and nonlinearities on 1-D slices: LLVM vectorises both.
                # Pre-activations and gates in place in ``gates`` (the cache backward
                # reads): no copy of the row at the end.
                a, p = gates[t, bi], h_proj[bi]
                for k in range(4 * H):
                    a[k] = p[k] + (a[k] + b[k])
                _sigmoid_in_place(a[: 2 * H])
                _sigmoid_in_place(a[3 * H :])
                _activate_in_place(a[2 * H : 3 * H], activation)
                c_row, h_row = c_state[bi], h_state[bi]
                for j in range(H):
                    c_row[j] = a[H + j] * c_row[j] + a[j] * a[2 * H + j]
                    h_row[j] = c_row[j]
                _activate_in_place(h_row, activation)
                for j in range(H):
                    h_row[j] *= a[3 * H + j]
                for j in range(H):
                    c_seq[t, bi, j] = c_row[j]
                    h_seq[t, bi, j] = h_row[j]
            else:
                for j in range(H):
                    c_seq[t, bi, j] = c_state[bi, j]
                    h_seq[t, bi, j] = h_state[bi, j]


@njit(**PARALLEL_JIT_OPTIONS)
def lstm_backward(
    x,
    mask,
    W_x,
    W_h,
    rmask,
    activation,
    reverse,
    h0,
    c0,
    h_seq,
    c_seq,
    gates,
    dh_seq,
    dh_state,
    dc_state,
    dx,
    dW_x,
    dW_h,
    db,
    da_seq,
    h_prev_seq,
    dh_proj,
):
    """BPTT for :func:`lstm_forward`."""
    n_steps, batch, _ = x.shape
    H = W_h.shape[0]
    act_c = np.empty((batch, H), dtype=x.dtype)  # act(c_t), act'(c_t), act'(g) of the step
    dact_c = np.empty((batch, H), dtype=x.dtype)
    dact_g = np.empty((batch, H), dtype=x.dtype)
    for s in range(n_steps):
        t = s if reverse else n_steps - 1 - s
        tp = t + 1 if reverse else t - 1  # the step processed just before t
        c_prev = c0 if s == n_steps - 1 else c_seq[tp]
        g_t, da_t, dy_t = gates[t], da_seq[t], dh_seq[t]
        # Whole-step passes and direct 2-D indexing: per-row views and helper calls cost
        # a quarter of the row. Activations in their own loops: the j loop below then
        # vectorises.
        _copy_flat(c_seq[t], act_c)
        _activate_in_place(act_c.reshape(-1), activation)
        _slope_into(act_c.reshape(-1), activation, dact_c.reshape(-1))
        for bi in range(batch):
            _slope_into(g_t[bi, 2 * H : 3 * H], activation, dact_g[bi])
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    dh = dh_state[bi, j] + dy_t[bi, j]
                    i, f = g_t[bi, j], g_t[bi, H + j]
                    g, o = g_t[bi, 2 * H + j], g_t[bi, 3 * H + j]
                    ac, dac, dag = act_c[bi, j], dact_c[bi, j], dact_g[bi, j]
                    da_i, da_f, da_g, da_o, dc_state[bi, j] = lstm_cell_gradient(
                        dh, dc_state[bi, j], i, f, g, o, c_prev[bi, j], ac, dac, dag
                    )
                    da_t[bi, j] = da_i
                    da_t[bi, H + j] = da_f
                    da_t[bi, 2 * H + j] = da_g
                    da_t[bi, 3 * H + j] = da_o
            else:
                for j in range(H):
                    dh_state[bi, j] += dy_t[bi, j]
                for k in range(4 * H):
                    da_t[bi, k] = 0
        np.dot(da_t, W_h.T, dh_proj)
        _drop_in_place(dh_proj, rmask)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    dh_state[bi, j] = dh_proj[bi, j]
    _weight_gradients(
        x, h_seq, h0, reverse, rmask, W_x, da_seq, da_seq, h_prev_seq, dx, dW_x, dW_h, db
    )


# ------------------------------------------------------------------------------------
# GRU, reset after (PyTorch; gate order r, z, n)
# ------------------------------------------------------------------------------------


@njit(**PARALLEL_JIT_OPTIONS)
def gru_forward(
    x, mask, W_x, W_h, b, b_hn, rmask, activation, reverse, h_state, h_seq, gates, hn_seq, h_proj
):
    """GRU (reset after) forward.

    ``gates`` (T, B, 3H) ends holding r, z, n;
    ``hn_seq`` (T, B, H) holds the recurrent candidate projection W_hn h + b_hn.
    ``activation`` is unused (the GRU's is tanh): it keeps the cells' argument order.
    """
    n_steps, batch, _ = x.shape
    H = W_h.shape[0]
    h_work = np.empty_like(h_state)
    _project_inputs(x, W_x, gates)
    for s in range(n_steps):
        t = n_steps - 1 - s if reverse else s
        np.dot(_dropped_state(h_state, rmask, h_work), W_h, h_proj)
        for bi in prange(batch):
            if mask[t, bi]:
                # Same-index loops and slice helpers that LLVM vectorises (see
                # lstm_forward).
                a, g = h_proj[bi], gates[t, bi]
                for k in range(2 * H):
                    a[k] = a[k] + g[k] + b[k]
                _sigmoid_in_place(a[: 2 * H])  # r, z
                for j in range(H):
                    hn = a[2 * H + j] + b_hn[j]
                    hn_seq[t, bi, j] = hn
                    x_n, b_n = g[2 * H + j], b[2 * H + j]
                    g[2 * H + j] = gru_candidate_preactivation(x_n, b_n, a[j], hn)
                _activate_in_place(g[2 * H :], TANH)
                h_row = h_state[bi]
                for j in range(H):
                    h_row[j] = gru_state_update(gates[t, bi, 2 * H + j], a[H + j], h_row[j])
                    h_seq[t, bi, j] = h_row[j]
                for k in range(2 * H):
                    gates[t, bi, k] = a[k]
            else:
                for j in range(H):
                    h_seq[t, bi, j] = h_state[bi, j]


@njit(**PARALLEL_JIT_OPTIONS)
def gru_backward(
    x,
    mask,
    W_x,
    W_h,
    rmask,
    activation,
    reverse,
    h0,
    h_seq,
    gates,
    hn_seq,
    dh_seq,
    dh_state,
    dx,
    dW_x,
    dW_h,
    db,
    db_hn,
    da_seq,
    h_prev_seq,
    dah_seq,
    dh_proj,
):
    """BPTT for :func:`gru_forward`.

    ``dah_seq`` holds the gradient of the recurrent
    pre-activations (differs from ``da_seq`` in the candidate block: r * dn).
    """
    n_steps, batch, _ = x.shape
    H = W_h.shape[0]
    for s in range(n_steps):
        t = s if reverse else n_steps - 1 - s
        tp = t + 1 if reverse else t - 1
        first = s == n_steps - 1
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    h_prev = h0[bi, j] if first else h_seq[tp, bi, j]
                    # dh_state gets the direct path; the GEMM part is added below.
                    dh = dh_state[bi, j] + dh_seq[t, bi, j]
                    r, z, n = gates[t, bi, j], gates[t, bi, H + j], gates[t, bi, 2 * H + j]
                    dar, daz, dan, dah_n, dh_state[bi, j] = gru_cell_gradient(
                        dh, r, z, n, h_prev, hn_seq[t, bi, j]
                    )
                    da_seq[t, bi, j] = dar
                    da_seq[t, bi, H + j] = daz
                    da_seq[t, bi, 2 * H + j] = dan
                    dah_seq[t, bi, j] = dar
                    dah_seq[t, bi, H + j] = daz
                    dah_seq[t, bi, 2 * H + j] = dah_n
            else:
                for j in range(H):
                    dh_state[bi, j] += dh_seq[t, bi, j]
                for k in range(3 * H):
                    da_seq[t, bi, k] = 0
                    dah_seq[t, bi, k] = 0
        np.dot(dah_seq[t], W_h.T, dh_proj)
        _drop_in_place(dh_proj, rmask)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    dh_state[bi, j] += dh_proj[bi, j]
    # The shared tail in two parts, with db_hn between them while dah_seq is in cache.
    _recurrent_weight_gradient(h_seq, h0, reverse, rmask, dah_seq, h_prev_seq, dW_h)
    rows = n_steps * batch
    dah2 = dah_seq.reshape(rows, 3 * H)
    db_hn[:] = 0
    for row in range(rows):
        for j in range(H):
            db_hn[j] += dah2[row, 2 * H + j]
    input_gradients(x, da_seq, W_x, dx, dW_x, db)


# ------------------------------------------------------------------------------------
# GRU, original formulation (reset before; gate order r, z, n)
# ------------------------------------------------------------------------------------


@njit(**PARALLEL_JIT_OPTIONS)
def gru_reset_before_forward(
    x, mask, W_x, W_h, b, rmask, activation, reverse, h_state, h_seq, gates, rh_seq, p_rz, p_n
):
    """Original (reset-before) GRU forward.

    The candidate sees (r * h_{t-1}) W_hn, and z weights the candidate. ``rh_seq``
    (T, B, H) keeps r * h_{t-1} for the weight gradient; ``p_rz`` (B, 2H) and ``p_n``
    (B, H) receive the step's recurrent products.
    """
    n_steps, batch, _ = x.shape
    H = W_h.shape[0]
    W_hrz = np.ascontiguousarray(W_h[:, : 2 * H])
    W_hn = np.ascontiguousarray(W_h[:, 2 * H :])
    h_work = np.empty_like(h_state)
    _project_inputs(x, W_x, gates)
    for s in range(n_steps):
        t = n_steps - 1 - s if reverse else s
        h_in = _dropped_state(h_state, rmask, h_work)
        np.dot(h_in, W_hrz, p_rz)
        for bi in prange(batch):
            for j in range(H):
                r = sigmoid(gates[t, bi, j] + b[j] + p_rz[bi, j])
                z = sigmoid(gates[t, bi, H + j] + b[H + j] + p_rz[bi, H + j])
                gates[t, bi, j] = r
                gates[t, bi, H + j] = z
                rh_seq[t, bi, j] = r * h_in[bi, j]
        np.dot(rh_seq[t], W_hn, p_n)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    n = tanh(gates[t, bi, 2 * H + j] + b[2 * H + j] + p_n[bi, j])
                    h_prev = h_state[bi, j]
                    h = h_prev + gates[t, bi, H + j] * (n - h_prev)  # (1 - z) h_prev + z n
                    gates[t, bi, 2 * H + j] = n
                    h_state[bi, j] = h
                    h_seq[t, bi, j] = h
            else:
                for j in range(H):
                    h_seq[t, bi, j] = h_state[bi, j]


@njit(**PARALLEL_JIT_OPTIONS)
def gru_reset_before_backward(
    x,
    mask,
    W_x,
    W_h,
    rmask,
    activation,
    reverse,
    h0,
    h_seq,
    gates,
    rh_seq,
    dh_seq,
    dh_state,
    dx,
    dW_x,
    dW_h,
    db,
    da_seq,
    h_prev_seq,
    da_rz,
    da_n,
    drh,
    dh_proj,
):
    """BPTT for :func:`gru_reset_before_forward`.

    ``da_rz`` (B, 2H), ``da_n``, ``drh`` and ``dh_proj`` (B, H) are per-step workspaces.
    """
    n_steps, batch, _ = x.shape
    H = W_h.shape[0]
    W_hrz = np.ascontiguousarray(W_h[:, : 2 * H])
    W_hn = np.ascontiguousarray(W_h[:, 2 * H :])
    h_work = np.empty((batch, H), dtype=x.dtype)
    for s in range(n_steps):
        t = s if reverse else n_steps - 1 - s
        tp = t + 1 if reverse else t - 1
        first = s == n_steps - 1
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    h_prev = h0[bi, j] if first else h_seq[tp, bi, j]
                    # dh_state gets (1 - z) dh, the direct path.
                    dh = dh_state[bi, j] + dh_seq[t, bi, j]
                    z, n = gates[t, bi, H + j], gates[t, bi, 2 * H + j]
                    daz, dan, dh_state[bi, j] = gru_reset_before_update_gradient(dh, z, n, h_prev)
                    da_rz[bi, H + j] = daz
                    da_n[bi, j] = dan
            else:
                for j in range(H):
                    dh_state[bi, j] += dh_seq[t, bi, j]
                    da_n[bi, j] = 0
                    da_rz[bi, H + j] = 0
        np.dot(da_n, W_hn.T, drh)
        # Below, drh * r is dL/dh_in; h_in (the dropped state) is r's partner in r * h_in.
        h_in = _dropped_state(h0 if first else h_seq[tp], rmask, h_work)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    r = gates[t, bi, j]
                    da_rz[bi, j] = sigmoid_gate_gradient(drh[bi, j], h_in[bi, j], r)
                    drh[bi, j] *= r
            else:
                for j in range(H):
                    drh[bi, j] = 0
                for j in range(H):
                    da_rz[bi, j] = 0
            for k in range(2 * H):
                da_seq[t, bi, k] = da_rz[bi, k]
            for j in range(H):
                da_seq[t, bi, 2 * H + j] = da_n[bi, j]
        np.dot(da_rz, W_hrz.T, dh_proj)
        for bi in prange(batch):
            for j in range(H):
                dh_proj[bi, j] += drh[bi, j]  # both are gradients w.r.t. h_in
        _drop_in_place(dh_proj, rmask)
        for bi in prange(batch):
            if mask[t, bi]:
                for j in range(H):
                    dh_state[bi, j] += dh_proj[bi, j]
    _previous_states(h_seq, h0, reverse, h_prev_seq)
    _drop_in_place(h_prev_seq, rmask)
    rows = n_steps * batch
    da2 = da_seq.reshape(rows, 3 * H)
    dW_rz = np.dot(h_prev_seq.reshape(rows, H).T, np.ascontiguousarray(da2[:, : 2 * H]))
    dW_n = np.dot(rh_seq.reshape(rows, H).T, np.ascontiguousarray(da2[:, 2 * H :]))
    for j in range(H):  # element loops: see _previous_states
        for k in range(2 * H):
            dW_h[j, k] = dW_rz[j, k]
        for k in range(H):
            dW_h[j, 2 * H + k] = dW_n[j, k]
    input_gradients(x, da_seq, W_x, dx, dW_x, db)
