"""Safe model files: save and load estimators without pickle, and atomic writes.

A ``.tsrnn`` file is a zip archive holding

* ``manifest.json``: the format name and version, the tsrnn version, the
  estimator's class, and a SHA-256 checksum of every other member;
* ``state.json``: the estimator's attributes, encoded with a small set of tagged
  types (numbers, strings, lists, dicts, pandas indexes, networks, optimizers);
* ``arrays/<n>.npy``: every numeric array, read back with ``allow_pickle=False``.

Loading builds objects only from an allow-list of tsrnn and scikit-learn classes
and never unpickles anything, so a model file received from someone else cannot
run code. Pickle and joblib still work for estimators (scikit-learn's usual way)
but must only be used with files you trust.

Files are written atomically (temporary file in the same folder, flush, fsync,
rename), so a crash or a kill at any moment leaves either the old file or the
new one, never a torn one.
"""

import hashlib
import inspect
import io
import json
import math
import os
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

FORMAT_NAME = "tsrnn-model"
#: Bumped when the layout changes in a way older readers cannot follow.
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_STATE = "state.json"
#: Upper bound on the uncompressed size of one member; guards against zip bombs.
_MAX_MEMBER_BYTES = 1 << 34
_SEAL_PREFIX = b"tsrnn-sha256:"


class ModelFileError(ValueError):
    """A model file is corrupt, truncated, not a tsrnn model, or from a newer format."""


# --- atomic writes ------------------------------------------------------------------------


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path`` and rename it over
    ``path`` once it is complete and on disk.

    A crash at any moment leaves ``path`` either as it was or fully written.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Never leave half-written temporaries behind (even on KeyboardInterrupt).
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    # Makes the rename itself durable (POSIX); not possible on Windows.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- the allow-list of classes a file may name ----------------------------------------------


def _estimator_classes():
    from tsrnn.estimators import SequenceClassifier, SequenceRegressor
    from tsrnn.forecasting import Forecaster
    from tsrnn.preprocessing import TimeSeriesScaler
    from tsrnn.windows import WindowTransformer

    classes = (SequenceRegressor, SequenceClassifier, Forecaster, TimeSeriesScaler,
               WindowTransformer)  # fmt: skip
    return {cls.__name__: cls for cls in classes}


def _layer_classes():
    from tsrnn import layers

    names = ("RNN", "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
             "GlobalMaxPooling1D", "Dense", "Dropout", "Flatten")  # fmt: skip
    return {name: getattr(layers, name) for name in names}


def _optimizer_classes():
    from tsrnn.training.optimizers import OPTIMIZERS

    return {cls.__name__: cls for cls in OPTIMIZERS.values()}


# --- encoding -----------------------------------------------------------------------------


def _host_state(optimizer):
    """The optimizer's state with its buffers on the host (a checkpoint can be written
    while training on a GPU)."""
    from tsrnn.backend import to_host

    return {k: to_host(v) if hasattr(v, "shape") else v
            for k, v in optimizer.state_dict().items()}  # fmt: skip


