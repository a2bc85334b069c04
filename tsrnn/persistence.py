"""Safe model files: save and load estimators without pickle, and atomic writes.

The public face of :mod:`tsrnn.modelfile` (the container, the codec and the
allow-list) and of ``tsrnn.training.checkpoints``. See :func:`save` and
:func:`load`; the file layout is described in :mod:`tsrnn.modelfile.container`.
"""

from tsrnn.modelfile.atomic import atomic_write
from tsrnn.modelfile.container import FORMAT_NAME, FORMAT_VERSION
from tsrnn.modelfile.container import npy_bytes as _npy_bytes
from tsrnn.modelfile.container import seal as _seal
from tsrnn.modelfile.container import sha256 as _sha256
from tsrnn.modelfile.errors import ModelFileError, SaveTargetError
from tsrnn.modelfile.io import SaveMixin, dumps, load, save
from tsrnn.training.checkpoints import Checkpoint, best_checkpoint_path, data_fingerprint

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Checkpoint",
    "ModelFileError",
    "SaveMixin",
    "SaveTargetError",
    "atomic_write",
    "best_checkpoint_path",
    "data_fingerprint",
    "dumps",
    "load",
    "save",
    "_npy_bytes",
    "_seal",
    "_sha256",
]
