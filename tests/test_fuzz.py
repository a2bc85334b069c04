"""Input fuzzing of every public entry point with hypothesis.

The only acceptable outcomes for generated input are a correct result (checked
here: shapes, labels, finiteness) or a documented exception (``ValueError`` or
``TypeError``, including ``ModelFileError``, ``NotFittedError``, or the CLI's exit
status 1/2 with a one-line message) whose message names the problem. A crash,
a hang, an ``IndexError``/``KeyError``/Numba error, or a wrong shape fails.

These tests run in their own interpreter under ``NUMBA_BOUNDSCHECK=1``
(``tests/layers/test_boundscheck.py``), so a kernel reading out of bounds raises
instead of returning garbage. Set ``TSRNN_FUZZ=1`` to run them directly, and
``TSRNN_FUZZ_EXAMPLES=<multiplier>`` for a longer, randomised campaign (CI uses a
fixed, derandomised campaign so its result is reproducible).
"""

import io
import json
import os
import re
import signal
import warnings
import zipfile
from collections import Counter
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tsrnn
from tests.modelfile.craft import BZIP2, DEFLATED, STORED, Raw, member, members_of, reseal
from tsrnn import Forecaster, SequenceClassifier, SequenceRegressor, _formats, cli
from tsrnn.preprocessing import TimeSeriesScaler
from tsrnn.windows import WindowTransformer, make_windows

pytestmark = pytest.mark.fuzz

MULTIPLIER = int(os.environ.get("TSRNN_FUZZ_EXAMPLES", "1"))
RUNS = Counter()


