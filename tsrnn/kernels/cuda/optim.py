"""Optimizer steps over the flat parameter buffer (GPU), one thread per parameter.

The twin of :mod:`tsrnn.kernels.cpu.optim`.

Reductions (the gradient norm, the finiteness check) use a fixed launch shape and
a fixed summation tree, so their results do not vary from run to run.
"""

import math

import numpy as np
from numba import cuda, float64

from tsrnn.kernels.cuda._launch import blocks
from tsrnn.kernels.cuda._scalar import adam_update, sgd_update

#: Blocks of the reductions: fixed, so the summation order is too.
REDUCTION_BLOCKS = 64
#: Threads per block of the reductions: compiled into their shared-memory tree.
REDUCTION_THREADS = 128


@cuda.jit
def _adam(params, grads, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_bias2):
    i = cuda.grid(1)
    if i < params.size:
        adam_update(i, params, grads, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_bias2)


def adam_step(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """One Adam step (Kingma & Ba, 2015) with bias correction; ``step`` counts from 1."""
    bias1 = 1.0 - beta1**step
    sqrt_bias2 = math.sqrt(1.0 - beta2**step)
    _adam[blocks(params.size)](
        params, grads, m, v, beta1, beta2, eps, weight_decay, lr / bias1, sqrt_bias2
    )


@cuda.jit
def _sgd(params, grads, velocity, lr, momentum, nesterov, weight_decay, first):
    i = cuda.grid(1)
    if i < params.size:
        sgd_update(i, params, grads, velocity, lr, momentum, nesterov, weight_decay, first)


def sgd_step(params, grads, velocity, lr, momentum, nesterov, weight_decay, first):
    """SGD with optional (Nesterov) momentum; the first step sets velocity = g."""
    _sgd[blocks(params.size)](params, grads, velocity, lr, momentum, nesterov, weight_decay, first)


@cuda.jit
def _partial_sums_of_squares(a, partials):
    # Each thread strides over the array in float64; then a tree in shared memory.
    cache = cuda.shared.array(REDUCTION_THREADS, dtype=float64)
    tid = cuda.threadIdx.x
    total = 0.0
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        total += float64(a[i]) * float64(a[i])
    cache[tid] = total
    cuda.syncthreads()
    width = REDUCTION_THREADS // 2
    while width > 0:
        if tid < width:
            cache[tid] += cache[tid + width]
        cuda.syncthreads()
        width //= 2
    if tid == 0:
        partials[cuda.blockIdx.x] = cache[0]


def global_norm(grads):
    """Euclidean norm of the whole gradient, accumulated in float64."""
    partials = cuda.device_array(REDUCTION_BLOCKS, dtype=np.float64)
    _partial_sums_of_squares[REDUCTION_BLOCKS, REDUCTION_THREADS](grads, partials)
    return math.sqrt(float(np.sum(partials.copy_to_host())))


@cuda.jit
def _scale(a, factor):
    i = cuda.grid(1)
    if i < a.size:
        a[i] *= factor


def scale_in_place(a, factor):
    """``a *= factor`` over the flat device array ``a``, in place."""
    _scale[blocks(a.size)](a, factor)


@cuda.jit
def _flag_non_finite(a, flag):
    i = cuda.grid(1)
    if i < a.size and not math.isfinite(a[i]):
        flag[0] = 1  # every writer writes the same value: no race on the result


def all_finite(a):
    """Whether every element of the flat device array ``a`` is finite."""
    flag = cuda.to_device(np.zeros(1, dtype=np.int32))
    _flag_non_finite[blocks(a.size)](a, flag)
    return int(flag.copy_to_host()[0]) == 0