class _Encoder:
    """Turns an object tree into JSON-able data, collecting arrays as ``.npy`` members."""

    def __init__(self):
        self.arrays = {}

    def array(self, a):
        a = np.asarray(a)
        if a.dtype.kind == "O":
            return {"__object_array__": [self(v) for v in a.ravel().tolist()],
                    "shape": list(a.shape)}  # fmt: skip
        if a.dtype.kind not in "biufcMmUS":
            raise TypeError(f"cannot save an array of dtype {a.dtype}")
        name = f"arrays/{len(self.arrays)}.npy"
        self.arrays[name] = a
        return {"__ndarray__": name}

    def __call__(self, obj):  # noqa: C901 - one branch per supported type
        from tsrnn.network import Network
        from tsrnn.training.loop import TrainingHistory
        from tsrnn.training.optimizers import Optimizer

        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, np.generic):
            return {"__scalar__": self.array(np.asarray(obj))}
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.str}
        if isinstance(obj, list):
            return [self(v) for v in obj]
        if isinstance(obj, tuple):
            return {"__tuple__": [self(v) for v in obj]}
        if isinstance(obj, dict):
            return {"__dict__": [[self(k), self(v)] for k, v in obj.items()]}
        if isinstance(obj, pd.Index):
            return self.index(obj)
        if isinstance(obj, np.random.RandomState):
            return {"__random_state__": self(obj.get_state())}
        if isinstance(obj, Network):
            return self.network(obj)
        if isinstance(obj, Optimizer):
            config = {k: v for k, v in vars(obj).items() if isinstance(v, (int, float, bool))}
            return {"__optimizer__": type(obj).__name__, "config": self(config),
                    "state": self(_host_state(obj))}  # fmt: skip
        if isinstance(obj, TrainingHistory):
            return {"__history__": self(dict(vars(obj)))}
        if type(obj).__name__ == "LabelEncoder":
            return {"__label_encoder__": self(obj.classes_)}
        raise TypeError(f"cannot save an object of type {type(obj).__name__}")

    def index(self, index):
        tz = getattr(index, "tz", None)
        values = index.tz_convert("UTC").tz_localize(None) if tz is not None else index
        freq = getattr(index, "freqstr", None)
        return {"__index__": self.array(values.to_numpy()), "name": self(index.name),
                "freq": freq, "tz": None if tz is None else str(tz)}  # fmt: skip

    def network(self, net):
        layers = [{"class": type(layer).__name__, "config": self(layer.get_config())}
                  for layer in net.layers]  # fmt: skip
        return {
            "__network__": layers,
            "dtype": net.dtype.name,
            "input_shape": self(tuple(net.input_shape)),
            "specs": self(net.params.specs),
            "weights": self.array(net.get_weights()),
        }


# --- decoding -----------------------------------------------------------------------------


class _Decoder:
    """The inverse of :class:`_Encoder`; builds only allow-listed types."""

    def __init__(self, arrays):
        self.arrays = arrays

    def __call__(self, data):  # noqa: C901 - one branch per supported tag
        if data is None or isinstance(data, (bool, str, int, float)):
            return data
        if isinstance(data, list):
            return [self(v) for v in data]
        if not isinstance(data, dict) or len(data) == 0:
            raise ModelFileError(f"unexpected value in the model state: {data!r:.80}")
        tag = next(iter(data))
        if tag == "__ndarray__":
            return self.arrays[data[tag]]
        if tag == "__object_array__":
            out = np.empty(len(data[tag]), dtype=object)
            out[:] = [self(v) for v in data[tag]]
            return out.reshape(data["shape"])
        if tag == "__float__":
            return float(data[tag])
        if tag == "__scalar__":
            return self(data[tag])[()]
        if tag == "__dtype__":
            return np.dtype(data[tag])
        if tag == "__tuple__":
            return tuple(self(v) for v in data[tag])
        if tag == "__dict__":
            return {_hashable(self(k)): self(v) for k, v in data[tag]}
        if tag == "__index__":
            return self.index(data)
        if tag == "__random_state__":
            rs = np.random.RandomState()
            rs.set_state(self(data[tag]))
            return rs
        if tag == "__network__":
            return self.network(data)
        if tag == "__optimizer__":
            return self.optimizer(data)
        if tag == "__history__":
            from tsrnn.training.loop import TrainingHistory

            return TrainingHistory(**self(data[tag]))
        if tag == "__label_encoder__":
            from sklearn.preprocessing import LabelEncoder

            enc = LabelEncoder()
            enc.classes_ = self(data[tag])
            return enc
        raise ModelFileError(f"unknown entry {tag!r} in the model state")

    def index(self, data):
        values = self(data["__index__"])
        name = self(data["name"])
        if data["tz"] is not None:
            index = pd.DatetimeIndex(values, name=name).tz_localize("UTC").tz_convert(data["tz"])
            return pd.DatetimeIndex(index, freq=data["freq"]) if data["freq"] else index
        if data["freq"] is not None and values.dtype.kind == "M":
            return pd.DatetimeIndex(values, name=name, freq=data["freq"])
        return pd.Index(values, name=name)

    def network(self, data):
        from tsrnn.network import Network

        registry = _layer_classes()
        layers = []
        for spec in data["__network__"]:
            if spec["class"] not in registry:
                raise ModelFileError(f"unknown layer {spec['class']!r} in the model file")
            layers.append(registry[spec["class"]](**self(spec["config"])))
        net = Network(layers, dtype=data["dtype"]).build(self(data["input_shape"]), 0)
        specs = self(data["specs"])
        if tuple(net.params.specs) != tuple(specs):
            raise ModelFileError("the saved weights do not match the saved network layout")
        net.set_weights(self(data["weights"]))
        return net

    def optimizer(self, data):
        registry = _optimizer_classes()
        cls = registry.get(data["__optimizer__"])
        if cls is None:
            raise ModelFileError(f"unknown optimizer {data['__optimizer__']!r} in the model file")
        config = self(data["config"])
        accepted = inspect.signature(cls).parameters
        opt = cls(**{k: v for k, v in config.items() if k in accepted})
        opt.load_state_dict(self(data["state"]))
        return opt


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


