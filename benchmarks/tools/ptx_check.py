"""Compile every CUDA kernel that the GPU tests launch to PTX, without a GPU.

Numba's CUDA simulator runs kernels as Python, so it cannot catch what only the
real compiler rejects (typing, unsupported calls). This tool closes that gap on
a machine without a GPU:

1. ``record``: run the CUDA tests on the simulator and record, for every kernel
   launch, which kernel it was and the Numba types of its arguments;
2. ``compile``: in an interpreter with numba-cuda and NVVM (``pip install
   'numba-cuda[cu12]'``) and without the simulator, compile each recorded
   (kernel, signature) to PTX for a Hopper GPU (compute capability 9.0).

    NUMBA_ENABLE_CUDASIM=1 TSRNN_CUDA_TILE=4 python -m benchmarks.tools.ptx_check record sigs.json
    python -m benchmarks.tools.ptx_check compile sigs.json
"""

import importlib
import json
import pkgutil
import sys


def _kernel_names():
    """id(kernel object) -> 'module:attribute[key]...' for every kernel in tsrnn.kernels.cuda."""
    import tsrnn.kernels.cuda as package

    names = {}

    def visit(obj, path):
        if isinstance(obj, dict):
            for key, value in obj.items():
                visit(value, path + [str(key)])
        elif hasattr(obj, "py_func") or type(obj).__name__ == "FakeCUDAKernel":
            names[id(obj)] = path

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for attr, value in vars(module).items():
            visit(value, [module.__name__, attr])
    return names


def _numba_type(value):
    import numba
    import numpy as np

    array = getattr(value, "_ary", None)  # the simulator's device arrays wrap NumPy
    if array is not None:
        return str(
            numba.typeof(np.ascontiguousarray(array) if array.flags.c_contiguous else array)
        )
    return str(numba.typeof(value))


def record(out_path, pytest_args):
    import pytest
    from numba.cuda.simulator import kernel as sim_kernel

    names = _kernel_names()
    seen = set()
    original = sim_kernel.FakeCUDAKernel.__getitem__

    def getitem(self, config):
        launcher = original(self, config)
        path = names.get(id(self))
        if path is not None and not self._device:

            def recording_call(*args):
                seen.add((tuple(path), tuple(_numba_type(a) for a in args)))
                return launcher(*args)

            return _Launch(recording_call)
        return launcher

    sim_kernel.FakeCUDAKernel.__getitem__ = getitem
    code = pytest.main(["-q", "-p", "no:cacheprovider", *pytest_args])
    with open(out_path, "w") as fh:
        json.dump(sorted([list(p), list(t)] for p, t in seen), fh, indent=1)
    print(
        f"recorded {len(seen)} (kernel, signature) pairs from {len({p for p, _ in seen})} kernels"
    )
    return code


class _Launch:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args):
        return self._fn(*args)


class _Hopper:
    compute_capability = (9, 0)


def compile_all(path):
    from numba import cuda
    from numba.cuda import dispatcher

    # Device functions are compiled for "the current device"; there is none here.
    dispatcher.get_current_device = _Hopper

    with open(path) as fh:
        entries = json.load(fh)
    failures = 0
    for kernel_path, arg_types in entries:
        obj = importlib.import_module(kernel_path[0])
        obj = getattr(obj, kernel_path[1])
        for key in kernel_path[2:]:
            obj = next(v for k, v in obj.items() if str(k) == key)
        sig = tuple(_parse(t) for t in arg_types)
        try:
            cuda.compile_ptx(obj.py_func, sig, cc=(9, 0))
        except Exception as exc:  # report every failure, then fail
            failures += 1
            print(
                f"FAILED {'.'.join(kernel_path)}{sig}: {type(exc).__name__}: "
                f"{(str(exc).splitlines() or [repr(exc)])[0]}"
            )
    print(
        f"compiled {len(entries) - failures} of {len(entries)} (kernel, signature) pairs "
        "to PTX for compute capability 9.0"
    )
    return 1 if failures else 0


def _parse(text):
    import numba
    from numba import types

    if text.startswith("array("):
        dtype, ndim, layout = text[len("array(") : -1].split(", ")[:3]
        return types.Array(getattr(types, dtype), int(ndim[:-1]), layout)
    return {
        "int64": types.int64,
        "float64": types.float64,
        "bool": types.boolean,
        "float32": types.float32,
        "uint64": types.uint64,
        "int32": types.int32,
    }.get(text) or numba.typeof(eval(text))


if __name__ == "__main__":
    if sys.argv[1] == "record":
        sys.exit(record(sys.argv[2], sys.argv[3:] or ["tests/cuda"]))
    sys.exit(compile_all(sys.argv[2]))
