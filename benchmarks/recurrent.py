"""Forward + backward throughput of the recurrent layers, tsrnn vs PyTorch CPU.

Runs both libraries in the same process, on the same shapes and float32 data,
and prints samples per second and the ratio tsrnn / PyTorch (> 1: tsrnn faster).
PyTorch is optional: without it only tsrnn's figures are printed.

    python benchmarks/recurrent.py             # the three reference shapes
    python benchmarks/recurrent.py --quick     # tiny shapes, checks that it runs
    python benchmarks/recurrent.py --json out.json
"""

import argparse
import json
import platform
import time

import numpy as np

from tsrnn import Recurrent

# (batch, n_steps, n_features, hidden_size)
SHAPES = [(32, 50, 1, 32), (64, 100, 8, 100), (128, 200, 16, 256)]
QUICK_SHAPES = [(8, 10, 2, 8)]
CELLS = ["lstm", "gru", "rnn"]


def _best_time(fn, min_repeats=3, min_seconds=1.0):
    """Best wall time of ``fn()`` over at least ``min_repeats`` calls and ``min_seconds``.

    Starts with a pause: BLAS and OpenMP worker threads of the library timed just
    before busy-wait for a while after their last call, and on a 2-core machine they
    would steal a core from this measurement.
    """
    time.sleep(0.5)
    fn()  # warm-up (compilation, allocator)
    best, total, n = np.inf, 0.0, 0
    while n < min_repeats or total < min_seconds:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best, total, n = min(best, elapsed), total + elapsed, n + 1
    return best


def time_tsrnn(cell, batch, n_steps, n_features, hidden, min_seconds):
    layer = Recurrent(cell, n_features, hidden, dtype="float32")
    params = layer.init_params(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_steps, batch, n_features)).astype(np.float32)
    dy = np.ones((n_steps, batch, hidden), dtype=np.float32)

    def step():
        _, _, _, cache = layer.forward(params, x, check_finite=False)
        layer.backward(params, cache, dy)

    return _best_time(step, min_seconds=min_seconds)


def time_torch(cell, batch, n_steps, n_features, hidden, min_seconds):
    import torch

    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    module = module(n_features, hidden)
    x = torch.randn(n_steps, batch, n_features, requires_grad=True)

    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        y, _ = module(x)
        y.sum().backward()

    return _best_time(step, min_seconds=min_seconds)


def run(shapes, min_seconds):
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    rows = []
    for shape in shapes:
        for cell in CELLS:
            t_ours = time_tsrnn(cell, *shape, min_seconds)
            row = dict(
                cell=cell,
                batch=shape[0],
                n_steps=shape[1],
                n_features=shape[2],
                hidden=shape[3],
                tsrnn_samples_per_s=shape[0] / t_ours,
            )
            if torch_version:
                t_torch = time_torch(cell, *shape, min_seconds)
                row["torch_samples_per_s"] = shape[0] / t_torch
                row["ratio"] = t_torch / t_ours
            rows.append(row)
            print(_format_row(row), flush=True)
    return dict(
        benchmark="recurrent forward+backward, float32",
        torch=torch_version,
        machine=_machine(),
        rows=rows,
    )


def _machine():
    import os

    import numba

    return dict(
        processor=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        python=platform.python_version(),
        numpy=np.__version__,
        numba=numba.__version__,
        numba_threads=numba.get_num_threads(),
        blas_core=blas_core(),
        openblas_env={k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    )


def blas_core():
    """The core types of the loaded OpenBLAS libraries (numpy's, and SciPy's for Numba).

    ``OPENBLAS_CORETYPE`` can pin them below what the processor offers (e.g. AVX2
    'Haswell' kernels on an AVX-512 machine), which changes every matrix product's speed.
    """
    import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS that Numba calls

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    cores = {i.get("architecture") for i in threadpool_info() if i["internal_api"] == "openblas"}
    return ",".join(sorted(c for c in cores if c)) or None


HEADER = (
    f"{'cell':<5} {'batch':>5} {'steps':>5} {'feat':>4} {'hidden':>6} "
    f"{'tsrnn/s':>10} {'torch/s':>10} {'ratio':>6}"
)


def _format_row(row):
    torch_s = f"{row['torch_samples_per_s']:10.0f}" if "ratio" in row else f"{'-':>10}"
    ratio = f"{row['ratio']:6.2f}" if "ratio" in row else f"{'-':>6}"
    return (
        f"{row['cell']:<5} {row['batch']:>5} {row['n_steps']:>5} {row['n_features']:>4} "
        f"{row['hidden']:>6} {row['tsrnn_samples_per_s']:10.0f} {torch_s} {ratio}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes, a smoke run")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args(argv)
    print("samples per second, one layer, forward + backward (ratio = tsrnn / torch)")
    print(HEADER)
    result = run(QUICK_SHAPES if args.quick else SHAPES, 0.05 if args.quick else 1.0)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
