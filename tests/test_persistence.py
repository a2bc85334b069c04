"""Safe model files: round trips, corrupt and hostile files, atomic writes."""

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import Forecaster, ModelFileError, SequenceClassifier, SequenceRegressor
from tsrnn.persistence import FORMAT_VERSION, _npy_bytes, _seal, _sha256, atomic_write
from tsrnn.preprocessing import TimeSeriesScaler
from tsrnn.windows import WindowTransformer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 8, 2))
Y = X[:, -3:, 0].sum(axis=1)
LABELS = np.where(Y > 0, "up", "down")


def small(cls, **kw):
    return cls(architecture="recurrent", hidden_size=4, max_epochs=3, random_state=0, **kw)


def roundtrip(est, tmp_path):
    path = tmp_path / "model.tsrnn"
    est.save(path)
    return tsrnn.load(path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "make",
    [
        lambda d: small(SequenceRegressor, dtype=d, early_stopping=True).fit(X, Y),
        lambda d: small(SequenceRegressor, dtype=d, cell="gru", conv_filters=3).fit(
            X, np.c_[Y, -Y]
        ),
        lambda d: small(SequenceClassifier, dtype=d, bidirectional=True).fit(X, LABELS),
        lambda d: small(SequenceClassifier, dtype=d, cell=None, conv_filters=3).fit(
            X, Y.round().astype(int) % 3
        ),
    ],
    ids=["regressor", "gru-conv-2-outputs", "classifier", "cnn-3-classes"],
)
def test_save_load_predicts_bit_identically(make, dtype, tmp_path):
    est = make(dtype)
    loaded = roundtrip(est, tmp_path)
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    if hasattr(est, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
        assert loaded.classes_.dtype == est.classes_.dtype
    assert loaded.loss_curve_ == est.loss_curve_
    assert loaded.network_.dtype == np.dtype(dtype)


def test_loaded_model_continues_training_like_the_original(tmp_path):
    est = small(SequenceRegressor, warm_start=True).fit(X, Y)
    loaded = roundtrip(est, tmp_path)
    est.fit(X, Y)
    loaded.fit(X, Y)  # optimizer moments and step count came back too
    np.testing.assert_array_equal(loaded.network_.get_weights(), est.network_.get_weights())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forecaster_with_time_zone_index_round_trips(dtype, tmp_path):
    index = pd.date_range("2020-01-01", periods=60, freq="D", tz="Europe/Rome", name="day")
    y = pd.Series(np.sin(np.arange(60) / 3), index=index, name="load")
    est = Forecaster(
        window=8,
        horizon=3,
        hidden_size=4,
        max_epochs=2,
        dtype=dtype,
        quantiles=(0.1, 0.5, 0.9),
        random_state=0,
    ).fit(y)
    loaded = roundtrip(est, tmp_path)
    pd.testing.assert_series_equal(loaded.predict(), est.predict())
    for a, b in zip(loaded.predict_interval(0.8), est.predict_interval(0.8), strict=True):
        pd.testing.assert_series_equal(a, b)
    assert loaded.predict().index.freqstr == "D"
    assert loaded.interval_widening_ == est.interval_widening_


def test_transformers_and_unfitted_estimators_round_trip(tmp_path):
    scaler = TimeSeriesScaler().fit(X)
    np.testing.assert_array_equal(roundtrip(scaler, tmp_path).transform(X), scaler.transform(X))
    windows = WindowTransformer(window=5, horizon=2).fit(Y)
    np.testing.assert_array_equal(roundtrip(windows, tmp_path).transform(Y), windows.transform(Y))
    unfitted = SequenceClassifier(
        architecture="recurrent", hidden_size=7, random_state=np.random.RandomState(3)
    )
    loaded = roundtrip(unfitted, tmp_path)
    assert loaded.hidden_size == 7 and not hasattr(loaded, "network_")
    assert loaded.random_state.randint(1000) == np.random.RandomState(3).randint(1000)


def test_only_tsrnn_estimators_can_be_saved(tmp_path):
    from sklearn.linear_model import Ridge

    with pytest.raises(TypeError, match="save supports tsrnn's estimators"):
        tsrnn.save(Ridge(), tmp_path / "ridge.tsrnn")


# --- corrupt, foreign and hostile files -----------------------------------------------------


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.tsrnn"
    small(SequenceClassifier).fit(X, LABELS).save(path)
    return path.read_bytes()


def write(tmp_path, data, name="bad.tsrnn"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.999])
def test_truncated_file_is_a_clear_error(model_bytes, fraction, tmp_path):
    path = write(tmp_path, model_bytes[: int(fraction * len(model_bytes))])
    with pytest.raises(ModelFileError, match="not a tsrnn model file|truncated|corrupt"):
        tsrnn.load(path)


