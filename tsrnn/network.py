"""A sequential network: layers over one flat parameter buffer; forward and backward.

The network knows nothing about scikit-learn or pandas. It validates its input
once at the boundary so that layers and kernels can assume clean, contiguous
arrays of one dtype.
"""

import math

import numpy as np

from tsrnn._dtypes import check_float_dtype
from tsrnn._random import as_generator
from tsrnn._threads import deferring
from tsrnn.backend import device_of, get_backend, to_host
from tsrnn.layers._params import ParameterBuffer
from tsrnn.layers.base import Context, Layer


def _layer_state(layer):
    """Return a layer's ``(class name, config)``.

    ``(class name, config)`` of a layer; a container's children (layers, lists of
    layers, lists of lists) become such pairs too.
    """

    def state(value):
        if isinstance(value, Layer):
            return _layer_state(value)
        if isinstance(value, list):
            return [state(v) for v in value]
        return value

    return type(layer).__name__, {k: state(v) for k, v in layer.get_config().items()}


class Network:
    """A stack of layers applied in order.

    Parameters
    ----------
    layers : list of Layer
        E.g. ``[Conv1D(64, 3), MaxPooling1D(2), Flatten(), Dense(1)]`` or
        ``[LSTM(100, activation='relu'), Dense(1)]``.
    dtype : {'float32', 'float64'}, default='float32'

    Attributes
    ----------
    params : ParameterBuffer
        All parameters in one flat buffer (after :meth:`build`); parameter names
        are ``'{index}.{layer name}.{parameter}'``.
    input_shape, output_shape : tuple
        Without the batch axis.
    device : {'cpu', 'cuda'}
        Where the parameters live and the kernels run (see :meth:`to`). Inputs and
        targets may be NumPy arrays on either device: batches are copied in, and
        :meth:`predict` returns NumPy arrays.
    """

    def __init__(self, layers, dtype="float32"):
        if not layers:
            raise ValueError("a Network needs at least one layer")
        self.layers = list(layers)
        self.dtype = check_float_dtype(dtype)
        self.params = None
        self.device = "cpu"

    # --- construction ------------------------------------------------------------------

    def build(self, input_shape, random_state=None):
        """Fix the shapes for inputs of ``input_shape`` and allocate the parameters.

        Fix shapes for inputs of ``input_shape = (n_steps, n_features)`` (n_steps may be
        None for networks that accept any length) and draw initial weights.
        """
        rng = as_generator(random_state)
        self._attach(ParameterBuffer(self._layout(input_shape), self.dtype))
        for layer, p in zip(self.layers, self._layer_params, strict=True):
            layer.init_params(p, rng)
        return self

    def _layout(self, input_shape):
        """Build the layers' shapes for ``input_shape``; return the parameter specs.

        Nothing is allocated, so a layout can be checked before its weights are read.
        """
        if len(input_shape) != 2:
            raise ValueError(f"input_shape must be (n_steps, n_features), got {input_shape}")
        shape = tuple(input_shape)
        self.input_shape = shape
        specs = []
        self._prefixes = []
        for i, layer in enumerate(self.layers):
            shape = layer.build(shape, self.dtype)
            prefix = f"{i}.{layer.name}."
            self._prefixes.append(prefix)
            specs += [(prefix + name, s) for name, s in layer.param_specs()]
        self.output_shape = shape
        for i, layer in enumerate(self.layers):
            layer.needs_input_gradient = i > 0
        return tuple((name, tuple(int(d) for d in s)) for name, s in specs)

    def _attach(self, params):
        self.params = params
        self._layer_params = self._views(params)

    def _views(self, buffer):
        """Per-layer dicts of views (names without the layer prefix) into ``buffer``."""
        return [
            {name[len(prefix) :]: buffer[name] for name in buffer if name.startswith(prefix)}
            for prefix in self._prefixes
        ]

    def to(self, device):
        """Move the parameters to ``device``.

        Move the parameters to ``device`` ('cpu' or 'cuda') and run there from now
        on (in place, like ``torch.nn.Module.to``). Returns the network.
        """
        backend = get_backend(device)
        if device == self.device:
            return self
        if self.params is not None:
            flat = backend.arrays.to_device(to_host(self.params.flat))
            self.params = ParameterBuffer(self.params.specs, self.dtype, flat)
            self._layer_params = self._views(self.params)
        for layer in self.layers:
            layer.to(device)
        self.device = device
        return self

    @property
    def backend(self):
        """The kernel modules of :attr:`device` (see :mod:`tsrnn.backend`)."""
        return get_backend(self.device)

    def non_trainable_slices(self):
        """Slices of the flat buffer that hold state rather than weights.

        Slices of the flat buffer that hold state rather than weights (see
        :attr:`tsrnn.layers.base.Layer.non_trainable_params`).
        """
        if not any(layer.non_trainable_params for layer in self.layers):
            return []  # the common case, checked at every training step
        names = set()
        for layer, prefix in zip(self.layers, self._prefixes, strict=True):
            names.update(prefix + name for name in layer.non_trainable_params)
        slices, offset = [], 0
        for name, shape in self.params.specs:
            size = int(np.prod(shape))
            if name in names:
                slices.append(slice(offset, offset + size))
            offset += size
        return slices

    @property
    def n_parameters(self):
        """Number of values in the flat parameter buffer (0 before ``build``)."""
        return 0 if self.params is None else self.params.flat.size

    # --- validation --------------------------------------------------------------------

    def check_input(self, X, mask=None):
        """Validate a batch ``X`` (batch, n_steps, n_features) and its padding mask."""
        if self.params is None:
            raise RuntimeError("the network is not built yet; call build(input_shape) first")
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(
                f"expected input of shape (n_samples, n_steps, n_features), got "
                f"{X.ndim}-D input of shape {X.shape}"
            )
        if X.dtype.kind not in "fiub":
            raise TypeError(f"input must be real numbers, got dtype {X.dtype}")
        if X.shape[0] == 0:
            raise ValueError("input is empty: it has 0 samples")
        if X.shape[1] == 0:
            raise ValueError("input sequences have 0 steps")
        n_steps, n_features = self.input_shape
        if X.shape[2] != n_features:
            raise ValueError(
                f"input has {X.shape[2]} features, but the network was built for {n_features}"
            )
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            raise ValueError("input contains NaN or infinity")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != X.shape[:2]:
                raise ValueError(
                    f"mask must have shape (n_samples, n_steps) = {X.shape[:2]}, got {mask.shape}"
                )
            mask = np.ascontiguousarray(mask, dtype=np.bool_)
            if not mask.any(axis=1).all():
                raise ValueError("every sequence needs at least one unmasked step")
            if mask.all():
                mask = None  # nothing is padded: take the faster, mask-free path
        return X, mask

    # --- forward / backward ------------------------------------------------------------

    def forward(self, X, mask=None, training=False, rng=None, validate=True):
        """Run the layers. Returns ``(output, caches)``."""
        if validate:
            X, mask = self.check_input(X, mask)
        arrays = self.backend.arrays
        X = arrays.to_device(X, self.dtype)  # one copy per batch onto a GPU; nothing on the CPU
        mask = None if mask is None else arrays.to_device(mask)
        ctx = Context(training=training, rng=rng, mask=mask)
        caches = []
        out = X
        for layer, p in zip(self.layers, self._layer_params, strict=True):
            out, cache = layer.forward(p, out, ctx)
            caches.append(cache)
        return out, caches

    def backward(self, caches, dout, grads=None):
        """Backpropagate dL/doutput; returns the gradients as a ParameterBuffer."""
        if grads is None:
            grads = self.params.zeros_like()
        grad_views = self._views(grads)
        d = self.backend.arrays.to_device(dout, self.dtype)
        # Weight gradients may be left to a helper thread (tsrnn._threads.defer); all
        # are complete when the scope ends.
        with deferring():
            for i in reversed(range(len(self.layers))):
                d = self.layers[i].backward(self._layer_params[i], caches[i], d, grad_views[i])
        return grads

    def predict(self, X, mask=None, batch_size=512, validate=True):
        """Predict the outputs for ``X`` in inference mode, in batches.

        Outputs for ``X`` in inference mode, computed in batches (``validate=False``
        skips :meth:`check_input` for inputs it has already returned).
        """
        if validate:
            X, mask = self.check_input(X, mask)
        if X.shape[0] <= batch_size:  # one batch: no slicing or list (single-sequence latency)
            return to_host(self.forward(X, mask, training=False, validate=False)[0])
        outputs = []
        for start in range(0, X.shape[0], batch_size):
            sl = slice(start, start + batch_size)
            m = None if mask is None else mask[sl]
            out, _ = self.forward(X[sl], m, training=False, validate=False)
            outputs.append(to_host(out))
        return np.concatenate(outputs, axis=0)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_layer_params", None)  # views into params: rebuilt on load
        if self.device != "cpu":
            # A pickled (or deep-copied) network lands on the CPU, where any machine can
            # load it; move it back with .to('cuda').
            state["device"] = "cpu"
            if self.params is not None:
                host = to_host(self.params.flat)
                state["params"] = ParameterBuffer(self.params.specs, self.dtype, host)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("device", "cpu")  # files from before the GPU backend
        for layer in self.layers:
            layer.to(self.device)
        if self.params is not None:
            self._layer_params = self._views(self.params)

    def _get_state(self):
        """What a model file stores of this network (see :mod:`tsrnn.modelfile.codec`)."""
        return {
            "layers": [_layer_state(layer) for layer in self.layers],
            "dtype": self.dtype.name,
            "input_shape": tuple(self.input_shape),
            "specs": self.params.specs,
            "weights": self.get_weights(),
        }

    @classmethod
    def _from_state(cls, layers, dtype, input_shape, specs, read_weights):
        """The network of a model file, built without drawing initial weights.

        ``read_weights(n_parameters, dtype)`` is called only once the layout that the
        layers imply equals the saved ``specs``, so that a file declaring a huge
        network is refused before anything of that size is allocated.

        Raises
        ------
        ValueError
            The layout does not match, or a weight is NaN or infinite.
        """
        net = cls(layers, dtype=dtype)
        layout = net._layout(input_shape)
        if layout != specs:
            raise ValueError("the saved weights do not match the saved network layout")
        flat = read_weights(sum(math.prod(shape) for _, shape in layout), net.dtype)
        if not np.isfinite(flat).all():
            raise ValueError("the saved weights contain NaN or infinity")
        net._attach(ParameterBuffer(layout, net.dtype, flat))
        return net

    def get_weights(self):
        """A copy of the flat parameter vector, as a NumPy array."""
        return np.array(to_host(self.params.flat))

    def set_weights(self, flat):
        """Overwrite all parameters from a flat vector (e.g. from :meth:`get_weights`)."""
        if device_of(flat) == "cpu":
            flat = np.asarray(flat)
        if flat.shape != self.params.flat.shape:
            raise ValueError(f"expected {self.params.flat.size} weights, got {flat.shape}")
        self.backend.arrays.copy_into(flat, self.params.flat)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}], dtype='{self.dtype}')"
