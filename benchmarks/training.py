"""Training, inference and start-up benchmarks, tsrnn vs PyTorch CPU in one run.

Cases (the performance issue's targets; ratios > 1 mean tsrnn is faster):

* ``training``: one epoch over 1024 samples of one recurrent layer -> Dense(1),
  MSE, Adam, float32, after a warm-up epoch; samples per second.
* ``cnn``: the same for Conv1D(64, 3, relu) -> MaxPool(2) -> Flatten -> Dense(1),
  batch 32, 144 steps.
* ``lstm_gemm_floor``: for each LSTM shape, the time of the matrix products of one
  training batch alone (the kernels' shapes and BLAS calls) against the whole step,
  and the best ratio to PyTorch that this floor would allow if the gates, the
  optimizer and Python cost nothing.
* ``gemm``: float32 1024 x 1024 matrix product rate (numpy's BLAS), and the LSTM's
  training FLOP rate at the large shape as a share of it.
* ``latency``: ``SequenceRegressor.predict`` on one 50-step sequence (small LSTM)
  vs the same call in PyTorch (numpy in, numpy out, ``no_grad``).
* ``overhead``: the share of ``SequenceRegressor.fit`` spent in training steps
  (forward, backward, update) rather than validation, conversion and batching.
* ``startup``: a fresh interpreter that imports the library and trains the small
  LSTM for one epoch (Numba cache warm), vs the same script with PyTorch; and the
  cold-cache compile time per cell type.
* ``memory``: peak RSS of ``SequenceRegressor.fit`` on 100,000 sequences (50, 1).
"""

import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks.recurrent import _best_time

ROOT = Path(__file__).resolve().parents[1]
TRAINING_SHAPES = [
    ("lstm", 32, 50, 1, 32),
    ("gru", 32, 50, 1, 32),
    ("rnn", 32, 50, 1, 32),
    ("lstm", 64, 100, 8, 100),
    ("gru", 64, 100, 8, 100),
    ("lstm", 128, 200, 16, 256),
]
QUICK_TRAINING_SHAPES = [("lstm", 8, 10, 1, 8)]
N_SAMPLES = 1024


def _torch():
    try:
        import torch

        return torch
    except ImportError:
        return None


# --- training throughput --------------------------------------------------------------------


def _tsrnn_epoch(layers, X, y, batch, epochs=1):
    """One call: a fit of ``epochs`` epochs (each fit also sets up its BLAS limit and
    first touches its step's temporaries, which a longer fit pays once)."""
    from tsrnn import Network
    from tsrnn.training import Adam
    from tsrnn.training import fit as fit_network

    net = Network(layers, dtype="float32").build(X.shape[1:], 0)
    opt = Adam(1e-3)

    def epoch():
        fit_network(net, X, y, optimizer=opt, epochs=epochs, batch_size=batch, shuffle=False)

    return epoch


def _torch_epoch(model, X, y, batch, device="cpu", epochs=1):
    torch = _torch()
    model = model.to(device)
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()

    def epoch():
        for _ in range(epochs):
            for start in range(0, len(Xt), batch):
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(Xt[start : start + batch]), yt[start : start + batch])
                loss.backward()
                opt.step()
        if device != "cpu":
            torch.cuda.synchronize()  # kernels run asynchronously

    return epoch


def _torch_recurrent(cell, n_features, hidden):
    torch = _torch()
    rnn_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn_cls(n_features, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    return Model()


def _data(n, n_steps, n_features):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, n_steps, n_features)).astype(np.float32)
    return X, X[:, -1, :1].copy()


#: Alternating rounds of :func:`_compare`: one timed call of each library per round.
ROUNDS = 5


def _paired_times(ours, theirs, min_seconds, rounds=ROUNDS):
    """Wall times of ``ours()`` and ``theirs()``, timed alternately, one pair per round.

    On a shared machine the speed drifts over seconds (three runs of the same
    script gave LSTM-FCN ratios of 1.02, 0.66 and 0.85 when each library was timed
    in one stretch after the other), so each round times both, and both see the
    same drift; the order alternates from round to round, so neither always runs
    first. Every call starts after a pause, as in :func:`_best_time`: the idle
    threads of the library timed before busy-wait for a while and would steal a
    core. Returns ``(rounds, 2)`` seconds, ours in the first column.
    """
    ours(), theirs()  # warm-up (compilation, allocator)
    pause = min(0.5, min_seconds)  # quick runs (tests) skip most of it
    times, total = [], 0.0
    while len(times) < rounds or total < 2 * min_seconds:
        pair = {}
        order = ((0, ours), (1, theirs)) if len(times) % 2 == 0 else ((1, theirs), (0, ours))
        for i, fn in order:
            time.sleep(pause)
            start = time.perf_counter()
            fn()
            pair[i] = time.perf_counter() - start
        times.append([pair[0], pair[1]])
        total += pair[0] + pair[1]
    return np.array(times)


