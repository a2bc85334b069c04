"""Forward and backpropagation-through-time kernels of the recurrent cells (GPU).

The GPU twin of :mod:`tsrnn.kernels.cpu.recurrent`: same function names, argument
order and conventions (time-major, right-acting weights, gate order i, f, g, o,
masks carry the state, ``rmask`` the variational recurrent-dropout mask or an empty
``(0, hidden)`` array, ``h_state``/``c_state`` in: initial state, out: final state;
in backward ``dh_state``/``dc_state`` in: dL/dh_n, out: dL/dh0). Arguments are
device arrays; the host functions here launch kernels and never copy to the host.

Argument order per cell: :mod:`tsrnn.kernels.cells`; per-unit gradient formulas,
shared with the CPU: :mod:`tsrnn.kernels.formulas`.

Structure, as on the CPU: the input projection of all steps is one GEMM; each
step is one recurrent GEMM plus one fused kernel (one thread per (sample, unit))
that applies the gate nonlinearities and updates the state; backward forms the
weight gradients after the time loop as large GEMMs. Every cell of the CPU
backend is here: the simple RNN, the LSTM, and the GRU with reset after (PyTorch's
and Keras' default) and before (the original formulation: two products per step).
"""

import math

from numba import cuda

from tsrnn.kernels import scalar
from tsrnn.kernels.cuda import _launch
from tsrnn.kernels.cuda._scalar import (
    activate,
    activation_slope,
    gru_candidate_preactivation,
    gru_cell_gradient,
    gru_reset_before_update_gradient,
    gru_state_update,
    lstm_cell_gradient,
    sigmoid_gate_gradient,
)
from tsrnn.kernels.cuda.linalg import column_sums, gemm

# --- helpers shared by every cell -------------------------------------------------------


@cuda.jit
def _scaled_rows(h, rmask, out):
    bi, j = cuda.grid(2)
    if bi < h.shape[0] and j < h.shape[1]:
        out[bi, j] = h[bi, j] * rmask[bi, j]


@cuda.jit
def _previous_states(h_seq, h0, reverse, rmask, out):
    """out[t] = the state step t read (h0 for the first processed step), dropped."""
    t, bi, j = cuda.grid(3)
    n_steps = h_seq.shape[0]
    if t < n_steps and bi < h0.shape[0] and j < h0.shape[1]:
        first = t == n_steps - 1 if reverse else t == 0
        if first:
            v = h0[bi, j]
        else:
            v = h_seq[t + 1, bi, j] if reverse else h_seq[t - 1, bi, j]
        out[t, bi, j] = v * rmask[bi, j] if rmask.shape[0] > 0 else v


def _dropped_previous_states(h_seq, h0, reverse, rmask, out):
    """out[t] = (the state step t read) * rmask, for the weight gradient of W_h."""
    n_steps, batch, H = h_seq.shape
    blocks = (math.ceil(n_steps / 4), math.ceil(batch / 4), math.ceil(H / 16))
    _previous_states[blocks, (4, 4, 16)](h_seq, h0, reverse, rmask, out)


def _dropped_state(h_state, rmask, h_work):
    if rmask.shape[0] == 0:
        return h_state
    _scaled_rows[_launch.grid(*h_state.shape)](h_state, rmask, h_work)
    return h_work


def _project_inputs(x, W_x, out):
    """The input projection of all steps as one GEMM: out (T, B, G*H) = x W_x."""
    n_steps, batch, n_features = x.shape
    gemm(x.reshape(n_steps * batch, n_features), W_x, out.reshape(n_steps * batch, out.shape[2]))


def _forward_steps(n_steps, reverse, h_state, rmask, W_h, h_proj):
    """Yield each step t in processing order, with its recurrent product computed.

    Before yielding t it writes h_proj = (h_{t-1} * rmask) W_h.
    """
    h_work = cuda.device_array_like(h_state)
    for s in range(n_steps):
        gemm(_dropped_state(h_state, rmask, h_work), W_h, h_proj)
        yield n_steps - 1 - s if reverse else s


def _backward_steps(n_steps, reverse):
    """Yield ``(t, tp, first)`` in backward order.

    tp is the step processed just before t in the forward pass, and ``first`` marks
    the step that read h0.
    """
    for s in range(n_steps):
        t = s if reverse else n_steps - 1 - s
        yield t, t + 1 if reverse else t - 1, s == n_steps - 1


