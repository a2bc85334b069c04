"""Named parameter views over one flat, contiguous buffer."""

from collections.abc import Mapping

import numpy as np

from tsrnn.backend import backend_of


class ParameterBuffer(Mapping):
    """An ordered mapping from parameter names to views of one flat array.

    Keeping every parameter in one buffer makes an optimizer step one fused loop,
    global-norm clipping one dot product, and saving one array.

    Parameters
    ----------
    specs : sequence of (str, tuple of int)
        Parameter names and shapes, in buffer order.
    dtype : dtype
        Floating dtype of the buffer.
    flat : ndarray of shape (n_parameters,), optional
        Existing buffer to view (not copied), a NumPy or a CUDA device array; zeros
        are allocated (on the host) when omitted.
    """

    def __init__(self, specs, dtype, flat=None):
        self.specs = tuple((name, tuple(int(d) for d in shape)) for name, shape in specs)
        size = sum(int(np.prod(shape)) for _, shape in self.specs)
        if flat is None:
            flat = np.zeros(size, dtype=dtype)
        elif flat.shape != (size,) or flat.dtype != np.dtype(dtype):
            raise ValueError(
                f"flat buffer must have shape ({size},) and dtype {np.dtype(dtype)}, "
                f"got {flat.shape} and {flat.dtype}"
            )
        self.flat = flat
        self._views = {}
        offset = 0
        for name, shape in self.specs:
            n = int(np.prod(shape))
            self._views[name] = flat[offset : offset + n].reshape(shape)
            offset += n

    def __getitem__(self, name):
        return self._views[name]

    def __iter__(self):
        return iter(self._views)

    def __len__(self):
        return len(self._views)

    def __reduce__(self):
        # Pickle the flat buffer once; the views are rebuilt over it on load (pickling
        # them separately would make copies that no longer share memory).
        return (ParameterBuffer, (self.specs, self.flat.dtype, self.flat))

    def zeros_like(self):
        """A new buffer with the same layout and device, filled with zeros.

        Networks use it for their gradient buffer.
        """
        flat = backend_of(self.flat).arrays.zeros_like(self.flat)
        return ParameterBuffer(self.specs, self.flat.dtype, flat)

    def copy(self):
        """A deep copy with its own flat buffer (on the same device)."""
        flat = backend_of(self.flat).arrays.copy(self.flat)
        return ParameterBuffer(self.specs, self.flat.dtype, flat)