def _compare(name, ours, theirs, n, min_seconds, **info):
    """A row of samples per second for each library and their ratio (> 1: tsrnn faster).

    Alone, tsrnn's best time; with ``theirs``, the two are timed in alternating
    rounds (:func:`_paired_times`): ``ratio`` is best against best, and
    ``ratio_rounds`` each round's ratio, whose median and spread show how far
    the machine's drift moves it.
    """
    if theirs is None:
        return dict(case=name, **info, tsrnn_per_s=n / _best_time(ours, min_seconds=min_seconds))
    times = _paired_times(ours, theirs, min_seconds, ROUNDS if min_seconds >= 0.5 else 2)
    best = times.min(axis=0)
    row = dict(case=name, **info, tsrnn_per_s=n / best[0], torch_per_s=n / best[1])
    row["ratio"] = row["tsrnn_per_s"] / row["torch_per_s"]
    rounds = times[:, 1] / times[:, 0]
    row["ratio_rounds"] = [round(float(r), 3) for r in rounds]
    row["ratio_median"] = float(np.median(rounds))
    return row


def bench_training(shapes, n_samples, min_seconds):
    from tsrnn import RNN, Dense

    rows = []
    for cell, batch, n_steps, n_features, hidden in shapes:
        X, y = _data(n_samples, n_steps, n_features)
        ours = _tsrnn_epoch([RNN(cell, hidden), Dense(1)], X, y, batch)
        theirs = None
        if _torch():
            theirs = _torch_epoch(_torch_recurrent(cell, n_features, hidden), X, y, batch)
        rows.append(
            _compare(
                "training",
                ours,
                theirs,
                n_samples,
                min_seconds,
                cell=cell,
                batch=batch,
                n_steps=n_steps,
                n_features=n_features,
                hidden=hidden,
            )
        )
        _print(rows[-1])
    return rows


