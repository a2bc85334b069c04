"""Which matrix products round differently on one and two OpenBLAS threads.

``python -m benchmarks.blas_threads`` calls Numba's ``np.dot`` (SciPy's OpenBLAS, as
the kernels do) on the product shapes of the CPU kernels, in the three layouts they
use (``a @ b``, ``a.T @ b``, ``a @ b.T``), under ``threadpool_limits(1)`` and ``(2)``,
and prints the shapes whose results differ in any bit. ``(M, K, N)`` is
``(M, K) @ (K, N)``. The shapes are those of small fits of every preset (batches of
8 and 32 sequences of 24 steps) and of a 128-unit LSTM; ``--grid`` adds a grid of
sizes 1 to 3072.
"""

import argparse
import itertools

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401 - the BLAS that Numba calls
from numba import njit
from threadpoolctl import threadpool_limits


@njit
def _nn(a, b, out):
    np.dot(a, b, out)


@njit
def _tn(a, b, out):
    np.dot(a.T, b, out)


@njit
def _nt(a, b, out):
    np.dot(a, b.T, out)


#: (M, K, N, layout) products of the kernels in small fits (conv im2col, dense, LSTM).
KERNEL_SHAPES = [
    (192, 8, 64, "NN"),
    (192, 192, 64, "NN"),
    (192, 1248, 32, "NN"),
    (768, 192, 64, "NN"),
    (192, 64, 320, "NT"),
    (192, 32, 1248, "NT"),
    (768, 64, 192, "NT"),
    (32, 192, 128, "TN"),
    (320, 192, 64, "TN"),
    (1248, 192, 32, "TN"),
    (128, 768, 64, "TN"),
    (8, 32, 128, "NN"),
    (10, 128, 512, "NN"),
    (10, 512, 128, "NT"),
    (32, 128, 512, "NN"),
]


def product(M, K, N, layout, dtype, threads, seed=0):
    """``(M, K) @ (K, N)`` of seeded normal data through Numba on ``threads`` threads."""
    rng = np.random.default_rng(seed)
    out = np.zeros((M, N), dtype)
    a_shape = (K, M) if layout == "TN" else (M, K)
    b_shape = (N, K) if layout == "NT" else (K, N)
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    kernel = {"NN": _nn, "TN": _tn, "NT": _nt}[layout]
    with threadpool_limits(limits=threads, user_api="blas"):
        kernel(a, b, out)
    return out


def differing(shapes, dtype):
    """The shapes whose product differs between 1 and 2 threads, with the count of
    differing elements."""
    found = []
    for M, K, N, layout in shapes:
        one = product(M, K, N, layout, dtype, 1)
        two = product(M, K, N, layout, dtype, 2)
        if not np.array_equal(one, two):
            found.append((M, K, N, layout, int((one != two).sum()), one.size))
    return found


def main(argv=None):
    """Print the thread-dependent products of the kernel shapes (and the grid)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="also sizes 1..3072, M*K*N<=3e7")
    args = parser.parse_args(argv)
    shapes = list(KERNEL_SHAPES)
    if args.grid:
        sizes = [
            1,
            2,
            3,
            5,
            8,
            16,
            24,
            31,
            32,
            33,
            64,
            96,
            128,
            192,
            256,
            384,
            512,
            768,
            1536,
            3072,
        ]
        shapes += [
            (M, K, N, "NN") for M, K, N in itertools.product(sizes, repeat=3) if M * K * N <= 3e7
        ]
    for dtype in ("float32", "float64"):
        found = differing(shapes, dtype)
        print(f"{dtype}: {len(found)} of {len(shapes)} products differ on 1 and 2 threads")
        for M, K, N, layout, n_diff, size in found[:40]:
            print(f"  ({M}, {K}) @ ({K}, {N}) {layout}: {n_diff} of {size} elements")


if __name__ == "__main__":
    main()
