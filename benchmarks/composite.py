"""LSTM-FCN training epoch, tsrnn vs PyTorch CPU in one run.

Part of ``python -m benchmarks`` (alone: ``python -m benchmarks --only layers``).

The network is the 'lstm-fcn' preset (:func:`tsrnn.architectures.lstm_fcn`): the FCN
body (Conv1D-BatchNormalization-ReLU blocks with kernels 8, 5, 3 and (64, 128, 64)
filters, 'same' padding, global average pooling) beside an LSTM(8) whose last state
goes through dropout 0.8, concatenated, Dense(1) (Karim et al. 2018). Epochs over
256 univariate sequences of 250 steps, batch 32, MSE, Adam, float32, after a warm-up
fit; samples per second, and their ratio (> 1: tsrnn faster). Each timed call is
one fit of :data:`EPOCHS` epochs (PyTorch: as many epochs of its loop), as in a
training run; ``ratio_one_epoch_fit`` times fits of one epoch each, which also pay
a fit's setup every epoch (BLAS limit, first touch of the step's temporaries: about
90 MB here, whose fresh pages the kernel zeroes). PyTorch runs the
same network with ``Conv1d`` (padded as tsrnn's 'same': one step more on the right
for an even kernel), ``BatchNorm1d`` and ``LSTM``.

The row also gives the floor set by the matrix products: the time of the three
convolutions' products of one training batch alone (the kernels' im2col shapes and
BLAS calls: forward, weight gradient and, but for the first, input gradient),
their share of the step, and the ratio to PyTorch if nothing else cost anything;
and the BLAS kernels' core type (``blas_core``): OpenBLAS' AVX2 'Haswell' kernels
multiply float32 matrices at about half the rate of the AVX-512 'SkylakeX' ones on an
AVX-512 processor, and ``OPENBLAS_CORETYPE`` can pin either.
"""

import numpy as np
from numba import njit

from benchmarks.recurrent import _best_time, blas_core
from benchmarks.training import _compare, _data, _print, _torch, _torch_epoch, _tsrnn_epoch

N_SAMPLES, N_STEPS, WIDTH, HIDDEN, BATCH = 256, 250, 64, 8, 32
EPOCHS = 4  # per timed fit


def _torch_model(n_steps, width, hidden, bn):
    """The PyTorch twin; ``bn`` is one of tsrnn's BatchNormalization layers."""
    from tsrnn.kernels.shapes import conv_padding

    torch = _torch()

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            channels, blocks = 1, []
            for filters, kernel in zip((width, 2 * width, width), (8, 5, 3), strict=True):
                left, right, _ = conv_padding(n_steps, kernel, 1, 1, "same")
                blocks += [
                    torch.nn.ConstantPad1d((left, right), 0.0),
                    torch.nn.Conv1d(channels, filters, kernel),
                    torch.nn.BatchNorm1d(filters, eps=bn.epsilon, momentum=1 - bn.momentum),
                    torch.nn.ReLU(),
                ]
                channels = filters
            self.fcn = torch.nn.Sequential(*blocks)
            self.lstm = torch.nn.LSTM(1, hidden, batch_first=True)
            self.dropout = torch.nn.Dropout(0.8)
            self.head = torch.nn.Linear(width + hidden, 1)

        def forward(self, x):  # x: (batch, steps, 1)
            pooled = self.fcn(x.transpose(1, 2)).mean(dim=2)
            last = self.dropout(self.lstm(x)[1][0][-1])
            return self.head(torch.cat([pooled, last], dim=1))

    return Model()


@njit
def _conv_gemms(cols, W2, y2, dW2, dcols, need_dx):
    """The matrix products of one Conv1D training step (see the conv kernels)."""
    np.dot(cols, W2, y2)
    np.dot(cols.T, y2, dW2)
    if need_dx:
        np.dot(y2, W2.T, dcols)


def _gemm_floor(layers, n_steps, min_seconds):
    """Seconds per batch of the FCN branch's matrix products alone."""
    from tsrnn import Conv1D

    rows = BATCH * n_steps  # 'same' padding, stride 1: one output row per input step
    z = lambda *shape: np.zeros(shape, np.float32)  # noqa: E731
    calls, channels = [], 1
    for layer in layers[0].branches[0]:
        if isinstance(layer, Conv1D):
            kc, f = layer.kernel_size * channels, layer.filters
            calls.append((z(rows, kc), z(kc, f), z(rows, f), z(kc, f), z(rows, kc), channels > 1))
            channels = f

    def products():
        for args in calls:
            _conv_gemms(*args)

    return _best_time(products, min_seconds=min_seconds)


def bench_lstm_fcn(n_samples, n_steps, width, min_seconds):
    """One LSTM-FCN training epoch in each library; the row of samples per second."""
    from tsrnn.architectures import lstm_fcn

    X, y = _data(n_samples, n_steps, 1)
    layers = lstm_fcn(1, True, hidden_size=HIDDEN, width=width)
    bn = layers[0].branches[0][1]  # the first conv block's: same settings as the others

    def pair(epochs):
        ours = _tsrnn_epoch(layers, X, y, BATCH, epochs=epochs)
        if not _torch():
            return ours, None
        model = _torch_model(n_steps, width, HIDDEN, bn)
        return ours, _torch_epoch(model, X, y, BATCH, epochs=epochs)

    info = dict(batch=BATCH, n_steps=n_steps, width=width, hidden=HIDDEN, epochs_per_fit=EPOCHS)
    row = _compare("lstm_fcn", *pair(EPOCHS), n_samples * EPOCHS, min_seconds, **info)
    if "torch_per_s" in row:
        one = _compare("lstm_fcn", *pair(1), n_samples, min_seconds / 2)
        row.update(
            ratio_one_epoch_fit=one["ratio"],
            ratio_one_epoch_fit_median=one["ratio_median"],
            ratio_one_epoch_fit_rounds=one["ratio_rounds"],
        )
    gemm_s, step_s = _gemm_floor(layers, n_steps, min_seconds), BATCH / row["tsrnn_per_s"]
    row.update(
        gemm_ms_per_batch=gemm_s * 1e3,
        step_ms_per_batch=step_s * 1e3,
        gemm_share=gemm_s / step_s,
        blas_core=blas_core(),
    )
    if "torch_per_s" in row:
        row["ratio_if_only_gemms"] = BATCH / gemm_s / row["torch_per_s"]
    _print(row)
    return row


def run(quick=False):
    """The LSTM-FCN case (tiny shapes if ``quick``)."""
    if quick:
        return [bench_lstm_fcn(64, 20, 4, 0.05)]
    return [bench_lstm_fcn(N_SAMPLES, N_STEPS, WIDTH, 1.0)]
