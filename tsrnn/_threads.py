"""One BLAS thread while training, so that seeded fits do not depend on the thread count.

OpenBLAS runs a matrix product above about 2.6e5 multiply-adds on several threads,
and then tiles the output differently: each thread's share, and halves of it, reach
the micro-kernel in other widths than with one thread, and a micro-kernel may sum
an edge tile in another order than a full one (many float32 shapes, a few float64
ones: ``python -m benchmarks.blas_threads``). A product's last bits then depend on
the thread count, and after a few epochs the fit does. Training therefore runs with
BLAS limited to one thread. The kernels' products are small, and on a shared
machine OpenBLAS' threads spin between them against the other threads and
processes, so one thread was also the faster (``benchmarks/README.md``).

The limit is process-wide (it is BLAS' own setting), so fits running in several
threads at once share one limit: the first to enter sets it, the last to leave
restores the original. threadpoolctl (3.8 and later) lets only one thread set
OpenBLAS' limit and silently ignores the others; the count makes this module the
only setter while it holds the limit, so it takes that role before each change.
Another library that limits BLAS from another thread at the same time (scikit-learn's
KMeans does, through threadpoolctl) can still undo the limit while a fit runs.
"""

import contextlib
import os
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor

from joblib import cpu_count
from threadpoolctl import OpenBLASController, ThreadpoolController

_lock = threading.Lock()
_users = 0
_limiter = None
_blas_threads_before = None  # BLAS' thread limit when the limit to one was set
_training = 0  # networks training now, in any thread of this process
_threads_allowed = 1  # default_thread_count() when the first of them started
_helper = None  # (pid, one-thread executor) that runs the other half of split kernels


def _take_control():
    """Let this thread set OpenBLAS' limit (threadpoolctl 3.8+ allows one thread)."""
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


def _warn_no_blas():
    # threadpoolctl before 3.5 does not know the 'libscipy_openblas' name of current
    # NumPy and SciPy wheels: the limit would then silently do nothing.
    warnings.warn(
        "tsrnn found no BLAS library to limit to one thread while training (is "
        "threadpoolctl older than 3.5?): seeded fits may then depend on the number of "
        "BLAS threads",
        RuntimeWarning,
        stacklevel=4,
    )


@contextlib.contextmanager
def single_blas_thread():
    """Limit every loaded BLAS library to one thread while the block runs.

    Re-entrant and safe to use from several threads at once. Numba's ``np.dot``
    calls SciPy's BLAS, which is loaded when SciPy's Cython BLAS module is imported;
    it is imported here first so that the limit reaches it.

    Yields
    ------
    None
    """
    global _users, _limiter, _blas_threads_before
    import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS that Numba calls

    with _lock:
        if _users == 0:
            _take_control()
            blas = ThreadpoolController().select(user_api="blas")
            if not blas.lib_controllers:
                _warn_no_blas()
            # (None where a library does not report it)
            counts = [c.num_threads for c in blas.lib_controllers]
            _blas_threads_before = min(
                (n for n in counts if isinstance(n, int) and n > 0), default=None
            )
            _limiter = blas.limit(limits=1)
            _take_control()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _take_control()
                _limiter.restore_original_limits()
                _take_control()
                _limiter = None


def default_thread_count():
    """The threads a fit may use by default: the cores, capped by ``OMP_NUM_THREADS``.

    joblib's process workers (``GridSearchCV(n_jobs=...)``, ``cross_val_score``), dask's
    workers and batch schedulers set ``OMP_NUM_THREADS`` to each worker's share of the
    cores; scikit-learn's OpenMP estimators (HistGradientBoosting) follow it, and so do
    an ensemble's members, so that workers do not together start more threads than
    there are cores.

    Returns
    -------
    int
        At least 1.
    """
    cores = cpu_count()
    # OpenMP allows a comma-separated list, one count per nesting level.
    setting = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if setting.isdigit() and int(setting) > 0:
        cores = min(cores, int(setting))
    return max(cores, 1)


@contextlib.contextmanager
def training_network():
    """Count a network's training while the block runs, with BLAS on one thread.

    The count is how :func:`run_pair` knows whether a core is spare: ensemble members
    and other fits training at the same time in this process use the cores already.

    Yields
    ------
    None
    """
    global _training, _threads_allowed
    with single_blas_thread():
        counted = False
        try:
            with _lock:
                if _training == 0:
                    # Read once per fit: it costs about 50 us (joblib reads the cgroup
                    # limits), as much as the halves it decides about.
                    _threads_allowed = _allowed_threads()
                _training += 1
                counted = True
            yield
        finally:
            if counted:
                with _lock:
                    _training -= 1


def _allowed_threads():
    # OPENBLAS_NUM_THREADS=1 (or OMP_NUM_THREADS=1) says the process should use one core,
    # and so does BLAS limited to one thread when training began (threadpoolctl's
    # threadpool_limits(1) around a fit, as a worker of a parallel search may set).
    setting = os.environ.get("OPENBLAS_NUM_THREADS", "").strip()
    cores = default_thread_count()
    if setting.isdigit() and int(setting) > 0:
        cores = min(cores, int(setting))
    limit = _caller_blas_limit()
    if limit is not None:
        cores = min(cores, limit)
    return cores


def _caller_blas_limit():
    """BLAS' thread limit when the process began to limit it to one (None: unknown).

    One reading for the process: the limit in force when the first of the fits (or
    predictions) running at once entered :func:`single_blas_thread`. A serial BLAS
    build reports 1, and then keeps fits on one core too.
    """
    return _blas_threads_before


