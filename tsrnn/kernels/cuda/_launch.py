"""Launch shapes of every CUDA kernel module, defined once.

Module attributes read at each launch, so tests can patch them down (tiny inputs
then span several blocks, with partial blocks at the edges).
"""

import math

#: Threads per block of the one-dimensional launches (one thread per element or row).
THREADS = 128
#: Threads per block along (sample, unit) of the recurrent cells' two-dimensional launches.
BLOCK = (8, 32)


def blocks(n):
    """``(blocks, threads)`` of a one-dimensional launch over ``n`` elements."""
    return max(1, math.ceil(n / THREADS)), THREADS


def grid(rows, cols):
    """``(blocks, threads)`` of a two-dimensional launch over ``rows x cols``."""
    return (math.ceil(rows / BLOCK[0]), math.ceil(cols / BLOCK[1])), BLOCK
