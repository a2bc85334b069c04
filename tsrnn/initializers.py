"""Weight initialisers (Keras' defaults for recurrent layers).

Every initialiser draws in float64 from a ``numpy.random.Generator`` and casts at
the end, so the same seed gives bit-identical weights in both precisions' draws.
"""

import numpy as np


def glorot_uniform(rng, shape, fan_in, fan_out, dtype):
    """U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
    fan_in, fan_out : int
        Inputs and outputs of a unit.
    dtype : numpy dtype
        The returned array's dtype (drawn in float64, then cast).

    Returns
    -------
    ndarray of shape ``shape``
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def orthogonal(rng, shape, dtype, gain=1.0):
    """A matrix with orthonormal rows or columns (Saxe et al., 2014).

    For a recurrent kernel of shape (H, G*H) the rows are orthonormal, as in
    Keras' ``Orthogonal`` initialiser applied to the whole kernel.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of (int, int)
    dtype : numpy dtype
        The returned array's dtype (drawn in float64, then cast).
    gain : float, default=1.0
        Multiplies the matrix.

    Returns
    -------
    ndarray of shape ``shape``
    """
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the decomposition unique, hence the draw uniform
    if rows < cols:
        q = q.T
    return (gain * q).astype(dtype)