def input_gradients(x, da_seq, W_x, dx, dW_x, db):
    """Dx = da W_x^T, dW_x = x^T da, db = sum of da, over all steps at once."""
    n_steps, batch, n_features = x.shape
    rows, width = n_steps * batch, da_seq.shape[2]
    da2 = da_seq.reshape(rows, width)
    gemm(da2, W_x, dx.reshape(rows, n_features), trans_b=True)
    gemm(x.reshape(rows, n_features), da2, dW_x, trans_a=True)
    column_sums(da2, db)


@cuda.jit
def _carry_state_gradient(t, mask, rmask, dh_proj, accumulate, dh_state):
    """dL/dh_{t-1} = (da_t W_h^T) * rmask on the rows that took step t.

    With ``accumulate`` (the GRU) it is added to the direct path already in ``dh_state``.
    """
    bi, j = cuda.grid(2)
    if bi < dh_state.shape[0] and j < dh_state.shape[1] and mask[t, bi]:
        v = dh_proj[bi, j] * rmask[bi, j] if rmask.shape[0] > 0 else dh_proj[bi, j]
        dh_state[bi, j] = dh_state[bi, j] + v if accumulate else v


def _weight_gradients(
    x, h_seq, h0, reverse, rmask, W_x, da_seq, dah_seq, h_prev_seq, dx, dW_x, dW_h, db
):
    """The weight gradients and dx, after the time loop.

    First dW_h from the (dropped) previous states, then the input gradients.
    ``dah_seq`` is the recurrent pre-activation gradient (da_seq but for the GRU).
    """
    n_steps, batch, H = h_seq.shape
    _dropped_previous_states(h_seq, h0, reverse, rmask, h_prev_seq)
    rows = n_steps * batch
    gemm(h_prev_seq.reshape(rows, H), dah_seq.reshape(rows, dah_seq.shape[2]), dW_h, trans_a=True)
    input_gradients(x, da_seq, W_x, dx, dW_x, db)


# --- simple RNN -------------------------------------------------------------------------


@cuda.jit
def _rnn_forward_step(t, mask, b, h_proj, activation, h_state, h_seq):
    bi, j = cuda.grid(2)
    if bi >= h_state.shape[0] or j >= h_state.shape[1]:
        return
    if mask[t, bi]:
        y = activate(h_seq[t, bi, j] + h_proj[bi, j] + b[j], activation)
        h_state[bi, j] = y
        h_seq[t, bi, j] = y
    else:
        h_seq[t, bi, j] = h_state[bi, j]


def rnn_forward(x, mask, W_x, W_h, b, rmask, activation, reverse, h_state, h_seq, h_proj):
    """Elman RNN forward. ``h_seq`` (T, B, H) first receives the input projection."""
    grid = _launch.grid(*h_state.shape)
    _project_inputs(x, W_x, h_seq)
    for t in _forward_steps(x.shape[0], reverse, h_state, rmask, W_h, h_proj):
        _rnn_forward_step[grid](t, mask, b, h_proj, activation, h_state, h_seq)


@cuda.jit
def _rnn_backward_step(t, mask, h_seq, activation, dh_seq, dh_state, da_seq):
    bi, j = cuda.grid(2)
    if bi >= dh_state.shape[0] or j >= dh_state.shape[1]:
        return
    if mask[t, bi]:
        g = dh_state[bi, j] + dh_seq[t, bi, j]
        da_seq[t, bi, j] = g * activation_slope(h_seq[t, bi, j], activation)
    else:
        dh_state[bi, j] += dh_seq[t, bi, j]
        da_seq[t, bi, j] = 0


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
    grid = _launch.grid(*dh_state.shape)
    for t, _, _ in _backward_steps(x.shape[0], reverse):
        _rnn_backward_step[grid](t, mask, h_seq, activation, dh_seq, dh_state, da_seq)
        gemm(da_seq[t], W_h, dh_proj, trans_b=True)
        _carry_state_gradient[grid](t, mask, rmask, dh_proj, False, dh_state)
    _weight_gradients(
        x, h_seq, h0, reverse, rmask, W_x, da_seq, da_seq, h_prev_seq, dx, dW_x, dW_h, db
    )


