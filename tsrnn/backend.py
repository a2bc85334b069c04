"""Which kernels run a network: the CPU backend (``numba.njit``) or CUDA (``numba.cuda``).

A backend is the set of kernel modules of one target, with the same function
names on both (:mod:`tsrnn.kernels.cpu`, :mod:`tsrnn.kernels.cuda`). Layers,
losses and optimizers look their kernels up here, so the code above the kernels
is the same for both devices. The CUDA modules are imported only when a GPU is
asked for.
"""

import functools
import importlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np

DEVICES = ("cpu", "cuda")
_FAMILIES = ("arrays", "recurrent", "dense", "conv", "losses", "optim", "normalization")

CUDA_INSTALL_HINT = (
    "Install the GPU extra on a machine with an NVIDIA GPU and driver: "
    "pip install 'tsrnn[cuda]' (it brings numba-cuda), or use device='cpu', or "
    "device='auto' to use a GPU only when one is usable."
)


class DeviceUnavailableError(ValueError):
    """``device='cuda'`` was asked for where no usable CUDA GPU is found."""


@dataclass(frozen=True)
class Backend:
    """The kernel modules of one device."""

    name: str
    arrays: ModuleType
    recurrent: ModuleType
    dense: ModuleType
    conv: ModuleType
    losses: ModuleType
    optim: ModuleType
    normalization: ModuleType


def cuda_status():
    """``(usable, reason)``: whether numba.cuda can run kernels here, and why not."""
    try:
        from numba import cuda
    except Exception as exc:  # numba without its CUDA target, or a broken install
        return False, f"numba.cuda cannot be imported ({exc})"
    try:
        if cuda.is_available():
            return True, ""
    except Exception as exc:  # a driver that fails while being probed
        return False, f"the CUDA driver failed to initialise ({exc})"
    return False, "numba.cuda.is_available() is False: no NVIDIA GPU or CUDA driver was found"


def resolve_device(device):
    """'cpu' or 'cuda' for a requested ``device`` in {'cpu', 'cuda', 'auto'}.

    Raises
    ------
    DeviceUnavailableError
        For 'cuda' where no GPU is usable; the message says why and how to install
        the GPU support. 'auto' picks the CPU there instead.
    ValueError
        If ``device`` is not one of the three.
    """
    if device == "cpu":
        return "cpu"
    if device not in ("cuda", "auto"):
        raise ValueError(f"device must be one of ['auto', 'cpu', 'cuda'], got {device!r}")
    usable, reason = cuda_status()
    if usable:
        return "cuda"
    if device == "auto":
        return "cpu"
    raise DeviceUnavailableError(f"device='cuda' was requested, but {reason}. {CUDA_INSTALL_HINT}")


@functools.cache
def get_backend(device="cpu"):
    """The :class:`Backend` of ``device`` ('cpu' or 'cuda'), built once per device.

    Raises
    ------
    ValueError
        If ``device`` is not 'cpu' or 'cuda'.
    DeviceUnavailableError
        For 'cuda' where no GPU is usable.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}")
    if device == "cuda":
        resolve_device("cuda")
    modules = {f: importlib.import_module(f"tsrnn.kernels.{device}.{f}") for f in _FAMILIES}
    return Backend(device, **modules)


def device_of(array):
    """'cpu' for NumPy arrays, 'cuda' for CUDA device arrays."""
    # numba's own test (devicearray.is_cuda_ndarray), which the simulator's arrays pass
    # too; checked without importing numba.cuda.
    return "cuda" if getattr(array, "__cuda_ndarray__", False) else "cpu"


def backend_of(array):
    """The backend whose kernels take ``array``."""
    return get_backend(device_of(array))


def to_host(array):
    """``array`` as a NumPy array (device arrays are copied to the host)."""
    return np.asarray(array) if device_of(array) == "cpu" else array.copy_to_host()