def bench_cnn(n_samples, n_steps, min_seconds):
    from tsrnn import Conv1D, Dense, Flatten, MaxPooling1D

    X, y = _data(n_samples, n_steps, 1)
    layers = [Conv1D(64, 3, activation="relu"), MaxPooling1D(2), Flatten(), Dense(1)]
    ours = _tsrnn_epoch(layers, X, y, 32)
    theirs = None
    torch = _torch()
    if torch:

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv1d(1, 64, 3)
                self.head = torch.nn.Linear(64 * ((n_steps - 2) // 2), 1)

            def forward(self, x):
                h = torch.relu(self.conv(x.transpose(1, 2)))
                return self.head(torch.nn.functional.max_pool1d(h, 2).flatten(1))

        theirs = _torch_epoch(Model(), X, y, 32)
    row = _compare("cnn", ours, theirs, n_samples, min_seconds, batch=32, n_steps=n_steps)
    _print(row)
    return row


def bench_gemm(training_rows, min_seconds):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    out = np.empty_like(a)
    gflops = (
        2 * 1024**3 / _best_time(lambda: np.matmul(a, b, out=out), min_seconds=min_seconds) / 1e9
    )
    row = dict(case="gemm", float32_gemm_gflops=gflops)
    large = [r for r in training_rows if r["cell"] == "lstm" and r["hidden"] >= 256]
    if large:
        r = large[0]
        # Forward: the input and recurrent products (2 FLOPs per multiply-add); backward
        # costs twice the forward (gradients of the inputs and of the weights).
        flop_per_sample = 3 * r["n_steps"] * 2 * 4 * r["hidden"] * (r["n_features"] + r["hidden"])
        row["lstm_large_gflops"] = r["tsrnn_per_s"] * flop_per_sample / 1e9
        row["lstm_large_share_of_gemm"] = row["lstm_large_gflops"] / gflops
    _print(row)
    return row


LSTM_TARGETS = {32: 3.0, 100: 1.5, 256: 1.2}  # hidden size -> issue 7's goal, tsrnn / torch


@njit
def _lstm_gemms(x2, W_x, gates2, h, W_h, proj, da_t, dh_proj, hprev2, da2, dW_h, dx2, dW_x, n):
    """Every matrix product of one LSTM training batch, with the kernels' shapes and
    BLAS calls: the input projection, n recurrent products forward and n backward,
    and the weight and input gradients."""
    np.dot(x2, W_x, gates2)
    for _ in range(n):
        np.dot(h, W_h, proj)
    for _ in range(n):
        np.dot(da_t, W_h.T, dh_proj)
    np.dot(hprev2.T, da2, dW_h)
    np.dot(da2, W_x.T, dx2)
    np.dot(x2.T, da2, dW_x)


def bench_lstm_gemm_floor(training_rows, min_seconds):
    """Where the LSTM's training time goes: the time of its matrix products alone (the
    floor with free gates and Python) against the whole step, and the best ratio to
    PyTorch that floor allows."""
    rows = []
    for r in training_rows:
        if r["cell"] != "lstm":
            continue
        B, T, F, H = r["batch"], r["n_steps"], r["n_features"], r["hidden"]
        z = lambda *shape: np.zeros(shape, np.float32)  # noqa: E731
        args = (
            z(T * B, F),
            z(F, 4 * H),
            z(T * B, 4 * H),
            z(B, H),
            z(H, 4 * H),
            z(B, 4 * H),
            z(B, 4 * H),
            z(B, H),
            z(T * B, H),
            z(T * B, 4 * H),
            z(H, 4 * H),
            z(T * B, F),
            z(F, 4 * H),
            T,
        )
        gemm_s = _best_time(functools.partial(_lstm_gemms, *args), min_seconds=min_seconds)
        step_s = B / r["tsrnn_per_s"]
        row = dict(
            case="lstm_gemm_floor",
            batch=B,
            n_steps=T,
            n_features=F,
            hidden=H,
            gemm_ms_per_batch=gemm_s * 1e3,
            step_ms_per_batch=step_s * 1e3,
            gemm_share=gemm_s / step_s,
            gemm_floor_per_s=B / gemm_s,
        )
        if "torch_per_s" in r:
            row["torch_per_s"] = r["torch_per_s"]
            row["ratio_if_only_gemms"] = row["gemm_floor_per_s"] / r["torch_per_s"]
            row["target_ratio"] = LSTM_TARGETS.get(H)
        _print(row)
        rows.append(row)
    return rows


# --- inference latency and estimator overhead --------------------------------------------------


def bench_latency(min_seconds):
    from tsrnn import SequenceRegressor

    X, y = _data(256, 50, 1)
    reg = SequenceRegressor(hidden_size=32, max_epochs=1, random_state=0).fit(X, y[:, 0])
    one = X[:1]
    row = dict(
        case="latency",
        calls_per_s=1 / _best_time(lambda: reg.predict(one), min_seconds=min_seconds),
    )
    row["network_calls_per_s"] = 1 / _best_time(
        lambda: reg.network_.predict(one), min_seconds=min_seconds
    )
    torch = _torch()
    if torch:
        model = _torch_recurrent("lstm", 1, 32).eval()

        def torch_call():
            with torch.no_grad():
                return model(torch.from_numpy(one)).numpy()

        row["torch_calls_per_s"] = 1 / _best_time(torch_call, min_seconds=min_seconds)
        row["ratio"] = row["calls_per_s"] / row["torch_calls_per_s"]
    _print(row)
    return row


def bench_overhead(n_samples):
    from tsrnn import SequenceRegressor
    from tsrnn.training import loop

    X, y = _data(n_samples, 50, 1)
    inside = [0.0]
    original = loop.train_step

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - start

    kw = dict(hidden_size=32, max_epochs=3, batch_size=32, random_state=0)
    SequenceRegressor(**kw).fit(X[:64], y[:64, 0])  # warm-up
    loop.train_step = timed
    try:
        start = time.perf_counter()
        SequenceRegressor(**kw).fit(X, y[:, 0])
        total = time.perf_counter() - start
    finally:
        loop.train_step = original
    row = dict(case="overhead", fit_seconds=total, share_in_training_steps=inside[0] / total)
    _print(row)
    return row


# --- start-up and memory (fresh interpreters) -----------------------------------------------

STARTUP_TSRNN = """
import numpy as np
from tsrnn import SequenceRegressor
rng = np.random.default_rng(0)
X = rng.standard_normal((1024, 50, 1)).astype(np.float32)
SequenceRegressor(cell="{cell}", hidden_size=32, max_epochs=1, batch_size=32,
                  random_state=0).fit(X, X[:, -1, 0])
"""

STARTUP_TORCH = """
import numpy as np
import torch
rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((1024, 50, 1)).astype(np.float32))
y = X[:, -1, :1]
lstm, head = torch.nn.LSTM(1, 32, batch_first=True), torch.nn.Linear(32, 1)
opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=3e-3)
for start in range(0, 1024, 32):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(head(lstm(X[start:start + 32])[0][:, -1]),
                                        y[start:start + 32])
    loss.backward()
    opt.step()
"""


def _run_script(code, env=None):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return time.perf_counter() - start, proc.stdout


def bench_startup(cells=("lstm", "gru", "rnn")):
    _run_script(STARTUP_TSRNN.format(cell="lstm"))  # the on-disk cache is warm after this
    row = dict(
        case="startup",
        tsrnn_warm_s=min(_run_script(STARTUP_TSRNN.format(cell="lstm"))[0] for _ in range(3)),
    )
    if _torch():
        row["torch_s"] = min(_run_script(STARTUP_TORCH)[0] for _ in range(3))
        row["ratio"] = row["torch_s"] / row["tsrnn_warm_s"]
    for cell in cells:
        with tempfile.TemporaryDirectory() as cache:
            cold = _run_script(STARTUP_TSRNN.format(cell=cell), {"NUMBA_CACHE_DIR": cache})[0]
            warm = _run_script(STARTUP_TSRNN.format(cell=cell), {"NUMBA_CACHE_DIR": cache})[0]
        row[f"compile_s_{cell}"] = cold - warm
    _print(row)
    return row


MEMORY_SCRIPT = """
import json, resource, tracemalloc
import numpy as np

def peak_rss():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent process.
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))

imports_before = peak_rss()
from tsrnn import SequenceRegressor
imports = peak_rss()
X = np.random.default_rng(0).standard_normal(({n}, 50, 1))
y = X[:, -1, 0].copy()
before = peak_rss()
tracemalloc.start()
SequenceRegressor(hidden_size=32, max_epochs={epochs}, random_state=0).fit(X, y)
traced = tracemalloc.get_traced_memory()[1]
print(json.dumps(dict(data_bytes=X.nbytes, imports=imports, before=before, peak=peak_rss(),
                      traced_peak=traced)))
"""


def bench_memory(n=100_000, epochs=2):
    report = json.loads(_run_script(MEMORY_SCRIPT.format(n=n, epochs=epochs))[1])
    row = dict(
        case="memory",
        n_samples=n,
        epochs=epochs,
        data_mb=report["data_bytes"] / 1e6,
        imports_mb=report["imports"] / 1e6,
        peak_rss_mb=report["peak"] / 1e6,
        growth_during_fit_mb=(report["peak"] - report["before"]) / 1e6,
        numpy_allocations_peak_mb=report["traced_peak"] / 1e6,
        target_mb=(1.5 * report["data_bytes"] + 200e6) / 1e6,
    )
    _print(row)
    return row


def _print(row):
    parts = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()]
    print("  ".join(parts), flush=True)


def run(quick=False):
    min_seconds = 0.05 if quick else 1.0
    shapes = QUICK_TRAINING_SHAPES if quick else TRAINING_SHAPES
    n = 64 if quick else N_SAMPLES
    training = bench_training(shapes, n, min_seconds)
    rows = training + bench_lstm_gemm_floor(training, min_seconds)
    rows += [
        bench_cnn(n, 144, min_seconds),
        bench_gemm(training, min_seconds),
        bench_latency(min_seconds),
        bench_overhead(n),
    ]
    if quick:
        rows.append(bench_memory(n=2_000, epochs=1))
    else:
        rows += [bench_startup(), bench_memory()]
    return rows


if __name__ == "__main__":
    run("--quick" in sys.argv)
    print("peak RSS of this process:", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "KiB")
