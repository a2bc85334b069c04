"""Conv1D -> BatchNormalization -> ReLU training epoch, tsrnn vs PyTorch CPU in one run.

``python -m benchmarks.normalization [--quick] [--json FILE]``

The network is ``Conv1D(64, 3, same, linear) -> BatchNormalization ->
Activation('relu') -> GlobalAveragePooling1D -> Dense(1)`` (the FCN block of Wang
et al. 2017), trained one epoch over 1024 univariate sequences of 250 steps, batch
32, MSE, Adam, float32, after a warm-up epoch; samples per second, and their ratio
(> 1: tsrnn faster). PyTorch runs the same architecture with ``BatchNorm1d``.
"""

import argparse
import json

from benchmarks.recurrent import _machine
from benchmarks.training import _compare, _data, _print, _torch, _torch_epoch, _tsrnn_epoch

N_SAMPLES, N_STEPS, FILTERS, BATCH = 1024, 250, 64, 32


def _torch_model(filters):
    torch = _torch()

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(1, filters, 3, padding="same")
            self.bn = torch.nn.BatchNorm1d(filters, eps=1e-3, momentum=0.01)
            self.head = torch.nn.Linear(filters, 1)

        def forward(self, x):  # x: (batch, steps, 1)
            h = torch.relu(self.bn(self.conv(x.transpose(1, 2))))
            return self.head(h.mean(dim=2))

    return Model()


def bench_conv_batch_norm(n_samples, n_steps, filters, min_seconds):
    from tsrnn import Activation, BatchNormalization, Conv1D, Dense, GlobalAveragePooling1D

    X, y = _data(n_samples, n_steps, 1)
    layers = [
        Conv1D(filters, 3, padding="same", activation="linear"),
        BatchNormalization(),
        Activation("relu"),
        GlobalAveragePooling1D(),
        Dense(1),
    ]
    ours = _tsrnn_epoch(layers, X, y, BATCH)
    theirs = _torch_epoch(_torch_model(filters), X, y, BATCH) if _torch() else None
    row = _compare(
        "conv_batch_norm",
        ours,
        theirs,
        n_samples,
        min_seconds,
        batch=BATCH,
        n_steps=n_steps,
        filters=filters,
    )
    _print(row)
    return row


def run(quick=False):
    if quick:
        return [bench_conv_batch_norm(64, 20, 4, 0.05)]
    return [bench_conv_batch_norm(N_SAMPLES, N_STEPS, FILTERS, 1.0)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes: checks that it runs")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args(argv)
    result = {"machine": _machine(), "cases": run(quick=args.quick)}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