def _spare_core():
    return _training == 1 and _threads_allowed >= 2


_local = threading.local()  # .on_helper: this is the helper; .pending: deferred tasks


def _mark_helper():
    _local.on_helper = True


def _executor():
    global _helper
    with _lock:
        # A forked child inherits the executor object but not its thread: make a new one.
        if _helper is None or _helper[0] != os.getpid():
            _helper = (
                os.getpid(),
                ThreadPoolExecutor(1, thread_name_prefix="tsrnn-pair", initializer=_mark_helper),
            )
        return _helper[1]


def _can_hand_over():
    """Whether a task may go to the helper thread.

    Only when a core is spare, and never from the helper itself: its tasks never wait
    for the helper, so they cannot wait for each other.
    """
    return _spare_core() and not getattr(_local, "on_helper", False)


def _queue(future, task):
    """Queue ``task`` on the helper, to settle ``future``; False if it cannot be queued.

    ``future`` is made (and registered) by the caller before this is called, so that
    a Ctrl-C at any point still finds it: cancelling it before the helper starts
    keeps the task from running at all.
    """

    def run():
        if not future.set_running_or_notify_cancel():
            return  # cancelled: taken back, or dropped after a failure
        try:
            future.set_result(task())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(exc)

    try:
        _executor().submit(run)
    except RuntimeError:  # the interpreter is shutting down: no new threads
        return False
    return True


def _wait(future):
    """The result of a started ``future``; Ctrl-C waits on (the task still writes)."""
    interrupted = None
    while True:
        try:
            future.result()
            break
        except KeyboardInterrupt as exc:
            if future.done():
                raise
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def _take_back(future, task):
    """Finish a handed-over ``task``: here if the helper has not started it, else wait."""
    if future.cancel():
        task()
    else:
        _wait(future)


def _drop(future):
    """After a failure here: cancel ``future``, or let it finish (it still writes).

    Returns the exception that came while waiting, Ctrl-C included (None if none).
    """
    if future.cancel():
        return None
    try:
        _wait(future)
    except BaseException as exc:  # noqa: BLE001 - raised by the caller, after the rest
        return exc
    return None


def _finish_all(pending, error=None):
    """Finish the handed-over ``(future, task)`` pairs in order; raise the first error.

    Until an error (``error``, if given, is one already), each is taken back
    (:func:`_take_back`); after it, the rest are dropped (:func:`_drop`): cancelled if
    not started, else waited for. No task still runs when this returns or raises,
    even after Ctrl-C.
    """
    for future, task in pending:
        if error is None:
            try:
                _take_back(future, task)
            except BaseException as exc:  # noqa: BLE001 - raised below, after the rest
                error = exc
                _drop(future)  # interrupted before it finished: it may still run
        else:
            late = _drop(future)
            if (
                late is not None
                and not isinstance(late, Exception)
                and isinstance(error, Exception)
            ):
                # A Ctrl-C while cleaning up after an error wins (a caller may catch
                # the error, e.g. a search's error_score, and would lose the Ctrl-C).
                late.__context__ = error
                error = late
    if error is not None:
        raise error


def run_pair(first, second, worth_a_thread=True):
    """Call ``first()`` and ``second()``: at the same time when a core is spare, else in turn.

    The kernels split their work into two halves by the shapes alone, and each half
    does the same arithmetic wherever it runs, so results do not depend on whether
    the halves ran at the same time. They do when one network trains (in
    :func:`training_network`) and the process may use two cores or more
    (:func:`default_thread_count`); ``first`` is then queued on a helper thread while
    this thread runs ``second``, and if the helper has not started it by then (it may
    still be busy with a task from :func:`defer`), this thread runs it too. Both have
    finished when this returns; an exception of either is raised.

    Handing a call to the helper thread costs about 30-40 us, so callers pass
    ``worth_a_thread=False`` for halves not much longer than that.

    Parameters
    ----------
    first, second : callable
        Called without arguments; they must write to different memory.
    worth_a_thread : bool, default=True
        False runs them in turn whatever the cores.
    """
    if not worth_a_thread:
        first()
        second()
        return
    with deferring():  # first has finished (here or on the helper) when this ends
        defer(first)
        second()


@contextlib.contextmanager
def deferring():
    """A scope in which :func:`defer` may leave tasks to the helper thread.

    Every task deferred in the scope has finished when the block exits (the first
    exception of one of them is then raised), also when the block raises or is
    interrupted: a task the helper has not started is then cancelled, one it has
    started is waited for.

    Yields
    ------
    None
    """
    outer = getattr(_local, "pending", None)
    _local.pending = pending = []
    error = None
    try:
        yield
    except BaseException as exc:  # noqa: BLE001 - raised once the tasks are accounted for
        error = exc
    finally:
        _local.pending = outer
        # Taken back in order (a task the helper has not started runs here), or after
        # an error dropped.
        _finish_all(pending, error)


def defer(task):
    """Call ``task()`` now, or inside a :func:`deferring` scope maybe later on the helper.

    For work whose result nothing in the scope reads (a weight gradient during a
    backward pass): it then runs beside the rest of the pass when a core is spare.
    ``task`` must write memory that nothing else in the scope reads or writes, and
    read memory that nothing in the scope writes.

    Parameters
    ----------
    task : callable
        Called without arguments.
    """
    pending = getattr(_local, "pending", None)
    if pending is None or not _can_hand_over():
        task()
        return
    future = Future()
    pending.append((future, task))  # before queueing: a Ctrl-C from here on finds it
    if not _queue(future, task):
        pending.pop()
        task()
