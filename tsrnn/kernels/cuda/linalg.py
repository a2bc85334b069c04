"""Matrix products and reductions on the GPU: a tiled shared-memory GEMM.

cuBLAS is not reachable from numba.cuda without extra packages, so the products
the recurrent kernels need (input projection, one recurrent product per step,
weight gradients) run on this kernel. Each block computes a ``TILE x TILE`` tile of
C, staging ``TILE x TILE`` tiles of A and B through shared memory.
"""

import math
import os

import numpy as np
from numba import cuda, float32, float64

#: Tile edge (threads per block: TILE^2). Fixed when the kernels are compiled; the
#: simulator tests set TSRNN_CUDA_TILE=4 so tiny matrices span several partial tiles
#: (and run in seconds: the simulator runs every thread as a Python thread).
TILE = int(os.environ.get("TSRNN_CUDA_TILE", "16"))
#: 'tiled' (shared memory) or 'direct' (each thread reads its row and column from
#: global memory, no barriers). The simulator runs barriers very slowly, so the
#: network-level simulator tests use 'direct'; the tiled kernel is tested on its own.
GEMM_KERNEL = os.environ.get("TSRNN_CUDA_GEMM", "tiled")


def _make_gemm(nb_dtype):
    @cuda.jit
    def gemm_kernel(A, B, C, trans_a, trans_b, accumulate):
        # C (m, n) [+]= op(A) (m, k) @ op(B) (k, n); op transposes when asked.
        sA = cuda.shared.array((TILE, TILE), dtype=nb_dtype)
        sB = cuda.shared.array((TILE, TILE), dtype=nb_dtype)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        m, n = C.shape
        k = A.shape[0] if trans_a else A.shape[1]
        acc = nb_dtype(0)
        for start in range(0, k, TILE):
            ka, kb = start + tx, start + ty
            if row < m and ka < k:
                sA[ty, tx] = A[ka, row] if trans_a else A[row, ka]
            else:
                sA[ty, tx] = 0
            if col < n and kb < k:
                sB[ty, tx] = B[col, kb] if trans_b else B[kb, col]
            else:
                sB[ty, tx] = 0
            cuda.syncthreads()
            for q in range(TILE):
                acc += sA[ty, q] * sB[q, tx]
            cuda.syncthreads()
        if row < m and col < n:
            if accumulate:
                C[row, col] += acc
            else:
                C[row, col] = acc

    return gemm_kernel


def _make_gemm_direct(nb_dtype):
    @cuda.jit
    def gemm_direct_kernel(A, B, C, trans_a, trans_b, accumulate):
        col, row = cuda.grid(2)
        m, n = C.shape
        if row < m and col < n:
            k = A.shape[0] if trans_a else A.shape[1]
            acc = nb_dtype(0)
            for q in range(k):
                a = A[q, row] if trans_a else A[row, q]
                acc += a * (B[col, q] if trans_b else B[q, col])
            if accumulate:
                C[row, col] += acc
            else:
                C[row, col] = acc

    return gemm_direct_kernel


_GEMM = {
    "tiled": {
        np.dtype(np.float32): _make_gemm(float32),
        np.dtype(np.float64): _make_gemm(float64),
    },
    "direct": {
        np.dtype(np.float32): _make_gemm_direct(float32),
        np.dtype(np.float64): _make_gemm_direct(float64),
    },
}


def gemm(A, B, C, trans_a=False, trans_b=False, accumulate=False):
    """``C = op(A) @ op(B)`` (or ``+=`` with ``accumulate``) on 2-D device arrays."""
    m, n = C.shape
    grid = (math.ceil(n / TILE), math.ceil(m / TILE))
    kernel = _GEMM[GEMM_KERNEL][np.dtype(C.dtype)]
    kernel[grid, (TILE, TILE)](A, B, C, trans_a, trans_b, accumulate)


@cuda.jit
def _column_sums(A, out, accumulate):
    j = cuda.grid(1)
    if j < A.shape[1]:
        total = A[0, j] - A[0, j]
        for r in range(A.shape[0]):
            total += A[r, j]
        out[j] = out[j] + total if accumulate else total


def column_sums(A, out, accumulate=False):
    """``out[j] = sum_r A[r, j]`` (in a fixed row order: deterministic)."""
    threads = 128
    _column_sums[math.ceil(A.shape[1] / threads), threads](A, out, accumulate)