def fuzz_settings(n):
    return settings(
        max_examples=n * MULTIPLIER,
        deadline=None,
        derandomize=MULTIPLIER == 1,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --- the oracle for errors ------------------------------------------------------------------

#: Messages that leak internals instead of naming the problem.
INTERNAL = re.compile(
    r"could not broadcast|setting an array element|out of bounds|cannot reshape|zero-size "
    r"array|invalid literal|unhashable|operands could not|object of type|has no attribute|"
    r"numba|Traceback",
    re.IGNORECASE,
)


def outcome(fn):
    """Run ``fn``; return (result, None) or (None, exception) for a documented error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn()
        event("correct result")
        return result, None
    except (ValueError, TypeError) as exc:
        event(f"documented error: {type(exc).__name__}")
        message = str(exc)
        assert len(message) >= 10, f"{type(exc).__name__} without a useful message: {exc!r}"
        assert not INTERNAL.search(message), f"internal error leaked: {exc!r}"
        return None, exc


# --- strategies -----------------------------------------------------------------------------

DTYPES = st.sampled_from(
    ["bool", "int8", "int64", "uint8", "float16", "float32", "float64", "complex64", "object"]
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=32)


def elements(dtype):
    if dtype == "object":
        return st.one_of(FLOATS, st.text(max_size=3), st.none(), st.integers(-5, 5))
    if dtype == "float16":
        return st.floats(width=16)
    if dtype.startswith("float"):
        return FLOATS  # NaN, inf, huge values and subnormals included
    return None


@st.composite
def any_array(draw, min_dims=0, max_dims=4, max_side=4):
    dtype = draw(DTYPES)
    shape = draw(
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side)
    )
    return draw(hnp.arrays(dtype=dtype, shape=shape, elements=elements(dtype)))


@st.composite
def ragged_list(draw):
    n_features = draw(st.integers(1, 2))
    items = []
    for _ in range(draw(st.integers(0, 4))):
        width = n_features if draw(st.booleans()) or len(items) == 0 else n_features + 1
        shape = draw(
            st.sampled_from([(draw(st.integers(0, 4)), width), (draw(st.integers(0, 4)),)])
        )
        items.append(draw(hnp.arrays("float64", shape, elements=FLOATS)))
    return items


@st.composite
def multiindex_frame(draw):
    n = draw(st.integers(0, 8))
    instances = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))  # dups, unsorted
    n_cols = draw(st.integers(1, 2))
    values = draw(hnp.arrays("float64", (n, n_cols), elements=FLOATS))
    index = pd.MultiIndex.from_arrays([instances, times], names=["instance", "time"])
    frame = pd.DataFrame(values, index=index, columns=[f"c{i}" for i in range(n_cols)])
    if draw(st.booleans()) and n:
        frame = frame.astype(object)
        frame.iloc[0, 0] = draw(st.sampled_from(["x", None, b"y"]))
    return frame


@st.composite
def data_array(draw):
    ndim = draw(st.integers(1, 4))
    names = draw(
        st.lists(
            st.sampled_from(["sample", "time", "feature", "x", "case", "step"]),
            min_size=ndim,
            max_size=ndim,
            unique=True,
        )
    )
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=3))
    values = draw(hnp.arrays("float64", shape, elements=FLOATS))
    da = xr.DataArray(values, dims=names)
    if draw(st.booleans()):
        return da.to_dataset(name="v") if ndim == 2 else xr.Dataset({"v": da})
    return da


#: Well-formed sequences (finite, 1-6 samples), so that the success paths get fuzzed too.
PLAUSIBLE = hnp.arrays(
    "float64",
    st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 2)),
    elements=st.floats(-1e3, 1e3) | st.sampled_from([0.0, 1e-300, -5e-324, 1e30]),
)
SEQUENCE_INPUT = st.one_of(
    any_array(),
    ragged_list(),
    multiindex_frame(),
    data_array(),
    any_array(min_dims=2, max_dims=3).map(lambda a: a.tolist()),
    PLAUSIBLE,
    PLAUSIBLE.map(lambda a: a[:, :, 0]),
)


def n_samples_of(X):
    """How many sequences a successful conversion must report."""
    if isinstance(X, pd.DataFrame):
        return X.index.get_level_values(0).nunique()
    if isinstance(X, xr.Dataset):
        return None
    if isinstance(X, xr.DataArray):
        return None  # depends on the recognised dimension names
    return len(X) if isinstance(X, list) or X.ndim > 0 else None


# --- converters, windows, scaler ------------------------------------------------------------


@fuzz_settings(3000)
@given(X=SEQUENCE_INPUT, channels_first=st.booleans())
def test_fuzz_format_conversion(X, channels_first):
    RUNS["format conversion"] += 1
    fmt = "channels_first" if channels_first else "channels_last"
    seq, _ = outcome(lambda: _formats.to_sequences(X, fmt))
    if seq is None:
        return
    assert seq.values.ndim == 3 and seq.values.dtype == np.float64
    if seq.mask is not None:
        assert seq.mask.shape == seq.values.shape[:2] and seq.mask.dtype == bool
        assert seq.mask.any(axis=1).all()
    expected = n_samples_of(X)
    assert expected is None or seq.values.shape[0] == expected


@fuzz_settings(1500)
@given(
    y=any_array(max_dims=3, max_side=8)
    | hnp.arrays("float64", st.integers(4, 20))
    | hnp.arrays("float32", st.tuples(st.integers(4, 20), st.integers(1, 3))),
    window=st.integers(-1, 5),
    horizon=st.integers(0, 4),
    stride=st.integers(0, 3),
    exog=st.none() | any_array(max_dims=2, max_side=8),
)
def test_fuzz_windows(y, window, horizon, stride, exog):
    RUNS["windows"] += 1
    out, _ = outcome(lambda: make_windows(y, window, horizon, stride, exog=exog))
    if out is not None:
        X, Y, positions = out
        k = 1 if y.ndim == 1 else y.shape[1]
        e = 0 if exog is None else (1 if exog.ndim == 1 else exog.shape[1])
        n_windows = len(range(0, len(y) - window - horizon + 1, stride))
        assert X.shape == (n_windows, window, k + e)
        assert Y.shape == (n_windows, horizon, k) and positions.shape == (n_windows, horizon)
    t, _ = outcome(lambda: WindowTransformer(window=window, horizon=horizon).fit_transform(y))
    if t is not None:
        assert t.ndim == 3 and t.shape[1] == window


@fuzz_settings(1000)
@given(X=SEQUENCE_INPUT)
def test_fuzz_scaler(X):
    RUNS["scaler"] += 1
    Xt, _ = outcome(lambda: TimeSeriesScaler().fit_transform(X))
    if Xt is not None:
        parts = Xt if isinstance(Xt, list) else [np.asarray(Xt, dtype=float)]
        assert all(np.isfinite(p).all() for p in parts)


# --- estimators -----------------------------------------------------------------------------

ESTIMATOR_KW = dict(hidden_size=2, max_epochs=1, batch_size=4, random_state=0)


@st.composite
def targets(draw, n):
    kind = draw(st.sampled_from(["match", "match2d", "labels", "random"]))
    if kind == "match" and n is not None:
        # Explicit elements: hypothesis 6.100 cannot infer them for the object dtype.
        dtype = draw(DTYPES)
        return draw(hnp.arrays(dtype, (n,), elements=elements(dtype)))
    if kind == "labels" and n is not None:
        pool = draw(st.sampled_from([["a", "b", "c"], [0, 1], [True, False], [2.5, -1.0]]))
        return np.array(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)))
    if kind == "match2d" and n is not None:
        return draw(hnp.arrays("float64", (n, draw(st.integers(0, 2))), elements=FLOATS))
    return draw(any_array(max_dims=2))


@st.composite
def estimator_case(draw):
    X = draw(SEQUENCE_INPUT)
    return X, draw(targets(n_samples_of(X)))


def check_regression(est, X, y):
    pred, _ = outcome(lambda: est.predict(X))
    if pred is None:
        return
    y = np.asarray(y)
    expected = (
        (len(y),)
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and est._y_1d)
        else (len(y), y.shape[1])
    )
    assert pred.shape == expected, (pred.shape, y.shape)
    assert np.isfinite(np.asarray(pred)).all()  # MultiIndex input: a labelled Series/DataFrame


@fuzz_settings(1500)
@given(case=estimator_case(), incremental=st.booleans(), cell=st.sampled_from(["lstm", "gru"]))
def test_fuzz_regressor(case, incremental, cell):
    RUNS["SequenceRegressor"] += 1
    X, y = case
    est = SequenceRegressor(cell=cell, **ESTIMATOR_KW)
    fitted, _ = outcome(lambda: (est.partial_fit if incremental else est.fit)(X, y))
    if fitted is not None:
        check_regression(est, X, y)


@fuzz_settings(1500)
@given(case=estimator_case(), incremental=st.booleans())
def test_fuzz_classifier(case, incremental):
    RUNS["SequenceClassifier"] += 1
    X, y = case
    est = SequenceClassifier(architecture="recurrent", cell="rnn", **ESTIMATOR_KW)

    def fit():
        if incremental:
            return est.partial_fit(X, y, classes=np.unique(np.asarray(y)))
        return est.fit(X, y)

    fitted, _ = outcome(fit)
    if fitted is None:
        return
    pred, _ = outcome(lambda: est.predict(X))
    if pred is not None:
        n = len(np.asarray(y))
        assert pred.shape[0] == n and np.isin(pred, est.classes_).all()
        proba = est.predict_proba(X)
        assert proba.shape[0] == n and np.allclose(proba.sum(axis=-1), 1.0)


@fuzz_settings(600)
@given(case=estimator_case(), other=SEQUENCE_INPUT)
def test_fuzz_predict_on_other_input(case, other):
    RUNS["predict after fit"] += 1
    X, y = case
    est = SequenceRegressor(**ESTIMATOR_KW)
    fitted, _ = outcome(lambda: est.fit(X, np.arange(len(X), dtype=float)))
    if fitted is None:
        _, err = outcome(lambda: est.predict(other))
        assert err is not None  # NotFittedError (a ValueError)
        return
    pred, _ = outcome(lambda: est.predict(other))
    if pred is not None:
        assert pred.ndim == 1 and np.isfinite(pred).all()


@st.composite
def series(draw):
    kind = draw(st.sampled_from(["numpy", "pandas", "pandas-bad-index", "xarray"]))
    n = draw(st.integers(0, 30))
    if kind == "numpy":
        return draw(any_array(max_dims=3, max_side=30))
    values = draw(hnp.arrays("float64", (n,), elements=st.floats(-1e3, 1e3) | FLOATS))
    index = pd.date_range("2000-01-01", periods=n, freq="D")
    if kind == "pandas-bad-index" and n:
        positions = draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
        index = index[positions]  # duplicated and unsorted timestamps
    if kind == "xarray":
        return xr.DataArray(values, dims=["time"], coords={"time": index})
    return pd.Series(values, index=index, name="y")


@fuzz_settings(600)
@given(
    y=series(),
    window=st.integers(0, 6),
    horizon=st.integers(0, 4),
    strategy=st.sampled_from(["direct", "recursive"]),
)
def test_fuzz_forecaster(y, window, horizon, strategy):
    RUNS["Forecaster"] += 1
    est = Forecaster(
        window=window,
        horizon=horizon,
        strategy=strategy,
        hidden_size=2,
        max_epochs=1,
        random_state=0,
    )
    fitted, _ = outcome(lambda: est.fit(y))
    if fitted is None:
        return
    pred = est.predict()
    assert len(pred) == horizon and np.isfinite(np.asarray(pred, dtype=float)).all()
    lower, upper = est.predict_interval(0.9)
    assert len(lower) == len(upper) == horizon
    assert (np.asarray(lower) <= np.asarray(upper)).all()


# --- files and the command line -------------------------------------------------------------


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "m.tsrnn"
    SequenceRegressor(**ESTIMATOR_KW).fit(np.zeros((4, 3, 1)), np.arange(4.0)).save(path)
    return path.read_bytes()


@fuzz_settings(800)
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=3),
    cut=st.none() | st.integers(0, 10**6),
    noise=st.binary(max_size=64),
)
def test_fuzz_model_files(model_file, tmp_path_factory, edits, cut, noise):
    RUNS["model files"] += 1
    data = bytearray(model_file if edits or cut is not None else noise)
    for pos, flip in edits:
        data[pos % len(data)] ^= flip
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = tmp_path_factory.getbasetemp() / "fuzzed.tsrnn"
    path.write_bytes(bytes(data))
    loaded, err = outcome(lambda: tsrnn.load(path))
    if loaded is not None:
        assert bytes(data) == model_file  # only the untouched file loads
    else:
        assert isinstance(err, tsrnn.ModelFileError)


# --- crafted model files: re-sealed, so that the parser itself is fuzzed --------------------

#: The address space a crafted file may use on top of what the process has (RLIMIT_AS).
CRAFTED_MEMORY = 1 << 30
#: CPU seconds one crafted file may take to load, and then to predict if it loads.
CRAFTED_SECONDS = 5
CRAFTED_USE_SECONDS = 120


@pytest.fixture(scope="module")
def crafted_sources(tmp_path_factory):
    """Valid model files of several kinds, as members, to start the crafting from."""
    X = np.random.default_rng(0).normal(size=(6, 4, 2))
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.period_range("2000-01", periods=30, freq="M"))
    models = [
        SequenceRegressor(**ESTIMATOR_KW).fit(X, X[:, -1, 0]),
        SequenceClassifier(
            architecture="recurrent", cell="gru", conv_filters=2, **ESTIMATOR_KW
        ).fit(X, list("abcabc")),
        Forecaster(window=4, horizon=2, hidden_size=2, max_epochs=1, random_state=0).fit(y),
        TimeSeriesScaler().fit(X),
    ]
    for m in models:  # compile their kernels now, not inside a case's time limit
        if isinstance(m, Forecaster):
            m.predict()
        elif hasattr(m, "predict"):
            m.predict(X)
    return [(members_of(tsrnn.persistence.dumps(m)), X) for m in models]


def _nodes(tree, path=()):
    """Every (path, node) of a JSON tree, depth first."""
    yield path, tree
    if isinstance(tree, dict):
        items = tree.items()
    else:
        items = enumerate(tree) if isinstance(tree, list) else ()
    for key, child in items:
        yield from _nodes(child, (*path, key))


def _replace(tree, path, value):
    if not path:
        return value
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return tree


#: Numbers that size things, and strings that name tags, classes and dtypes.
SIZES = [0, -1, 1, 2**31, 10**12, -(10**18), 10**30, 1e308, 3000, 10**6]
NAMES = [
    "__ndarray__",
    "__network__",
    "__dict__",
    "__tuple__",
    "predict",
    "arrays/0.npy",
    "RNN",
    "Dense",
    "Adam",
    "lstm",
    "float64",
    "<f4",
    "|O",
]
KEYS = ["__dict__", "__tuple__", "__ndarray__", "__index__", "shape", "class", "config", "x"]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(SIZES)
    | st.sampled_from(NAMES),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=8,
)


def _swap_type(value):
    """A value of another JSON type than ``value``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def _npy_header(shape, descr):
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


@st.composite
def crafted_edit(draw, members):
    """One edit of a model file's members (a dict, changed in place); returns raw members
    (name -> Raw) whose sizes or compression lie."""
    kind = draw(
        st.sampled_from(
            [
                "json",
                "json",
                "json",
                "swap",
                "nest",
                "npy",
                "inflate",
                "compress",
                "drop",
                "add",
                "bytes",
            ]
        )
    )
    event(f"crafted edit: {kind}")
    name = draw(st.sampled_from(sorted(set(members) - {"manifest.json"})))
    data = members[name]
    if kind in ("json", "swap", "nest"):
        name = draw(st.sampled_from(["state.json", "state.json", "manifest.json"]))
        try:
            tree = json.loads(members[name])
            # Inside the try: from Python 3.12 json's C recursion limit is not Python's,
            # so json loads trees nested deeper than this walk can recurse.
            nodes = list(_nodes(tree))
        except (KeyError, ValueError, RecursionError):
            return {}  # an earlier edit removed, broke or nested it
        path, node = nodes[draw(st.integers(0, len(nodes) - 1))]
        if kind == "json":
            value = draw(JSON_VALUES)
        elif kind == "swap":
            value = _swap_type(node)
        else:
            value = "@nested@"  # spliced in as text: json itself would recurse
        text = json.dumps(_replace(tree, path, value))
        depth = draw(st.sampled_from([10, 63, 64, 65, 900, 5000]))
        members[name] = text.replace('"@nested@"', "[" * depth + "]" * depth).encode()
    elif kind == "npy" and name.endswith(".npy"):
        shape = draw(st.lists(st.sampled_from([0, 1, 2, 3, 12, 2**31, 10**12]), max_size=3))
        descr = draw(st.sampled_from(["<f4", "<f8", "<i8", "|O", "<U3", "|b1", "<c16", "V8"]))
        header = _npy_header(tuple(shape), descr)
        body_len = draw(st.sampled_from([0, 8, 64, len(data)]))
        members[name] = header + data[-body_len:] if body_len else header
    elif kind in ("inflate", "compress"):
        raw = member(data, name=name)
        if kind == "inflate":
            sizes = [raw.file_size + 1, 2 * raw.file_size, 1 << 30, 2**32 - 1]
            size = draw(st.sampled_from(sizes))
            raw = Raw(raw.compressed, raw.method, size, raw.crc, raw.digest)
        else:
            raw = member(data, draw(st.sampled_from([STORED, DEFLATED, BZIP2])))
        del members[name]
        return {name: raw}
    elif kind == "drop" and name != "manifest.json":
        del members[name]
    elif kind == "add":
        added = draw(st.sampled_from(["arrays/99.npy", "extra.bin", "../evil", "state.json/x"]))
        members[added] = draw(st.binary(max_size=32))
    else:
        name = draw(st.sampled_from(sorted(members)))
        data = members[name]
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        members[name] = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos + 1 :]
    return {}