# --- save / load --------------------------------------------------------------------------


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def dumps(estimator, extra=None):
    """The bytes of a model file for ``estimator`` (see :func:`save`)."""
    from tsrnn import __version__

    classes = _estimator_classes()
    name = type(estimator).__name__
    if classes.get(name) is not type(estimator):
        raise TypeError(f"save supports tsrnn's estimators ({', '.join(classes)}), "
                        f"not {type(estimator).__name__}")  # fmt: skip
    encoder = _Encoder()
    state = {"attributes": encoder(dict(vars(estimator)))}
    if extra is not None:
        state["extra"] = encoder(extra)
    members = {_STATE: json.dumps(state, allow_nan=False).encode()}
    members.update({name: _npy_bytes(a) for name, a in encoder.arrays.items()})
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": __version__,
        "class": name,
        "checksums": {k: _sha256(v) for k, v in members.items()},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest, indent=1))
        for member, data in members.items():
            # Float weights barely compress: store arrays, deflate the JSON.
            kind = zipfile.ZIP_STORED if member.endswith(".npy") else zipfile.ZIP_DEFLATED
            zf.writestr(member, data, compress_type=kind)
    return _seal(buf.getvalue())


def _seal(data):
    """Put a SHA-256 of the whole archive in the zip comment.

    The hash covers every byte before the comment-length field (the last two bytes
    of a comment-less archive), so any flipped or missing byte anywhere in the file
    is detected, including in zip headers that the member checksums do not cover.
    """
    comment = _SEAL_PREFIX + _sha256(data[:-2]).encode()
    return data[:-2] + struct.pack("<H", len(comment)) + comment


def _check_seal(data, comment, path):
    if not comment.startswith(_SEAL_PREFIX):
        raise ModelFileError(f"{str(path)!r} is not a tsrnn model file (no integrity seal)")
    start = len(data) - len(comment) - 2
    length_field = struct.unpack("<H", data[start : start + 2])[0] if start >= 0 else -1
    if (
        length_field != len(comment)
        or _sha256(data[:start]).encode() != comment[len(_SEAL_PREFIX) :]
    ):
        raise ModelFileError(f"{str(path)!r} is corrupt or truncated: its checksum does not "
                             "match its contents")  # fmt: skip