# --- LSTM -------------------------------------------------------------------------------


@cuda.jit
def _lstm_forward_step(t, mask, b, h_proj, activation, h_state, c_state, h_seq, c_seq, gates):
    bi, j = cuda.grid(2)
    batch, H = h_state.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        i = scalar.sigmoid(h_proj[bi, j] + gates[t, bi, j] + b[j])
        f = scalar.sigmoid(h_proj[bi, H + j] + gates[t, bi, H + j] + b[H + j])
        g = activate(h_proj[bi, 2 * H + j] + gates[t, bi, 2 * H + j] + b[2 * H + j], activation)
        o = scalar.sigmoid(h_proj[bi, 3 * H + j] + gates[t, bi, 3 * H + j] + b[3 * H + j])
        c = f * c_state[bi, j] + i * g
        c_state[bi, j] = c
        h_state[bi, j] = o * activate(c, activation)
        gates[t, bi, j] = i
        gates[t, bi, H + j] = f
        gates[t, bi, 2 * H + j] = g
        gates[t, bi, 3 * H + j] = o
    c_seq[t, bi, j] = c_state[bi, j]
    h_seq[t, bi, j] = h_state[bi, j]


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
    grid = _launch.grid(*h_state.shape)
    _project_inputs(x, W_x, gates)
    for t in _forward_steps(x.shape[0], reverse, h_state, rmask, W_h, h_proj):
        _lstm_forward_step[grid](
            t, mask, b, h_proj, activation, h_state, c_state, h_seq, c_seq, gates
        )


@cuda.jit
def _lstm_backward_step(
    t, tp, first, mask, c0, c_seq, gates, activation, dh_seq, dh_state, dc_state, da_seq
):
    bi, j = cuda.grid(2)
    batch, H = dh_state.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        dh = dh_state[bi, j] + dh_seq[t, bi, j]
        i, f = gates[t, bi, j], gates[t, bi, H + j]
        g, o = gates[t, bi, 2 * H + j], gates[t, bi, 3 * H + j]
        c_prev = c0[bi, j] if first else c_seq[tp, bi, j]
        ac = activate(c_seq[t, bi, j], activation)
        dac, dag = activation_slope(ac, activation), activation_slope(g, activation)
        da_i, da_f, da_g, da_o, dc_state[bi, j] = lstm_cell_gradient(
            dh, dc_state[bi, j], i, f, g, o, c_prev, ac, dac, dag
        )
        da_seq[t, bi, j] = da_i
        da_seq[t, bi, H + j] = da_f
        da_seq[t, bi, 2 * H + j] = da_g
        da_seq[t, bi, 3 * H + j] = da_o
    else:
        dh_state[bi, j] += dh_seq[t, bi, j]
        for q in range(4):
            da_seq[t, bi, q * H + j] = 0


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
    grid = _launch.grid(*dh_state.shape)
    for t, tp, first in _backward_steps(x.shape[0], reverse):
        _lstm_backward_step[grid](
            t, tp, first, mask, c0, c_seq, gates, activation, dh_seq, dh_state, dc_state, da_seq
        )
        gemm(da_seq[t], W_h, dh_proj, trans_b=True)
        _carry_state_gradient[grid](t, mask, rmask, dh_proj, False, dh_state)
    _weight_gradients(
        x, h_seq, h0, reverse, rmask, W_x, da_seq, da_seq, h_prev_seq, dx, dW_x, dW_h, db
    )


# --- GRU, reset after (PyTorch; gate order r, z, n) ------------------------------------------


@cuda.jit
def _gru_forward_step(t, mask, b, b_hn, h_proj, h_state, h_seq, gates, hn_seq):
    bi, j = cuda.grid(2)
    batch, H = h_state.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        r = scalar.sigmoid(h_proj[bi, j] + gates[t, bi, j] + b[j])
        z = scalar.sigmoid(h_proj[bi, H + j] + gates[t, bi, H + j] + b[H + j])
        hn = h_proj[bi, 2 * H + j] + b_hn[j]
        n = scalar.tanh(gru_candidate_preactivation(gates[t, bi, 2 * H + j], b[2 * H + j], r, hn))
        hn_seq[t, bi, j] = hn
        h_state[bi, j] = gru_state_update(n, z, h_state[bi, j])
        gates[t, bi, j] = r
        gates[t, bi, H + j] = z
        gates[t, bi, 2 * H + j] = n
    h_seq[t, bi, j] = h_state[bi, j]


