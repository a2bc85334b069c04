"""The CUDA matrix product (tiled and direct) and column sums against NumPy."""

import numpy as np
import pytest

from tests.helpers import rel_err

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

from tsrnn.kernels.cuda import linalg  # noqa: E402


@pytest.mark.parametrize("kernel", ["tiled", "direct"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("trans_a", "trans_b"), [(False, False), (True, False), (False, True)])
def test_gemm_matches_numpy(kernel, dtype, trans_a, trans_b, monkeypatch):
    monkeypatch.setattr(linalg, "GEMM_KERNEL", kernel)
    rng = np.random.default_rng(0)
    m, k, n = 7, 9, 5  # none divides the tile: partial tiles on every edge
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    C0 = rng.standard_normal((m, n)).astype(dtype)
    expected = (A.T if trans_a else A) @ (B.T if trans_b else B)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    for accumulate in (False, True):
        # Without accumulate, C's old contents (NaN here) must not leak in.
        C = cuda.to_device(C0 if accumulate else np.full_like(C0, np.nan))
        linalg.gemm(cuda.to_device(A), cuda.to_device(B), C, trans_a, trans_b, accumulate)
        assert rel_err(C.copy_to_host(), expected + (C0 if accumulate else 0)) <= tol


def test_column_sums_accumulate():
    A = np.arange(12.0).reshape(4, 3)
    out = cuda.to_device(np.ones(3))
    linalg.column_sums(cuda.to_device(A), out)
    np.testing.assert_array_equal(out.copy_to_host(), A.sum(axis=0))
    linalg.column_sums(cuda.to_device(A), out, accumulate=True)
    np.testing.assert_array_equal(out.copy_to_host(), 2 * A.sum(axis=0))