@st.composite
def crafted_file(draw, sources):
    members, X = sources[draw(st.integers(0, len(sources) - 1))]
    members = dict(members)
    raw = {}
    for _ in range(draw(st.integers(1, 3))):
        raw.update(draw(crafted_edit(members)))
        for name in raw:
            members.pop(name, None)
    return reseal(members, raw=raw), X


class _TookTooLong(BaseException):
    """Raised by the per-case CPU-time alarm (a BaseException, so nothing swallows it)."""


@contextmanager
def bounded(memory, seconds):
    """Run the block under an address-space limit of ``memory`` bytes more than the
    process has now, and a CPU-time limit of ``seconds``."""
    import resource

    used = int(re.search(r"VmSize:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) << 10
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + memory if hard == resource.RLIM_INFINITY else min(used + memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def alarm(signum, frame):
        raise _TookTooLong(f"a crafted model file took more than {seconds} s of CPU")

    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@fuzz_settings(500)
@given(data=st.data())
def test_fuzz_crafted_model_files(crafted_sources, tmp_path_factory, data):
    RUNS["crafted model files"] += 1
    crafted, X = data.draw(crafted_file(crafted_sources))
    path = tmp_path_factory.getbasetemp() / "crafted.tsrnn"
    path.write_bytes(crafted)
    with bounded(CRAFTED_MEMORY, CRAFTED_SECONDS):
        loaded, err = outcome(lambda: tsrnn.load(path))
    if loaded is None:
        assert isinstance(err, tsrnn.ModelFileError), repr(err)
        return
    # What loads is used once, under the same memory limit; its time limit allows for
    # compiling a kernel variant the sources did not use. Private state the schema does
    # not know (a Forecaster's _meta) may still fail here, but must not hang or exhaust
    # memory.
    with bounded(CRAFTED_MEMORY, CRAFTED_USE_SECONDS):
        try:
            if isinstance(loaded, Forecaster):
                loaded.predict()
            elif hasattr(loaded, "predict"):
                loaded.predict(X)
            elif hasattr(loaded, "transform"):
                loaded.transform(X)
        except MemoryError:
            raise
        except Exception as exc:
            event(f"a loaded crafted file failed in use: {type(exc).__name__}")


@fuzz_settings(150)
@given(
    frame=st.data(),
    horizon=st.integers(-1, 3),
    window=st.integers(-1, 4),
    column=st.sampled_from([None, "y", "missing"]),
)
def test_fuzz_cli_forecast(frame, horizon, window, column, tmp_path_factory):
    RUNS["command line"] += 1
    n = frame.draw(st.integers(0, 30))
    dates = pd.date_range("2001-01-01", periods=n, freq="MS").strftime("%Y-%m-%d").tolist()
    if n and frame.draw(st.booleans()):
        dates[frame.draw(st.integers(0, n - 1))] = frame.draw(st.sampled_from(["", "x", "2001"]))
    cells = st.sampled_from(["1", "2.5", "", "nan", "abc", "1e308"]) | st.floats(-100, 100).map(
        str
    )
    values = frame.draw(st.lists(cells, min_size=n, max_size=n))
    path = tmp_path_factory.getbasetemp() / "series.csv"
    path.write_text("date,y\n" + "".join(f"{d},{v}\n" for d, v in zip(dates, values, strict=True)))
    out_csv = tmp_path_factory.getbasetemp() / "forecast.csv"
    argv = [
        "forecast",
        str(path),
        "--horizon",
        str(horizon),
        "--max-epochs",
        "1",
        "--output",
        str(out_csv),
    ]
    if window is not None:
        argv += ["--window", str(window)]
    if column is not None:
        argv += ["--column", column]
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = cli.main(argv)
    event(f"exit status {status}")
    if status == 0:
        assert len(pd.read_csv(out_csv)) == horizon
    else:
        message = stderr.getvalue().strip()
        assert status in (1, 2) and message.startswith("tsrnn: error:"), message
        assert "\n" not in message and not INTERNAL.search(message), message


def test_fuzz_campaign_size():
    """All fuzz tests above ran: report and check the campaign's size."""
    print("fuzz cases:", dict(RUNS), "total", sum(RUNS.values()))
    properties = [name for name, f in globals().items() if hasattr(f, "is_hypothesis_test")]
    if len(RUNS) == len(properties):
        assert sum(RUNS.values()) >= 10_000 * MULTIPLIER


def test_zip_members_are_not_executed_even_with_valid_names(tmp_path):
    # A zip with the right member names but JSON that is not a model state.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", "[1, 2]")
        zf.writestr("state.json", "{}")
    path = tmp_path / "odd.tsrnn"
    path.write_bytes(buf.getvalue())
    with pytest.raises(tsrnn.ModelFileError):
        tsrnn.load(path)