def gru_forward(
    x, mask, W_x, W_h, b, b_hn, rmask, activation, reverse, h_state, h_seq, gates, hn_seq, h_proj
):
    """GRU (reset after) forward.

    ``gates`` (T, B, 3H) ends holding r, z, n;
    ``hn_seq`` (T, B, H) holds the recurrent candidate projection W_hn h + b_hn.
    ``activation`` is unused (the GRU's is tanh): it keeps the cells' argument order.
    """
    grid = _launch.grid(*h_state.shape)
    _project_inputs(x, W_x, gates)
    for t in _forward_steps(x.shape[0], reverse, h_state, rmask, W_h, h_proj):
        _gru_forward_step[grid](t, mask, b, b_hn, h_proj, h_state, h_seq, gates, hn_seq)


@cuda.jit
def _gru_backward_step(
    t, tp, first, mask, h0, h_seq, gates, hn_seq, dh_seq, dh_state, da_seq, dah_seq
):
    bi, j = cuda.grid(2)
    batch, H = dh_state.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        dh = dh_state[bi, j] + dh_seq[t, bi, j]
        r, z, n = gates[t, bi, j], gates[t, bi, H + j], gates[t, bi, 2 * H + j]
        h_prev = h0[bi, j] if first else h_seq[tp, bi, j]
        # dh_state gets the direct path; the product's part is added next.
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
        dh_state[bi, j] += dh_seq[t, bi, j]
        for q in range(3):
            da_seq[t, bi, q * H + j] = 0
            dah_seq[t, bi, q * H + j] = 0


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
    grid = _launch.grid(batch, H)
    for t, tp, first in _backward_steps(n_steps, reverse):
        _gru_backward_step[grid](
            t, tp, first, mask, h0, h_seq, gates, hn_seq, dh_seq, dh_state, da_seq, dah_seq
        )
        gemm(dah_seq[t], W_h, dh_proj, trans_b=True)
        _carry_state_gradient[grid](t, mask, rmask, dh_proj, True, dh_state)
    _weight_gradients(
        x, h_seq, h0, reverse, rmask, W_x, da_seq, dah_seq, h_prev_seq, dx, dW_x, dW_h, db
    )
    rows = n_steps * batch
    column_sums(dah_seq.reshape(rows, 3 * H)[:, 2 * H :], db_hn)


# --- GRU, original formulation (reset before; gate order r, z, n) ---------------------------


@cuda.jit
def _gru_rb_gates_rz(t, b, h_in, p_rz, gates, rh_seq):
    bi, j = cuda.grid(2)
    batch, H = h_in.shape
    if bi < batch and j < H:
        r = scalar.sigmoid(gates[t, bi, j] + b[j] + p_rz[bi, j])
        z = scalar.sigmoid(gates[t, bi, H + j] + b[H + j] + p_rz[bi, H + j])
        gates[t, bi, j] = r
        gates[t, bi, H + j] = z
        rh_seq[t, bi, j] = r * h_in[bi, j]


@cuda.jit
def _gru_rb_candidate(t, mask, b, p_n, h_state, h_seq, gates):
    bi, j = cuda.grid(2)
    batch, H = h_state.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        n = scalar.tanh(gates[t, bi, 2 * H + j] + b[2 * H + j] + p_n[bi, j])
        h_prev = h_state[bi, j]
        h = h_prev + gates[t, bi, H + j] * (n - h_prev)  # (1 - z) h_prev + z n
        gates[t, bi, 2 * H + j] = n
        h_state[bi, j] = h
    h_seq[t, bi, j] = h_state[bi, j]