def save(estimator, path, extra=None):
    """Write ``estimator`` (fitted or not) to a safe ``.tsrnn`` model file.

    Parameters
    ----------
    estimator : SequenceRegressor, SequenceClassifier, Forecaster, TimeSeriesScaler
    path : str or path-like
        Written atomically: an existing file is replaced only once the new one is
        complete on disk.
    extra : dict, optional
        Additional JSON-able or array state stored next to the estimator's.
    """
    data = dumps(estimator, extra)
    atomic_write(path, lambda f: f.write(data))


def load(path, return_extra=False):
    """Read a model file written by :func:`save` (or an estimator's ``save``).

    Nothing in the file is executed: arrays are read with ``allow_pickle=False``
    and only tsrnn's own classes are built.

    Parameters
    ----------
    path : str or path-like
    return_extra : bool, default=False
        Also return the ``extra`` state stored with the model (None if none).

    Returns
    -------
    estimator (or ``(estimator, extra)``)

    Raises
    ------
    ModelFileError
        The file is not a tsrnn model file, is truncated or corrupt (checksum
        mismatch), or was written by a newer format version.
    FileNotFoundError
        There is no file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_seal(data, zf.comment, path)
            members = _read_members(zf, path)
    except ModelFileError:
        raise
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"{str(path)!r} is not a tsrnn model file, or it is truncated "
                             f"or corrupt ({exc})") from None  # fmt: skip
    except (EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
        # What zipfile raises for damaged headers and unsupported compression methods.
        raise ModelFileError(f"{str(path)!r} could not be read as a tsrnn model file: "
                             f"it is truncated or corrupt ({exc})") from None  # fmt: skip
    return _restore(members, path, return_extra)


def _read_members(zf, path):
    names = zf.namelist()
    if _MANIFEST not in names:
        raise ModelFileError(f"{str(path)!r} is not a tsrnn model file (it has no manifest)")
    manifest = _read_json(zf, _MANIFEST, path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{str(path)!r} is not a tsrnn model file")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} was written by tsrnn {manifest.get('tsrnn_version')} in model "
            f"format {version}; this tsrnn reads format {FORMAT_VERSION} and older: upgrade "
            "tsrnn to load it"
        )
    checksums = manifest.get("checksums")
    expected = set(names) - {_MANIFEST}
    if not isinstance(checksums, dict) or set(checksums) != expected:
        raise ModelFileError(f"{str(path)!r}: the list of members does not match the "
                             "manifest (the file was altered)")  # fmt: skip
    members = {}
    for name in sorted(expected):
        if zf.getinfo(name).file_size > _MAX_MEMBER_BYTES:
            raise ModelFileError(f"{str(path)!r}: member {name!r} is implausibly large")
        data = zf.read(name)
        if _sha256(data) != checksums[name]:
            raise ModelFileError(f"{str(path)!r}: checksum mismatch in {name!r} (the file "
                                 "is corrupt or was altered)")  # fmt: skip
        members[name] = data
    members[_MANIFEST] = manifest
    return members


def _read_json(zf, name, path):
    try:
        return json.loads(zf.read(name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{str(path)!r}: {name} is not valid JSON ({exc})") from None


def _restore(members, path, return_extra):
    manifest = members.pop(_MANIFEST)
    classes = _estimator_classes()
    if manifest.get("class") not in classes:
        raise ModelFileError(f"{str(path)!r} holds an unknown class {manifest.get('class')!r}")
    arrays = {}
    for name, data in members.items():
        if name == _STATE:
            continue
        try:
            arrays[name] = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as exc:  # e.g. an object array, which would need pickle
            raise ModelFileError(f"{str(path)!r}: {name} cannot be read safely ({exc})") from None
    try:
        state = json.loads(members[_STATE].decode("utf-8"))
        decoder = _Decoder(arrays)
        attributes = decoder(state["attributes"])
        extra = decoder(state["extra"]) if "extra" in state else None
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{str(path)!r}: the model state is malformed ({exc!r})") from None
    cls = classes[manifest["class"]]
    estimator = cls.__new__(cls)
    estimator.__dict__.update(attributes)
    return (estimator, extra) if return_extra else estimator


class SaveMixin:
    """Adds :meth:`save` to tsrnn's estimators."""

    def save(self, path):
        """Save to a safe model file (zip of JSON and ``.npy``; no pickle inside).

        Load it with :func:`tsrnn.load`. Prefer this over pickle/joblib for files
        you share: loading it cannot run code.

        Parameters
        ----------
        path : str or path-like
            Written atomically (a crash never leaves a torn file).

        Returns
        -------
        self
        """
        save(self, path)
        return self


