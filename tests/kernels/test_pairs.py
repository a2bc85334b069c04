"""Kernels split in two halves (:func:`tsrnn._threads.run_pair`): same bits, any threads.

The convolution computes its rows, and its weight and input gradients, in halves that
run at the same time when one network trains and a core is spare. Each half must do
exactly the arithmetic of the whole: the results are compared bit for bit with one
unsplit matrix product, with the halves run in turn and at the same time.
"""

import threading
import time

import numpy as np
import pytest
from numba import njit

import tsrnn._threads as threads
from tests.helpers import allow_threads
from tsrnn.kernels.cpu import conv
from tsrnn.kernels.cpu._scalar import activate, activation_slope
from tsrnn.kernels.scalar import LINEAR, RELU, TANH


@pytest.fixture
def two_cores(monkeypatch):
    allow_threads(monkeypatch, 2)


@njit
def _whole_forward(x, W, b, stride, dilation, pad_left, activation, cols, y):
    kernel_size, channels, filters = W.shape
    conv._im2col(x, kernel_size, stride, dilation, pad_left, y.shape[1], cols, 0, cols.shape[0])
    y2 = y.reshape(-1, filters)
    np.dot(cols, W.reshape(kernel_size * channels, filters), y2)
    for r in range(y2.shape[0]):
        for f in range(filters):
            y2[r, f] = activate(y2[r, f] + b[f], activation)


@njit
def _whole_backward(W, stride, dilation, pad_left, activation, cols, y, dy, dx, dW, db, dcols):
    kernel_size, channels, filters = W.shape
    da = dy.reshape(-1, filters).copy()
    y2 = y.reshape(-1, filters)
    db[:] = 0
    for r in range(da.shape[0]):
        for f in range(filters):
            if activation != LINEAR:
                da[r, f] = da[r, f] * activation_slope(y2[r, f], activation)
            db[f] += da[r, f]
    np.dot(cols.T, da, dW.reshape(kernel_size * channels, filters))
    np.dot(da, W.reshape(kernel_size * channels, filters).T, dcols)
    conv._col2im(dcols, stride, dilation, pad_left, y.shape[1], dx, 0, dx.shape[0])


CASES = [
    # batch, steps, channels, kernel, filters, stride, dilation, activation
    (32, 250, 64, 5, 128, 1, 1, LINEAR),  # the LSTM-FCN's middle block
    (32, 250, 128, 3, 64, 1, 1, RELU),
    (13, 97, 7, 4, 9, 2, 1, TANH),  # rows not a multiple of anything
    (5, 300, 3, 3, 16, 1, 4, LINEAR),
    # Above the threshold, but halves near the 1e6 multiply-adds below which OpenBLAS'
    # AVX-512 kernels round differently: must stay one product.
    (6, 250, 8, 5, 24, 1, 1, RELU),
]


def _run(dtype, case, parallel):
    batch, steps, channels, kernel, filters, stride, dilation, activation = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, channels)).astype(dtype)
    W = rng.standard_normal((kernel, channels, filters)).astype(dtype)
    b = rng.standard_normal(filters).astype(dtype)
    pad_left = (kernel - 1) * dilation // 2
    n_out = (steps + 2 * pad_left - dilation * (kernel - 1) - 1) // stride + 1
    cols = np.empty((batch * n_out, kernel * channels), dtype)
    y = np.empty((batch, n_out, filters), dtype)
    dy = rng.standard_normal(y.shape).astype(dtype)
    grads = [np.empty_like(x), np.empty_like(W), np.empty_like(b)]
    if parallel is None:
        _whole_forward(x, W, b, stride, dilation, pad_left, activation, cols, y)
        _whole_backward(
            W, stride, dilation, pad_left, activation, cols, y, dy, *grads, np.empty_like(cols)
        )
        return y, *grads
    with (
        threads.training_network() if parallel else threads.single_blas_thread(),
        threads.deferring(),  # the weight gradient, left to the helper
    ):
        conv.conv1d_forward(x, W, b, stride, dilation, pad_left, activation, cols, y)
        conv.conv1d_backward(
            x, W, stride, dilation, pad_left, activation, cols, y, dy, *grads,
            np.empty_like(y), np.empty_like(cols), True,
        )  # fmt: skip
    return y, *grads


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_halves_give_the_bits_of_the_whole_product(two_cores, dtype, case):
    with threads.single_blas_thread():
        whole = _run(dtype, case, None)
    names = ["y", "dx", "dW", "db"]
    for parallel in (False, True):
        for got, want, name in zip(_run(dtype, case, parallel), whole, names, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"{name}, parallel={parallel}")


def _names_of_the_threads(**kwargs):
    """The threads that ran the two halves; the second waits until the first has started
    (else this thread would take the first back from a helper that has not started it)."""
    names, started = {}, threading.Event()

    def first():
        names["first"] = threading.current_thread().name
        started.set()

    def second():
        assert started.wait(5)
        names["second"] = threading.current_thread().name

    threads.run_pair(first, second, **kwargs)
    return names["first"], names["second"]


def test_the_halves_run_at_the_same_time_only_while_one_network_trains(two_cores):
    main = threading.current_thread().name
    assert _names_of_the_threads() == (main, main)  # outside training: BLAS' own threads
    with threads.training_network():
        first, second = _names_of_the_threads()
        assert first.startswith("tsrnn-pair") and second == main
        assert _names_of_the_threads(worth_a_thread=False) == (main, main)
        with threads.training_network():  # a second network training at the same time
            assert _names_of_the_threads() == (main, main)