def gru_reset_before_forward(
    x, mask, W_x, W_h, b, rmask, activation, reverse, h_state, h_seq, gates, rh_seq, p_rz, p_n
):
    """Original (reset-before) GRU forward.

    The candidate sees (r * h_{t-1}) W_hn, and z weights the candidate. ``rh_seq``
    (T, B, H) keeps r * h_{t-1} for the weight gradient; ``p_rz`` (B, 2H) and ``p_n``
    (B, H) receive the step's recurrent products.
    """
    n_steps = x.shape[0]
    H = W_h.shape[0]
    W_hrz, W_hn = W_h[:, : 2 * H], W_h[:, 2 * H :]
    h_work = cuda.device_array_like(h_state)
    _project_inputs(x, W_x, gates)
    grid = _launch.grid(*h_state.shape)
    for s in range(n_steps):  # two products per step: not _forward_steps
        t = n_steps - 1 - s if reverse else s
        h_in = _dropped_state(h_state, rmask, h_work)
        gemm(h_in, W_hrz, p_rz)
        _gru_rb_gates_rz[grid](t, b, h_in, p_rz, gates, rh_seq)
        gemm(rh_seq[t], W_hn, p_n)
        _gru_rb_candidate[grid](t, mask, b, p_n, h_state, h_seq, gates)


@cuda.jit
def _gru_rb_backward_zn(t, tp, first, mask, h0, h_seq, gates, dh_seq, dh_state, da_rz, da_n):
    bi, j = cuda.grid(2)
    batch, H = dh_state.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        dh = dh_state[bi, j] + dh_seq[t, bi, j]
        z, n = gates[t, bi, H + j], gates[t, bi, 2 * H + j]
        h_prev = h0[bi, j] if first else h_seq[tp, bi, j]
        # dh_state gets (1 - z) dh, the direct path.
        daz, dan, dh_state[bi, j] = gru_reset_before_update_gradient(dh, z, n, h_prev)
        da_rz[bi, H + j] = daz
        da_n[bi, j] = dan
    else:
        dh_state[bi, j] += dh_seq[t, bi, j]
        da_n[bi, j] = 0
        da_rz[bi, H + j] = 0


@cuda.jit
def _gru_rb_backward_r(t, mask, gates, h_in, drh, da_rz, da_n, da_seq):
    # drh * r is dL/dh_in; h_in (the dropped state) is r's partner in r * h_in.
    bi, j = cuda.grid(2)
    batch, H = drh.shape
    if bi >= batch or j >= H:
        return
    if mask[t, bi]:
        r = gates[t, bi, j]
        da_rz[bi, j] = sigmoid_gate_gradient(drh[bi, j], h_in[bi, j], r)
        drh[bi, j] *= r
    else:
        drh[bi, j] = 0
        da_rz[bi, j] = 0
    da_seq[t, bi, j] = da_rz[bi, j]
    da_seq[t, bi, H + j] = da_rz[bi, H + j]
    da_seq[t, bi, 2 * H + j] = da_n[bi, j]


@cuda.jit
def _gru_rb_carry(t, mask, rmask, dh_proj, drh, dh_state):
    bi, j = cuda.grid(2)
    if bi < dh_state.shape[0] and j < dh_state.shape[1] and mask[t, bi]:
        v = dh_proj[bi, j] + drh[bi, j]  # both are gradients with respect to h_in
        dh_state[bi, j] += v * rmask[bi, j] if rmask.shape[0] > 0 else v


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
    W_hrz, W_hn = W_h[:, : 2 * H], W_h[:, 2 * H :]
    h_work = cuda.device_array((batch, H), dtype=x.dtype)
    grid = _launch.grid(batch, H)
    for t, tp, first in _backward_steps(n_steps, reverse):
        _gru_rb_backward_zn[grid](
            t, tp, first, mask, h0, h_seq, gates, dh_seq, dh_state, da_rz, da_n
        )
        gemm(da_n, W_hn, drh, trans_b=True)
        h_in = _dropped_state(h0 if first else h_seq[tp], rmask, h_work)
        _gru_rb_backward_r[grid](t, mask, gates, h_in, drh, da_rz, da_n, da_seq)
        gemm(da_rz, W_hrz, dh_proj, trans_b=True)
        _gru_rb_carry[grid](t, mask, rmask, dh_proj, drh, dh_state)
    _dropped_previous_states(h_seq, h0, reverse, rmask, h_prev_seq)
    rows = n_steps * batch
    da2 = da_seq.reshape(rows, 3 * H)
    gemm(h_prev_seq.reshape(rows, H), da2[:, : 2 * H], dW_h[:, : 2 * H], trans_a=True)
    gemm(rh_seq.reshape(rows, H), da2[:, 2 * H :], dW_h[:, 2 * H :], trans_a=True)
    input_gradients(x, da_seq, W_x, dx, dW_x, db)