def test_every_flipped_byte_is_detected(model_bytes, tmp_path):
    # Every byte position (headers, data, central directory, end record): each flip
    # must give ModelFileError, never a silently different model.
    positions = range(len(model_bytes))
    for pos in positions:
        data = bytearray(model_bytes)
        data[pos] ^= 0x5A
        with pytest.raises(ModelFileError):
            tsrnn.load(write(tmp_path, bytes(data)))
    assert len(positions) > 1000


class _Payload:
    """Creates a marker file when unpickled: proves whether loading runs code."""

    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _rebuild(members):
    """A correctly sealed and checksummed archive from ``members`` (an attacker can
    compute checksums, so they are no defence on their own)."""
    manifest = json.loads(members.pop("manifest.json"))
    manifest["checksums"] = {k: _sha256(v) for k, v in members.items()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return _seal(buf.getvalue())


def _members(model_bytes):
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_pickle_files_are_refused_and_never_executed(model_bytes, tmp_path):
    marker = tmp_path / "code-ran"
    _Payload.marker = str(marker)
    # 1. A pickle (what joblib.dump writes) passed to tsrnn.load.
    path = tmp_path / "evil.pkl"
    joblib.dump({"model": _Payload()}, path)
    with pytest.raises(ModelFileError, match="not a tsrnn model file"):
        tsrnn.load(path)
    # 2. A well-formed, correctly checksummed model file whose array is a pickle.
    members = _members(model_bytes)
    buf = io.BytesIO()
    np.save(buf, np.array([_Payload()], dtype=object), allow_pickle=True)
    members["arrays/0.npy"] = buf.getvalue()
    with pytest.raises(ModelFileError, match="cannot be read safely"):
        tsrnn.load(write(tmp_path, _rebuild(members)))
    # 3. A state naming a class outside the allow-list.
    members = _members(model_bytes)
    members["state.json"] = members["state.json"].replace(b'"__history__"', b'"__import__"')
    with pytest.raises(ModelFileError, match="unknown entry"):
        tsrnn.load(write(tmp_path, _rebuild(members)))
    members = _members(model_bytes)
    members["state.json"] = members["state.json"].replace(b'"class": "lstm"', b'"class": "os"')
    members["state.json"] = members["state.json"].replace(b'"class": "RNN"', b'"class": "os"')
    with pytest.raises(ModelFileError, match="unknown layer 'os'"):
        tsrnn.load(write(tmp_path, _rebuild(members)))
    assert not marker.exists()
    # Pickle itself does run code, which is why the docs send shared files to tsrnn.load.
    pickle.loads(pickle.dumps(_Payload()))
    assert marker.exists()


def test_foreign_newer_and_missing_files(model_bytes, tmp_path):
    with pytest.raises(ModelFileError, match="not a tsrnn model file"):
        tsrnn.load(write(tmp_path, b"hello, not a zip"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(ModelFileError, match="not a tsrnn model file"):
        tsrnn.load(write(tmp_path, buf.getvalue()))
    members = _members(model_bytes)
    manifest = json.loads(members["manifest.json"])
    manifest["format_version"] = FORMAT_VERSION + 1
    members["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(ModelFileError, match="upgrade tsrnn"):
        tsrnn.load(write(tmp_path, _rebuild(members)))
    members = _members(model_bytes)
    members["extra.bin"] = b"smuggled"
    with pytest.raises(ModelFileError, match="does not match the manifest"):
        tsrnn.load(write(tmp_path, _seal_without_manifest_update(members)))
    with pytest.raises(FileNotFoundError, match="no model file"):
        tsrnn.load(tmp_path / "missing.tsrnn")


def _seal_without_manifest_update(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return _seal(buf.getvalue())


def test_arrays_are_plain_npy(model_bytes):
    members = _members(model_bytes)
    arrays = [k for k in members if k.endswith(".npy")]
    assert arrays
    for name in arrays:
        a = np.load(io.BytesIO(members[name]), allow_pickle=False)
        assert _npy_bytes(a) == members[name]


def test_failed_write_leaves_the_old_file_and_no_temporaries(tmp_path):
    path = tmp_path / "model.tsrnn"
    path.write_bytes(b"old")

    def fail_halfway(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, fail_halfway)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.tsrnn"]
