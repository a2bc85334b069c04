"""Every compiled CPU kernel releases the GIL.

Thread-based parallelism (joblib threads, dask threads, the ensembles' ``n_jobs``)
is real only when the compiled kernels release the GIL.
"""

from numba.core.registry import CPUDispatcher

from tsrnn.kernels.cpu import checks, conv, dense, losses, normalization, optim, recurrent


def test_every_cpu_kernel_releases_the_gil():
    kernels = [
        getattr(module, name)
        for module in (recurrent, conv, dense, losses, optim, normalization, checks)
        for name in dir(module)
        if isinstance(getattr(module, name), CPUDispatcher)
        # (scalar helpers are inlined into the kernels that call them)
        and getattr(module, name).targetoptions.get("inline") != "always"
    ]
    assert len(kernels) > 20
    for kernel in kernels:
        assert kernel.targetoptions.get("nogil") is True, kernel.__name__
