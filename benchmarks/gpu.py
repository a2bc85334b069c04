"""GPU training benchmark: ``python -m benchmarks.gpu [--quick] [--json FILE]``.

One epoch of one recurrent layer -> Dense(1), MSE, Adam, float32 (the CPU
benchmark's training case), for tsrnn on the GPU (``device='cuda'``), tsrnn on
the CPU, and PyTorch on the GPU (cuDNN) when torch with CUDA is importable; at
the CPU benchmark's shapes plus a large batch (1024, 200, 16, 256). Prints
samples per second and the ratios tsrnn-CUDA / tsrnn-CPU and tsrnn-CUDA /
torch-CUDA (> 1: tsrnn's GPU path is faster).

Needs a usable CUDA GPU and numba-cuda (``pip install 'tsrnn[cuda]'``). With
``NUMBA_ENABLE_CUDASIM=1`` and ``--quick`` it runs on Numba's simulator, which only
checks that the script works (simulated timings mean nothing).
"""

import argparse
import json
import sys
import time

import numpy as np

from benchmarks.recurrent import _best_time, _machine
from benchmarks.training import TRAINING_SHAPES, _data, _torch, _torch_epoch, _torch_recurrent

LARGE = ("lstm", 1024, 200, 16, 256)
SHAPES = TRAINING_SHAPES + [LARGE]
QUICK_SHAPES = [("lstm", 4, 3, 1, 4), ("gru", 4, 3, 1, 4)]


def _tsrnn_epoch(cell, hidden, X, y, batch, device):
    from tsrnn import RNN, Dense, Network
    from tsrnn.training import Adam
    from tsrnn.training import fit as fit_network

    net = Network([RNN(cell, hidden), Dense(1)], dtype="float32").build(X.shape[1:], 0)
    net.to(device)
    opt = Adam(1e-3)

    def epoch():
        # Each step reads its loss back to the host, so the epoch ends synchronised.
        fit_network(net, X, y, optimizer=opt, epochs=1, batch_size=batch, shuffle=False)

    return epoch


def _torch_cuda_epoch(cell, n_features, hidden, X, y, batch):
    torch = _torch()
    if torch is None or not torch.cuda.is_available():
        return None
    return _torch_epoch(_torch_recurrent(cell, n_features, hidden), X, y, batch, "cuda")


def run(shapes, min_seconds, n_samples=1024, with_cpu=True):
    rows = []
    for cell, batch, n_steps, n_features, hidden in shapes:
        n = max(n_samples, batch)
        X, y = _data(n, n_steps, n_features)
        row = dict(
            cell=cell,
            batch=batch,
            n_steps=n_steps,
            n_features=n_features,
            hidden=hidden,
            n_samples=n,
        )
        epoch = _tsrnn_epoch(cell, hidden, X, y, batch, "cuda")
        row["tsrnn_cuda_per_s"] = n / _best_time(epoch, min_seconds=min_seconds)
        if with_cpu:
            epoch = _tsrnn_epoch(cell, hidden, X, y, batch, "cpu")
            row["tsrnn_cpu_per_s"] = n / _best_time(epoch, min_seconds=min_seconds)
            row["cuda_over_cpu"] = row["tsrnn_cuda_per_s"] / row["tsrnn_cpu_per_s"]
        theirs = _torch_cuda_epoch(cell, n_features, hidden, X, y, batch)
        if theirs is not None:
            row["torch_cuda_per_s"] = n / _best_time(theirs, min_seconds=min_seconds)
            row["cuda_over_torch_cuda"] = row["tsrnn_cuda_per_s"] / row["torch_cuda_per_s"]
        rows.append(row)
        print(_format(row), flush=True)
    return rows


HEADER = (
    f"{'cell':<5} {'batch':>5} {'steps':>5} {'feat':>4} {'hidden':>6} {'cuda/s':>9} "
    f"{'cpu/s':>9} {'torch-cuda/s':>12} {'cuda/cpu':>8} {'cuda/torch':>10}"
)


def _format(row):
    def value(key, width, fmt):
        return f"{row[key]:{width}{fmt}}" if key in row else f"{'-':>{width}}"

    return (
        f"{row['cell']:<5} {row['batch']:>5} {row['n_steps']:>5} {row['n_features']:>4} "
        f"{row['hidden']:>6} {value('tsrnn_cuda_per_s', 9, '.0f')} "
        f"{value('tsrnn_cpu_per_s', 9, '.0f')} {value('torch_cuda_per_s', 12, '.0f')} "
        f"{value('cuda_over_cpu', 8, '.2f')} "
        f"{value('cuda_over_torch_cuda', 10, '.2f')}"
    )


def _device_info():
    from numba import config, cuda

    if config.ENABLE_CUDASIM:
        return {"name": "Numba CUDA simulator (timings are meaningless)"}
    device = cuda.get_current_device()
    name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    return {"name": name, "compute_capability": list(device.compute_capability)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes: checks that it runs")
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--no-cpu", action="store_true", help="skip the tsrnn CPU baseline")
    args = parser.parse_args(argv)
    from tsrnn.backend import cuda_status

    usable, reason = cuda_status()
    if not usable:
        hint = "Install the GPU extra on a machine with an NVIDIA GPU: pip install 'tsrnn[cuda]'"
        print(f"benchmarks.gpu: no usable CUDA GPU: {reason}. {hint}", file=sys.stderr)
        return 2
    torch = _torch()
    result = {
        "machine": _machine(),
        "gpu": _device_info(),
        "torch": None if torch is None else torch.__version__,
        "torch_cuda": bool(torch is not None and torch.cuda.is_available()),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(f"GPU: {result['gpu']['name']}; torch: {result['torch']} (CUDA: {result['torch_cuda']})")
    print("one epoch of recurrent layer -> Dense(1), MSE, Adam, float32; samples/s")
    print(HEADER)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    result["rows"] = run(
        shapes,
        0.0 if args.quick else 2.0,
        n_samples=8 if args.quick else 1024,
        with_cpu=not args.no_cpu,
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
