"""Per-element formulas of the cells' gradients, the losses and the optimizers.

Written once as plain Python on scalars (or on one element of an array), and
compiled by each backend: ``numba.njit(inline="always")`` in
:mod:`tsrnn.kernels.cpu._scalar`, ``numba.cuda.jit(device=True)`` in
:mod:`tsrnn.kernels.cuda._scalar`. The kernels only add the loops over samples,
steps and threads, so a fix to a formula lands on both devices at once. The NumPy
reference (:mod:`tsrnn.kernels.reference`) does not use this module: it stays the
independent check. Equations and gate orders are documented there.

Arithmetic is written in the order the kernels have always used: reordering an
expression changes its rounding, and seeded training is bit-identical across
releases. Functions that update an optimizer's state take the arrays and an index,
because the state is rounded to the array's dtype when it is stored and the update
reads the stored value.
"""

import math

from tsrnn.kernels.scalar import dsigmoid, dtanh, sign

# --- recurrent cells ------------------------------------------------------------------


def lstm_cell_gradient(dh, dc_next, i, f, g, o, c_prev, act_c, dact_c, dact_g):
    """One LSTM unit's backward step (gate order i, f, g, o).

    ``dh`` is dL/dh_t (carried plus output gradient), ``dc_next`` dL/dC_t carried from
    step t + 1; ``act_c = act(C_t)``, ``dact_c = act'(C_t)`` and ``dact_g = act'`` of
    the candidate, from outputs. Returns the pre-activation gradients of i, f, g, o
    and dL/dC_{t-1}.
    """
    dc = dc_next + dh * o * dact_c
    return (
        dc * g * dsigmoid(i),
        dc * c_prev * dsigmoid(f),
        dc * i * dact_g,
        dh * act_c * dsigmoid(o),
        dc * f,
    )


def gru_candidate_preactivation(x_n, b_n, r, hn):
    """Reset-after GRU: the candidate's pre-activation, ``n = tanh(this)``.

    ``x_n`` is the input projection ``x_t W_xn``, ``b_n`` its bias, ``r`` the reset
    gate and ``hn = h_{t-1} W_hn + b_hn`` the recurrent projection it scales.
    """
    return x_n + b_n + r * hn


def gru_state_update(n, z, h_prev):
    """Reset-after GRU: ``h_t = (1 - z) n + z h_{t-1}``, as ``n + z (h_{t-1} - n)``."""
    return n + z * (h_prev - n)


def gru_cell_gradient(dh, r, z, n, h_prev, hn):
    """One reset-after GRU unit's backward step (gate order r, z, n).

    ``dh`` is dL/dh_t, ``hn`` the recurrent candidate projection of the forward pass.
    Returns ``(da_r, da_z, da_n, dah_n, dh_direct)``: the pre-activation gradients,
    the gradient of the recurrent candidate projection (``r * da_n``), and the part
    of dL/dh_{t-1} that bypasses the recurrent product (``z * dh``).
    """
    da_n = (dh - dh * z) * dtanh(n)
    da_r = da_n * hn * dsigmoid(r)
    da_z = dh * (h_prev - n) * dsigmoid(z)
    return da_r, da_z, da_n, da_n * r, dh * z


def gru_reset_before_update_gradient(dh, z, n, h_prev):
    """Original GRU (``h_t = (1 - z) h_{t-1} + z n``): the backward step of the update.

    Returns ``(da_z, da_n, dh_direct)``: the pre-activation gradients of z and of the
    candidate, and the part of dL/dh_{t-1} through ``(1 - z) h_{t-1}``.
    """
    return dh * (n - h_prev) * dsigmoid(z), dh * z * dtanh(n), dh - dh * z


def sigmoid_gate_gradient(upstream, partner, y):
    """Pre-activation gradient of a sigmoid gate ``y`` that multiplies ``partner``."""
    return upstream * partner * dsigmoid(y)


# --- losses: (weighted loss term, gradient) of one prediction -------------------------
# ``w`` weights the term; the gradient is unweighted (the kernels scale it afterwards).


def squared_error(r, w):
    """MSE term of the residual ``r = p - y``."""
    return w * r * r, 2 * r


def absolute_error(r, w):
    """MAE term of the residual ``r = p - y``."""
    return w * abs(r), sign(r)


def huber_error(r, w, delta):
    """Huber term of the residual ``r = p - y``: quadratic within ``delta``, then linear."""
    if abs(r) <= delta:
        return w * 0.5 * r * r, r
    return w * delta * (abs(r) - 0.5 * delta), delta * sign(r)


def logistic_error(z, y, w):
    """Binary cross-entropy term of the logit ``z`` (float64) against ``y``, and its gradient.

    Stable for any logit, as log(1 + e^-|z|) never overflows.
    """
    e = math.exp(-abs(z))
    term = w * (max(z, 0.0) - z * y + math.log1p(e))
    if z >= 0:
        return term, 1.0 / (1.0 + e) - y
    return term, e / (1.0 + e) - y


def pinball_error(r, w, q):
    """Pinball (quantile ``q``) term of the residual ``r = y - p``, and its gradient.

    The gradient with respect to ``p`` is 0.5 - q at r = 0.
    """
    term = w * max(q * r, (q - 1) * r)
    if r > 0:
        return term, -q
    if r < 0:
        return term, 1 - q
    return term, 0.5 - q


def softmax_log_normaliser(p, i):
    """``(m, log_z)`` of row ``i`` of the logits ``p``.

    ``log softmax(p_i)_c = p[i, c] - m - log_z``, with the row's maximum ``m``
    subtracted before ``exp`` so it cannot overflow.
    """
    m = p[i, 0]
    for c in range(1, p.shape[1]):
        m = max(m, p[i, c])
    z = 0.0
    for c in range(p.shape[1]):
        z += math.exp(p[i, c] - m)
    return m, math.log(z)


# --- optimizers: update element i of the flat buffers in place ------------------------


def adam_update(i, params, grads, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_bias2):
    """Adam (Kingma & Ba, 2015) update of element ``i``, in place.

    L2 ``weight_decay`` as ``torch.optim.Adam``;
    ``step_size = lr / (1 - beta1^t)``, ``sqrt_bias2 = sqrt(1 - beta2^t)``.
    """
    g = grads[i] + weight_decay * params[i]
    m[i] = beta1 * m[i] + (1.0 - beta1) * g
    v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
    params[i] -= step_size * m[i] / (math.sqrt(v[i]) / sqrt_bias2 + eps)


def sgd_update(i, params, grads, velocity, lr, momentum, nesterov, weight_decay, first):
    """SGD update of element ``i`` with optional (Nesterov) momentum, in place.

    As ``torch.optim.SGD``: the first step sets the velocity to the gradient.
    """
    g = grads[i] + weight_decay * params[i]
    if momentum != 0.0:
        if first:
            velocity[i] = g
        else:
            velocity[i] = momentum * velocity[i] + g
        if nesterov:
            g = g + momentum * velocity[i]
        else:
            g = velocity[i]
    params[i] -= lr * g
