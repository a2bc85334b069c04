"""Seeded small fits of every cell and layer type, recorded bit for bit.

``python -m tests.bitwise.record_fits`` (from the repository root) writes
``tests/data/bitwise_fits.npz``; :mod:`tests.bitwise.test_bitwise_fits` retrains the same
networks and requires identical weights and losses (``np.array_equal``), so a refactoring
of the kernels that changes a single bit of a seeded fit fails.

Bit identity holds within one build of the numerical libraries only: NumPy's LAPACK
draws the orthogonal initialisations and SciPy's BLAS serves the Numba kernels, and
another release of either rounds differently in the last place. The file therefore
records the versions it was made with, and the test asks for identical bits only there.
The same build picks its BLAS kernels for the processor (OpenBLAS' core type: Haswell's
AVX2 kernels, SkylakeX's AVX-512 ones, or those that ``OPENBLAS_CORETYPE`` names), and
another core type tiles a product differently, so the file records that too.
"""

import pathlib
from importlib import metadata

import numpy as np

from tsrnn import (
    GRU,
    LSTM,
    Activation,
    AveragePooling1D,
    BatchNormalization,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    LayerNormalization,
    MaxPooling1D,
    Network,
    Parallel,
    Residual,
    SimpleRNN,
)
from tsrnn.losses import get_loss
from tsrnn.training import SGD, Adam, train_step

PATH = pathlib.Path(__file__).resolve().parents[1] / "data" / "bitwise_fits.npz"

#: name -> (layers factory, loss, target width)
NETWORKS = {
    "rnn-tanh": (lambda: [SimpleRNN(5), Dense(1)], "mse", 1),
    "rnn-relu-seq": (
        lambda: [SimpleRNN(4, activation="relu", return_sequences=True), Flatten(), Dense(1)],
        "mae",
        1,
    ),
    "lstm": (lambda: [LSTM(5, recurrent_dropout=0.2), Dense(1)], "huber", 1),
    "lstm-relu-bi": (lambda: [LSTM(4, activation="relu", bidirectional=True), Dense(2)], "mse", 2),
    "gru-after": (lambda: [GRU(5, dropout=0.1), Dense(1)], "mse", 1),
    "gru-before": (lambda: [GRU(5, reset_after=False, recurrent_dropout=0.2), Dense(1)], "mse", 1),
    "gru-2layers-bi": (
        lambda: [
            GRU(3, num_layers=2, bidirectional=True, return_sequences=True),
            GlobalAveragePooling1D(),
            Dense(1),
        ],
        "mse",
        1,
    ),
    "lstm-2layers": (
        lambda: [LSTM(4, num_layers=2, return_sequences=True), GlobalMaxPooling1D(), Dense(1)],
        "mse",
        1,
    ),
    "conv-pool": (
        lambda: [
            Conv1D(4, 3, padding="causal"),
            MaxPooling1D(2),
            Conv1D(3, 2),
            AveragePooling1D(2),
            Flatten(),
            Dropout(0.25),
            Dense(3, activation="tanh"),
            Dense(1),
        ],
        "mse",
        1,
    ),
    "conv-gru": (
        lambda: [
            Conv1D(3, 2, dilation_rate=2, padding="same"),
            GRU(4, return_sequences=True),
            GlobalMaxPooling1D(),
            Dense(2, activation="sigmoid"),
            Dense(1),
        ],
        "mse",
        1,
    ),
    "conv-bn-branches": (
        lambda: [
            Parallel(
                [
                    [Conv1D(4, 3, padding="causal"), BatchNormalization(0.9, activation="relu")],
                    [LSTM(3, return_sequences=True)],
                ]
            ),
            Residual([Conv1D(7, 2, padding="causal"), BatchNormalization(0.8)]),
            Activation("tanh"),
            LayerNormalization(),
            GlobalAveragePooling1D(),
            Dense(1),
        ],
        "mse",
        1,
    ),
}
#: Networks with Flatten or a non-causal Conv1D, which refuse padded sequences.
UNMASKED = ("rnn-relu-seq", "conv-pool", "conv-gru")
OPTIMIZERS = {
    "adam": lambda: Adam(learning_rate=0.01, weight_decay=1e-3),
    "sgd": lambda: SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
}
DTYPES = ("float32", "float64")
#: The libraries whose rounding enters a seeded fit.
NUMERICAL_LIBRARIES = ("numpy", "scipy", "numba", "llvmlite")
N_STEPS, N_FEATURES, BATCH, N_UPDATES = 8, 3, 6, 4


def run(name, optimizer, dtype):
    """Train one network a few steps; return (final flat weights, losses)."""
    make_layers, loss, width = NETWORKS[name]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, N_STEPS, N_FEATURES))
    y = np.tanh(X[:, :, :width].sum(axis=1)) + 0.1 * rng.standard_normal((BATCH, width))
    mask = np.ones((BATCH, N_STEPS), bool)
    mask[1, 6:] = mask[4, 3:] = False
    if name in UNMASKED:
        mask = None
    net = Network(make_layers(), dtype=dtype).build((N_STEPS, N_FEATURES), random_state=1)
    loss_fn, opt = get_loss(loss), OPTIMIZERS[optimizer]()
    X, mask = net.check_input(X, mask)
    y = y.astype(dtype)
    drop_rng = np.random.default_rng(2)
    losses = [train_step(net, opt, loss_fn, X, y, mask, rng=drop_rng) for _ in range(N_UPDATES)]
    return net.params.flat.copy(), np.array(losses, dtype=np.float64)


def all_runs():
    """``{key: array}`` for every network, optimizer and dtype."""
    out = {}
    for name in NETWORKS:
        for optimizer in OPTIMIZERS:
            for dtype in DTYPES:
                weights, losses = run(name, optimizer, dtype)
                key = f"{name}/{optimizer}/{dtype}"
                out[key + "/weights"], out[key + "/losses"] = weights, losses
    return out


def blas_kernels():
    """The kernels of the BLAS that the Numba kernels call (SciPy's), e.g. ``openblas:Haswell``.

    SciPy's wheels keep their OpenBLAS in ``scipy.libs`` (or inside the package); another
    BLAS that some import loaded (NumPy's, PyTorch's) does not take part in the fits. Where
    none is found there (a system SciPy), every loaded BLAS counts.
    """
    from pathlib import Path

    import scipy
    import scipy.linalg.cython_blas  # noqa: F401 - loads it
    from threadpoolctl import threadpool_info

    package = Path(scipy.__file__).resolve().parent
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]

    def is_scipys(info):
        path = Path(info["filepath"]).resolve()
        return path.parent.name == "scipy.libs" or path.is_relative_to(package)

    chosen = [info for info in blas if is_scipys(info)] or blas
    return ",".join(sorted({f"{i['internal_api']}:{i.get('architecture')}" for i in chosen}))


def environment():
    """``{"environment/<library>": version}`` for the :data:`NUMERICAL_LIBRARIES`, and the
    BLAS kernels as ``environment/blas_kernels``."""
    versions = {f"environment/{name}": metadata.version(name) for name in NUMERICAL_LIBRARIES}
    return {**versions, "environment/blas_kernels": blas_kernels()}


if __name__ == "__main__":
    PATH.parent.mkdir(exist_ok=True)
    np.savez_compressed(PATH, **all_runs(), **environment())
    print(f"wrote {PATH}")