# --- training checkpoints -----------------------------------------------------------------

#: Parameters that may differ between a checkpointed run and its resumption.
_RESUMABLE_CHANGES = ("verbose", "max_epochs", "warm_start")


def best_checkpoint_path(path):
    """Where the best epoch's model is kept next to checkpoint ``path``
    (``run.tsrnn`` -> ``run.best.tsrnn``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.best{path.suffix or '.tsrnn'}")


def data_fingerprint(*arrays):
    """A short hash of the training data, so that a run is never resumed on other data."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data if a.dtype.kind != "O" else repr(a.tolist()).encode())
    return h.hexdigest()


class Checkpoint:
    """Training checkpoints of an estimator: the latest state and the best epoch.

    Parameters
    ----------
    path : str or path-like
        The latest state (weights, optimizer moments, history, random generator),
        written every ``every`` epochs and at the end; the best epoch's model goes
        to :func:`best_checkpoint_path`. Both are written atomically and are
        ordinary model files that :func:`load` reads.
    every : int, default=1
        Epochs between writes of the latest state.
    """

    def __init__(self, path, every=1):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"checkpoint_every must be a positive integer, got {every!r}")
        self.path = Path(path)
        self.best_path = best_checkpoint_path(path)
        self.every = int(every)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"the checkpoint folder {str(self.path.parent)!r} does "
                                    "not exist")  # fmt: skip

    def restore(self, estimator):
        """Load the latest state into ``estimator``; returns the stored training state
        (a dict), or None when there is no checkpoint yet."""
        if not self.path.exists():
            return None
        loaded, extra = load(self.path, return_extra=True)
        if type(loaded) is not type(estimator):
            raise ValueError(
                f"the checkpoint {str(self.path)!r} holds a {type(loaded).__name__}, "
                f"not a {type(estimator).__name__}"
            )
        if not isinstance(extra, dict) or "rng_state" not in extra:
            raise ValueError(f"{str(self.path)!r} is a saved model, not a training checkpoint "
                             "(it has no training state to resume)")  # fmt: skip
        ours, theirs = estimator.get_params(deep=False), loaded.get_params(deep=False)
        changed = [
            k for k in ours if k not in _RESUMABLE_CHANGES and not _same(ours[k], theirs[k])
        ]
        if changed:
            diffs = ", ".join(f"{k}={theirs[k]!r} there, {ours[k]!r} here" for k in changed)
            raise ValueError(f"the checkpoint {str(self.path)!r} was written with other "
                             f"parameters ({diffs}); resume with the same ones")  # fmt: skip
        estimator.__dict__.update({k: v for k, v in vars(loaded).items() if k not in ours})
        return extra

    def after_epoch(self, estimator, history, state):
        """Write the best model when this epoch is the best, and the latest state every
        ``every`` epochs."""
        if history.best_epoch == history.n_epochs - 1:
            save(estimator, self.best_path)
        if history.n_epochs % self.every == 0:
            save(estimator, self.path, state)

    def final(self, estimator, state):
        """Write the finished run's state (resuming it then trains no further)."""
        save(estimator, self.path, state)


def _same(a, b):
    try:
        return bool(a == b) if not isinstance(a, np.random.RandomState) else a is b
    except (TypeError, ValueError):
        return False