def test_a_half_the_helper_has_not_started_is_taken_back(two_cores):
    main = threading.current_thread().name
    release, names = threading.Event(), []
    with threads.training_network(), threads.deferring():
        threads.defer(lambda: release.wait(5))  # keeps the helper busy
        threads.run_pair(lambda: names.append(threading.current_thread().name), lambda: None)
        assert names == [main]  # ran here, before the helper was free
        release.set()


def test_one_core_runs_the_halves_in_turn(monkeypatch):
    allow_threads(monkeypatch, 1)
    names = []
    with threads.training_network():
        threads.run_pair(*[lambda: names.append(threading.current_thread().name)] * 2)
    assert names == [threading.current_thread().name] * 2


def test_blas_limited_to_one_thread_by_the_caller_keeps_a_fit_on_one_core(monkeypatch):
    from threadpoolctl import threadpool_limits

    monkeypatch.setattr(threads, "default_thread_count", lambda: 2)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    main = threading.current_thread().name
    with threadpool_limits(1, user_api="blas"), threads.training_network():
        assert _names_of_the_threads() == (main, main)


@pytest.mark.parametrize("failing", ["first", "second"])
def test_an_error_in_either_half_is_raised_after_both_have_finished(two_cores, failing):
    finished, started = [], threading.Event()

    def first():
        started.set()
        time.sleep(0.05)  # still running when the second fails
        if failing == "first":
            raise ValueError("first failed")
        finished.append("first")

    def second():
        assert started.wait(5)
        if failing == "second":
            raise ValueError("second failed")
        finished.append("second")

    with threads.training_network(), pytest.raises(ValueError, match=f"{failing} failed"):
        threads.run_pair(first, second)
    assert sorted(finished) == [n for n in ("first", "second") if n != failing]
    # The helper is free again.
    with threads.training_network():
        assert _names_of_the_threads()[0].startswith("tsrnn-pair")


def test_defer_runs_at_once_outside_a_deferring_scope(two_cores):
    ran = []
    with threads.training_network():
        threads.defer(lambda: ran.append(threading.current_thread().name))
        assert ran == [threading.current_thread().name]


def test_deferred_tasks_run_on_the_helper_and_have_finished_when_the_scope_ends(two_cores):
    ran, started = [], threading.Event()

    def task(name):
        def call():
            started.set()
            time.sleep(0.02)
            ran.append((name, threading.current_thread().name))

        return call

    with threads.training_network():
        with threads.deferring():
            threads.defer(task("a"))
            assert started.wait(5)
            threads.defer(task("b"))
            with threads.deferring():  # nested: its own tasks finish at its exit
                threads.defer(task("c"))
            assert "c" in [name for name, _ in ran]
        assert sorted(name for name, _ in ran) == ["a", "b", "c"]
        assert dict(ran)["a"].startswith("tsrnn-pair")
    with threads.deferring():  # no network training: no helper
        threads.defer(task("d"))
        assert ran[-1] == ("d", threading.current_thread().name)


def test_a_deferred_error_is_raised_when_the_scope_ends(two_cores):
    ran = []

    def fails():
        raise ValueError("deferred failed")

    with threads.training_network():
        with pytest.raises(ValueError, match="deferred failed"), threads.deferring():
            threads.defer(fails)
            threads.defer(lambda: ran.append("after"))
        # The tasks after it were cancelled or had finished: none runs any more.
        assert ran in ([], ["after"])
        n = len(ran)
        time.sleep(0.05)
        assert len(ran) == n
        # A failure or Ctrl-C inside the scope: a started task is waited for, a queued
        # one cancelled if the helper has not taken it, and nothing runs after the end.
        for failure in (KeyError("in the scope"), KeyboardInterrupt()):
            ran.clear()
            started, release = threading.Event(), threading.Event()

            def running(started=started, release=release):
                started.set()
                release.wait(5)
                time.sleep(0.02)
                ran.append("running")

            with pytest.raises(type(failure)), threads.deferring():
                threads.defer(running)
                assert started.wait(5)
                threads.defer(lambda: ran.append("queued"))
                release.set()
                raise failure
            # (the queued one may have started as the first finished, and then finished too)
            assert ran in (["running"], ["running", "queued"])
            n = len(ran)
            time.sleep(0.05)
            assert len(ran) == n


def test_ctrl_c_from_a_deferred_task_still_finishes_the_others_first(two_cores):
    """A KeyboardInterrupt out of one task at the end of the scope: the tasks after it
    are cancelled or waited for, so none runs once control has returned."""
    ran, started = [], threading.Event()

    def interrupted():
        started.set()
        time.sleep(0.02)
        raise KeyboardInterrupt

    def slow():
        time.sleep(0.1)
        ran.append("slow")

    with threads.training_network():
        with pytest.raises(KeyboardInterrupt), threads.deferring():
            threads.defer(interrupted)
            assert started.wait(5)
            threads.defer(slow)  # queued: the helper takes it once the first has raised
        n = len(ran)
        time.sleep(0.2)
        assert len(ran) == n  # it finished before the scope ended, or never started
