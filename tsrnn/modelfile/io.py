"""Save and load estimators as safe model files (no pickle inside), and ``SaveMixin``.

Loading builds objects only from the allow-list of :mod:`tsrnn.modelfile.registry`
and never unpickles anything, so a model file received from someone else cannot
run code; a crafted file is refused as :class:`ModelFileError` in bounded time and
memory (see :mod:`tsrnn.modelfile.container`). Pickle and joblib still work for
estimators (scikit-learn's usual way) but must only be used with files you trust.
"""

import json
import zipfile
import zlib
from pathlib import Path

from tsrnn._version import __version__
from tsrnn.modelfile import registry, schema
from tsrnn.modelfile.atomic import atomic_write
from tsrnn.modelfile.codec import Decoder, Encoder
from tsrnn.modelfile.container import (
    FORMAT_NAME,
    FORMAT_VERSION,
    STATE,
    npy_bytes,
    open_archive,
    pack,
)
from tsrnn.modelfile.errors import ModelFileError

#: Classes that inherit :class:`SaveMixin` only to pass it on; never saved themselves.
ABSTRACT = frozenset({"tsrnn.estimators._base.BaseSequenceEstimator"})


def dumps(estimator, extra=None):
    """The bytes of a model file for ``estimator`` (see :func:`save`).

    Parameters
    ----------
    estimator : estimator
        One of the classes :func:`save` lists.
    extra : dict, optional
        Additional JSON-able or array state stored next to the estimator's.

    Returns
    -------
    bytes
        The sealed archive.

    Raises
    ------
    TypeError
        If ``estimator`` is not a saveable class, or holds a value the codec cannot save.
    """
    name = registry.estimator_name(type(estimator))
    if name is None:
        raise TypeError(
            f"save supports tsrnn's estimators ({', '.join(registry.ESTIMATORS)}), "
            f"not {type(estimator).__name__}"
        )
    encoder = Encoder()
    state = {"attributes": encoder(dict(vars(estimator)))}
    if extra is not None:
        state["extra"] = encoder(extra)
    members = {STATE: json.dumps(state, allow_nan=False).encode()}
    members.update({name: npy_bytes(a) for name, a in encoder.arrays.items()})
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": __version__,
        "class": name,
    }
    return pack(manifest, members)


def save(estimator, path, extra=None):
    """Write ``estimator`` (fitted or not) to a safe ``.tsrnn`` model file.

    Parameters
    ----------
    estimator : estimator
        Any of the saveable classes (the allow-list
        :data:`tsrnn.modelfile.registry.ESTIMATORS`): SequenceRegressor,
        SequenceClassifier, Forecaster, TimeSeriesScaler or WindowTransformer.
    path : str or path-like
        Written atomically: an existing file is replaced only once the new one is
        complete on disk, and keeps its permissions. A symlink is followed (its
        target is replaced); a folder, device or FIFO is refused.
    extra : dict, optional
        Additional JSON-able or array state stored next to the estimator's.

    Raises
    ------
    TypeError
        ``estimator`` is not one of the saveable classes.
    SaveTargetError
        ``path`` is not a regular file (a folder, a device, a FIFO).
    OSError
        The folder does not exist or is not writable.
    """
    data = dumps(estimator, extra)
    atomic_write(path, lambda f: f.write(data))


def load(path, return_extra=False):
    """Read a model file written by :func:`save` (or an estimator's ``save``).

    Nothing in the file is executed: arrays are read without pickle and only
    tsrnn's own classes are built. Sizes are checked before anything is
    allocated, so a crafted file is refused quickly and with little memory.

    Parameters
    ----------
    path : str or path-like
    return_extra : bool, default=False
        Also return the ``extra`` state stored with the model (None if none).

    Returns
    -------
    estimator or (estimator, extra)

    Raises
    ------
    ModelFileError
        The file is not a tsrnn model file, is truncated, corrupt (checksum
        mismatch) or malformed, or was written by a newer format version.
    FileNotFoundError
        There is no file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    shown = str(path)
    data = path.read_bytes()
    try:
        estimator, extra = _restore(open_archive(data, shown), shown)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        # What zipfile raises for damaged members and unsupported compression methods.
        raise ModelFileError(
            f"{shown!r} could not be read as a tsrnn model file: it is "
            f"truncated or corrupt ({exc})"
        ) from None
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        OverflowError,
    ) as exc:
        raise ModelFileError(f"{shown!r}: the model state is malformed ({exc!r:.200})") from None
    return (estimator, extra) if return_extra else estimator


def _restore(archive, shown):
    cls = registry.lookup(registry.ESTIMATORS, archive.manifest["class"], "class")
    state = archive.state()
    if (
        not isinstance(state, dict)
        or "attributes" not in state
        or not set(state)
        <= {
            "attributes",
            "extra",
        }
    ):
        raise ModelFileError(
            f"{shown!r}: the model state must be a mapping with "
            "'attributes' (and optionally 'extra')"
        )
    decoder = Decoder(archive)
    if not isinstance(state["attributes"], dict) or "__dict__" not in state["attributes"]:
        raise ModelFileError(
            f"{shown!r}: the estimator's attributes must be a mapping, got "
            f"{state['attributes']!r:.60}"
        )
    attributes = decoder.dict(state["attributes"], what="attributes")
    extra = decoder(state["extra"]) if "extra" in state else None
    estimator = schema.build(cls, attributes, shown)
    archive.check_all_read()
    return estimator, extra


class SaveMixin:
    """Adds :meth:`save` to tsrnn's estimators.

    Every subclass defined inside tsrnn must be on the allow-list of
    :mod:`tsrnn.modelfile.registry` (or in :data:`ABSTRACT`), else its definition
    fails: a class that can be saved but not loaded is a bug caught at import.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        path = registry.dotted_path(cls)
        if cls.__module__.partition(".")[0] != "tsrnn" or path in ABSTRACT:
            return
        if registry.estimator_name(cls) is None:
            raise TypeError(
                f"{path} inherits SaveMixin but is not in the allow-list of model "
                "files: add it to tsrnn.modelfile.registry.ESTIMATORS"
            )

    def save(self, path):
        """Save to a safe model file (zip of JSON and ``.npy``; no pickle inside).

        Load it with :func:`tsrnn.load`. Prefer this over pickle/joblib for files
        you share: loading it cannot run code.

        Parameters
        ----------
        path : str or path-like
            Written atomically (a crash never leaves a torn file); see :func:`save`.

        Returns
        -------
        self
        """
        save(self, path)
        return self
