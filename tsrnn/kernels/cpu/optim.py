"""Optimizer steps over a network's flat parameter buffer (CPU), one fused loop each.

Adam and SGD follow ``torch.optim.Adam`` / ``torch.optim.SGD`` exactly (their
``weight_decay`` is L2: ``g + weight_decay * theta``), so trajectories can be
compared step by step. The element updates are written once, for both devices, in
:mod:`tsrnn.kernels.formulas`.
"""

import math

import numpy as np
from numba import njit

from tsrnn._config import JIT_OPTIONS
from tsrnn.kernels.cpu._scalar import adam_update, sgd_update


@njit(**JIT_OPTIONS)
def adam_step(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """One Adam step (Kingma & Ba, 2015) with bias correction; ``step`` counts from 1."""
    bias1 = 1.0 - beta1**step
    sqrt_bias2 = math.sqrt(1.0 - beta2**step)
    step_size = lr / bias1
    for i in range(params.size):
        adam_update(i, params, grads, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_bias2)


@njit(**JIT_OPTIONS)
def sgd_step(params, grads, velocity, lr, momentum, nesterov, weight_decay, first):
    """SGD with optional (Nesterov) momentum; the first step sets velocity = g."""
    for i in range(params.size):
        sgd_update(i, params, grads, velocity, lr, momentum, nesterov, weight_decay, first)


@njit(**JIT_OPTIONS)
def global_norm(grads):
    """Euclidean norm of the whole gradient, accumulated in float64."""
    total = 0.0
    for i in range(grads.size):
        # np.float64, not float(): Numba's float() of a float32 stays float32, and the
        # squares were rounded to float32 before the sum.
        g = np.float64(grads[i])
        total += g * g
    return math.sqrt(total)


@njit(**JIT_OPTIONS)
def scale_in_place(a, factor):
    """``a *= factor`` over the flat array ``a``, in place."""
    for i in range(a.size):
        a[i] *= factor


@njit(**JIT_OPTIONS)
def all_finite(a):
    """Whether every element of the flat array ``a`` is finite."""
    for i in range(a.size):
        if not math.isfinite(a[i]):
            return False
    return True
