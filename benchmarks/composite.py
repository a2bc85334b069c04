"""LSTM-FCN training epoch, tsrnn vs PyTorch CPU in one run.

Part of ``python -m benchmarks`` (alone: ``python -m benchmarks --only layers``).

The network is the 'lstm-fcn' preset (:func:`tsrnn.architectures.lstm_fcn`): the FCN
body (Conv1D-BatchNormalization-ReLU blocks with kernels 8, 5, 3 and (64, 128, 64)
filters, 'same' padding, global average pooling) beside an LSTM(8) whose last state
goes through dropout 0.8, concatenated, Dense(1) (Karim et al. 2018). One epoch over
256 univariate sequences of 250 steps, batch 32, MSE, Adam, float32, after a warm-up
epoch; samples per second, and their ratio (> 1: tsrnn faster). PyTorch runs the
same network with ``Conv1d`` (padded as tsrnn's 'same': one step more on the right
for an even kernel), ``BatchNorm1d`` and ``LSTM``.
"""

from benchmarks.training import _compare, _data, _print, _torch, _torch_epoch, _tsrnn_epoch

N_SAMPLES, N_STEPS, WIDTH, HIDDEN, BATCH = 256, 250, 64, 8, 32


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


def bench_lstm_fcn(n_samples, n_steps, width, min_seconds):
    """One LSTM-FCN training epoch in each library; the row of samples per second."""
    from tsrnn.architectures import lstm_fcn

    X, y = _data(n_samples, n_steps, 1)
    layers = lstm_fcn(1, True, hidden_size=HIDDEN, width=width)
    bn = layers[0].branches[0][1]  # the first conv block's: same settings as the others
    ours = _tsrnn_epoch(layers, X, y, BATCH)
    theirs = (
        _torch_epoch(_torch_model(n_steps, width, HIDDEN, bn), X, y, BATCH) if _torch() else None
    )
    row = _compare(
        "lstm_fcn",
        ours,
        theirs,
        n_samples,
        min_seconds,
        batch=BATCH,
        n_steps=n_steps,
        width=width,
        hidden=HIDDEN,
    )
    _print(row)
    return row


def run(quick=False):
    """The LSTM-FCN case (tiny shapes if ``quick``)."""
    if quick:
        return [bench_lstm_fcn(64, 20, 4, 0.05)]
    return [bench_lstm_fcn(N_SAMPLES, N_STEPS, WIDTH, 1.0)]
