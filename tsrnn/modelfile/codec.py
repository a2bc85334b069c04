"""The object codec: an estimator's attributes to JSON and arrays, and back.

Values are encoded with a small set of tagged types: JSON scalars, lists,
``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}``, arrays (by the name
of their ``.npy`` member), NumPy scalars and dtypes, pandas indexes and periods,
random generators, and the objects of :data:`~tsrnn.modelfile.registry.OBJECTS`
(networks, optimizers, training histories, label encoders).

Objects describe themselves: a network or an optimizer provides ``_get_state`` and
``_from_state``, a dataclass its fields, so the codec imports none of them and finds
their classes by dotted path (:mod:`tsrnn.modelfile.registry`). Decoding checks the
shape of every value before it builds anything, and every integer that sizes a
network layer is range-checked before a layer is constructed.
"""

import dataclasses
import math
import numbers

import numpy as np
import pandas as pd

from tsrnn.modelfile import registry
from tsrnn.modelfile.errors import ModelFileError
from tsrnn.modelfile.frequency import readable

#: Upper bounds of the integer settings of a saved layer: generous for real models,
#: small enough that computing a layout from them is instant.
LAYER_INT_LIMITS = {
    "hidden_size": 1 << 20,
    "num_layers": 1 << 10,
    "units": 1 << 24,
    "filters": 1 << 20,
    "kernel_size": 1 << 16,
    "strides": 1 << 16,
    "dilation_rate": 1 << 16,
    "pool_size": 1 << 16,
}
#: How deeply containers (Parallel, Residual) may nest, and how many layers a saved
#: network may hold in all: crafted nesting is refused before it is built.
MAX_NESTING = 6
MAX_LAYERS = 1 << 12
#: Any other integer in a layer's settings, and the input shape.
MAX_INT = 1 << 31
#: Weights are floats of one of these dtypes.
_WEIGHT_DTYPES = ("float32", "float64")


def _fail(message):
    raise ModelFileError(message)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# --- encoding -----------------------------------------------------------------------------


class Encoder:
    """Turns an object tree into JSON-able data, collecting arrays as ``.npy`` members."""

    def __init__(self):
        self.arrays = {}

    def array(self, a):
        """Encode an array: collect it as a ``.npy`` member and return its reference.

        Object arrays are encoded element by element instead, with their shape.

        Parameters
        ----------
        a : array-like
            The array to encode.

        Returns
        -------
        dict
            ``{"__ndarray__": member name}`` or ``{"__object_array__": [...], "shape": [...]}``.

        Raises
        ------
        TypeError
            If the array's dtype cannot be saved (e.g. void or structured).
        """
        a = np.asarray(a)
        if a.dtype.kind == "O":
            return {
                "__object_array__": [self(v) for v in a.ravel().tolist()],
                "shape": list(a.shape),
            }
        if a.dtype.kind not in "biufcMmUS":
            raise TypeError(f"cannot save an array of dtype {a.dtype}")
        name = f"arrays/{len(self.arrays)}.npy"
        self.arrays[name] = a
        return {"__ndarray__": name}

    def __call__(self, obj):  # noqa: C901 - one branch per supported type
        """Encode ``obj`` and everything it contains as JSON-able data.

        Parameters
        ----------
        obj : object
            A value of one of the types listed in the module docstring.

        Returns
        -------
        object
            JSON-able data; arrays are referenced by member name and kept in :attr:`arrays`.

        Raises
        ------
        TypeError
            If ``obj`` or something inside it is of a type the codec cannot save.
        """
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
        if isinstance(obj, pd.Period):
            return {"__period__": int(obj.ordinal), "freq": obj.freqstr}
        if isinstance(obj, pd.Timestamp):
            tz = None if obj.tz is None else str(obj.tz)
            return {
                "__timestamp__": int(
                    obj.tz_localize(None).value
                    if tz is None
                    else obj.tz_convert("UTC").tz_localize(None).value
                ),
                "tz": tz,
            }
        if isinstance(obj, np.random.RandomState):
            return {"__random_state__": self(obj.get_state())}
        path = registry.dotted_path(type(obj))
        if path in registry.OPTIMIZERS.values():
            state = obj._get_state()
            return {
                "__optimizer__": type(obj).__name__,
                "config": self(state["config"]),
                "state": self(state["state"]),
            }
        tag = registry.tag_of(type(obj))
        if tag == "__network__":
            return self.network(obj._get_state())
        if tag == "__history__":
            return {tag: self({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})}
        if tag == "__label_encoder__":
            return {tag: self(obj.classes_)}
        raise TypeError(f"cannot save an object of type {type(obj).__name__}")

    def index(self, index):
        """Encode a pandas Index (range, period, multi, datetime with time zone, other)."""
        if isinstance(index, pd.RangeIndex):
            return {
                "__range_index__": [index.start, index.stop, index.step],
                "name": self(index.name),
            }
        if isinstance(index, pd.PeriodIndex):
            return {
                "__period_index__": self.array(index.asi8),
                "freq": index.freqstr,
                "name": self(index.name),
            }
        if isinstance(index, pd.MultiIndex):
            return {
                "__multi_index__": [self.index(level) for level in index.levels],
                "codes": [self.array(c) for c in index.codes],
                "names": self(list(index.names)),
            }
        tz = getattr(index, "tz", None)
        values = index.tz_convert("UTC").tz_localize(None) if tz is not None else index
        freq = getattr(index, "freqstr", None)
        return {
            "__index__": self.array(values.to_numpy()),
            "name": self(index.name),
            "freq": freq,
            "tz": None if tz is None else str(tz),
        }

    def network(self, state):
        """Encode a network's ``_get_state()``: layers, dtype, input shape, specs, weights."""
        layers = [self.layer(name, config) for name, config in state["layers"]]
        return {
            "__network__": layers,
            "dtype": state["dtype"],
            "input_shape": self(state["input_shape"]),
            "specs": self(state["specs"]),
            "weights": self.array(state["weights"]),
        }

    def layer(self, name, config):
        """Encode one layer.

        A layer's ``{"class", "config"}``; a container's child sequences (lists of
        ``(name, config)`` pairs) are tagged ``{"__layers__": [...]}``.
        """
        return {
            "class": name,
            "config": {"__dict__": [[self(k), self._setting(v)] for k, v in config.items()]},
        }

    def _setting(self, value):
        if isinstance(value, list):
            if value and all(isinstance(v, tuple) for v in value):
                return {"__layers__": [self.layer(*v) for v in value]}
            return [self._setting(v) for v in value]
        return self(value)


# --- decoding -----------------------------------------------------------------------------


def _keys(data, required, optional=(), what="entry"):
    """Check that the tagged dict ``data`` has exactly the keys it should."""
    missing = [k for k in required if k not in data]
    unknown = [k for k in data if k not in required and k not in optional]
    if missing or unknown:
        _fail(
            f"malformed {what} in the model state: missing {missing}, unexpected "
            f"{[str(k)[:40] for k in unknown[:5]]}"
        )


def _hashable(key):
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    try:
        hash(key)
    except TypeError:
        _fail(f"a dictionary key in the model state is not hashable ({type(key).__name__})")
    return key


class Decoder:
    """The inverse of :class:`Encoder`; builds only allow-listed types.

    Parameters
    ----------
    archive : tsrnn.modelfile.container.Archive
        Where ``{"__ndarray__": name}`` entries are read from (with their headers
        checked before anything is allocated).
    """

    def __init__(self, archive):
        self.archive = archive
        self._arrays = {}

    def array(self, data, **expect):
        """Read the array an ``{"__ndarray__": name}`` entry refers to.

        Parameters
        ----------
        data : dict
            The entry (an object array entry is decoded too, when nothing is expected).
        **expect
            Checks on the member's header before it is read (``shape``, ``dtype``,
            ``dtype_kinds``), passed to the archive.

        Returns
        -------
        ndarray


        Raises
        ------
        ModelFileError
            If the entry is malformed, refers to a member twice, or fails ``expect``.
        """
        if not isinstance(data, dict) or set(data) != {"__ndarray__"}:
            if isinstance(data, dict) and "__object_array__" in data and not expect:
                return self(data)
            _fail(f"expected an array in the model state, got {data!r:.80}")
        name = data["__ndarray__"]
        if not isinstance(name, str):
            _fail(f"an array's member name must be a string, got {name!r:.80}")
        if name in self._arrays:
            _fail(f"array {name!r:.80} is used twice in the model state")
        self._arrays[name] = out = self.archive.array(name, **expect)
        return out

    def __call__(self, data):  # noqa: C901 - one branch per supported tag
        """Decode data made by :meth:`Encoder.__call__`, building only allow-listed types.

        Parameters
        ----------
        data : object
            JSON data from a model file's state.

        Returns
        -------
        object
            The decoded value.


        Raises
        ------
        ModelFileError
            If an entry is malformed or of an unknown type.
        """
        if data is None or isinstance(data, (bool, str, int, float)):
            return data
        if isinstance(data, list):
            return [self(v) for v in data]
        if not isinstance(data, dict) or len(data) == 0:
            _fail(f"unexpected value in the model state: {data!r:.80}")
        tag = next(iter(data))
        if tag == "__ndarray__":
            return self.array(data)
        if tag == "__object_array__":
            _keys(data, (tag, "shape"), what="object array")
            items, shape = data[tag], data["shape"]
            if (
                not isinstance(items, list)
                or not isinstance(shape, list)
                or not all(_is_int(d) and d >= 0 for d in shape)
                or math.prod(shape) != len(items)
            ):
                _fail(f"malformed object array in the model state: {data!r:.80}")
            out = np.empty(len(items), dtype=object)
            out[:] = [self(v) for v in items]
            try:
                return out.reshape(shape)
            except ValueError:  # e.g. an empty array with dimensions beyond numpy's limits
                _fail(f"malformed object array shape in the model state: {shape!r:.80}")
        if tag == "__float__":
            _keys(data, (tag,), what="float")
            if data[tag] not in ("nan", "inf", "-inf"):
                _fail(f"malformed float in the model state: {data[tag]!r:.40}")
            return float(data[tag])
        if tag == "__scalar__":
            _keys(data, (tag,), what="scalar")
            value = self.array(data[tag])
            if value.shape != ():
                _fail(f"a saved scalar has shape {value.shape}")
            return value[()]
        if tag == "__dtype__":
            _keys(data, (tag,), what="dtype")
            if not isinstance(data[tag], str) or len(data[tag]) > 8:
                _fail(f"malformed dtype in the model state: {data[tag]!r:.40}")
            dtype = np.dtype(data[tag])
            if dtype.hasobject:
                _fail("object dtypes cannot be loaded")
            return dtype
        if tag == "__tuple__":
            _keys(data, (tag,), what="tuple")
            if not isinstance(data[tag], list):
                _fail(f"malformed tuple in the model state: {data[tag]!r:.80}")
            return tuple(self(v) for v in data[tag])
        if tag == "__dict__":
            return self.dict(data)
        if tag in ("__index__", "__range_index__", "__period_index__", "__multi_index__"):
            return self.index(data)
        if tag == "__period__":
            _keys(data, (tag, "freq"), what="period")
            if not _is_int(data[tag]) or not isinstance(data["freq"], str):
                _fail(f"malformed period in the model state: {data!r:.80}")
            return pd.Period(ordinal=data[tag], freq=readable(data["freq"], period=True))
        if tag == "__timestamp__":
            _keys(data, (tag, "tz"), what="timestamp")
            if not _is_int(data[tag]) or not isinstance(data["tz"], (str, type(None))):
                _fail(f"malformed timestamp in the model state: {data!r:.80}")
            ts = pd.Timestamp(data[tag])
            return ts if data["tz"] is None else ts.tz_localize("UTC").tz_convert(data["tz"])
        if tag == "__random_state__":
            _keys(data, (tag,), what="random state")
            rs = np.random.RandomState()
            rs.set_state(self(data[tag]))
            return rs
        if tag == "__network__":
            return self.network(data)
        if tag == "__optimizer__":
            return self.optimizer(data)
        if tag == "__history__":
            return self.history(data)
        if tag == "__label_encoder__":
            _keys(data, (tag,), what="label encoder")
            enc = registry.resolve(registry.OBJECTS[tag])()
            enc.classes_ = self.array(data[tag])
            if enc.classes_.ndim != 1:
                _fail("a label encoder's classes must be 1-D")
            return enc
        _fail(f"unknown entry {tag!r:.80} in the model state")

    def dict(self, data, what="dictionary"):
        """Decode a ``{"__dict__": [[key, value], ...]}`` entry; ``what`` names it in errors."""
        _keys(data, ("__dict__",), what=what)
        pairs = data["__dict__"]
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in pairs
        ):
            _fail(f"malformed {what} in the model state: expected key-value pairs")
        return {_hashable(self(k)): self(v) for k, v in pairs}

    def index(self, data):
        """Decode a pandas Index entry (the inverse of :meth:`Encoder.index`)."""
        tag = next(iter(data))
        if tag == "__range_index__":
            _keys(data, (tag, "name"), what="range index")
            bounds = data[tag]
            if not (isinstance(bounds, list) and len(bounds) == 3 and all(map(_is_int, bounds))):
                _fail(f"malformed range index in the model state: {bounds!r:.80}")
            return pd.RangeIndex(*bounds, name=self(data["name"]))
        if tag == "__period_index__":
            _keys(data, (tag, "freq", "name"), what="period index")
            ordinals = self.array(data[tag], dtype_kinds="i")
            if ordinals.ndim != 1 or not isinstance(data["freq"], str):
                _fail("malformed period index in the model state")
            # PeriodArray from ordinals: PeriodIndex.from_ordinals needs pandas >= 2.2.
            periods = pd.arrays.PeriodArray(
                ordinals.astype(np.int64),
                dtype=pd.PeriodDtype(readable(data["freq"], period=True)),
            )
            return pd.PeriodIndex(periods, name=self(data["name"]))
        if tag == "__multi_index__":
            _keys(data, (tag, "codes", "names"), what="multi-index")
            levels, codes = data[tag], data["codes"]
            if not isinstance(levels, list) or not isinstance(codes, list):
                _fail("malformed multi-index in the model state")
            return pd.MultiIndex(
                levels=[self.index(level) for level in levels],
                codes=[self.array(c, dtype_kinds="iu") for c in codes],
                names=self(data["names"]),
            )
        _keys(data, (tag, "name", "freq", "tz"), what="index")
        values = self.array(data[tag])
        name, freq, tz = self(data["name"]), data["freq"], data["tz"]
        if (
            values.ndim != 1
            or not isinstance(freq, (str, type(None)))
            or not isinstance(tz, (str, type(None)))
        ):
            _fail("malformed index in the model state")
        freq = readable(freq)
        if tz is not None:
            index = pd.DatetimeIndex(values, name=name).tz_localize("UTC").tz_convert(tz)
            return pd.DatetimeIndex(index, freq=freq) if freq else index
        if freq is not None and values.dtype.kind == "M":
            return pd.DatetimeIndex(values, name=name, freq=freq)
        if freq is not None and values.dtype.kind == "m":
            return pd.TimedeltaIndex(values, name=name, freq=freq)
        return pd.Index(values, name=name)

    def network(self, data):
        """Rebuild a network from its entry, checking every size before building it.

        Parameters
        ----------
        data : dict
            The ``__network__`` entry.

        Returns
        -------
        tsrnn.Network


        Raises
        ------
        ModelFileError
            If the entry is malformed or describes an invalid network.
        """
        _keys(data, ("__network__", "dtype", "input_shape", "specs", "weights"), what="network")
        if data["dtype"] not in _WEIGHT_DTYPES:
            _fail(f"a network's dtype must be one of {_WEIGHT_DTYPES}, got {data['dtype']!r:.40}")
        specs = self(data["specs"])
        if not isinstance(specs, tuple) or not all(
            isinstance(s, tuple)
            and len(s) == 2
            and isinstance(s[0], str)
            and isinstance(s[1], tuple)
            and all(_is_int(d) and 0 <= d < MAX_INT for d in s[1])
            for s in specs
        ):
            _fail("malformed parameter specs of the saved network")
        input_shape = self(data["input_shape"])
        if not (
            isinstance(input_shape, tuple)
            and len(input_shape) == 2
            and (
                input_shape[0] is None or _is_int(input_shape[0]) and 1 <= input_shape[0] < MAX_INT
            )
            and _is_int(input_shape[1])
            and 1 <= input_shape[1] <= LAYER_INT_LIMITS["units"]
        ):
            _fail(f"malformed input shape of the saved network: {input_shape!r:.80}")
        if not isinstance(data["__network__"], list) or not data["__network__"]:
            _fail("a saved network needs a list of layers")
        self._n_layers = 0
        layers = self.layers(data["__network__"], depth=0)

        def read_weights(n, dtype):
            return self.array(data["weights"], shape=(n,), dtype=dtype)

        network = registry.resolve(registry.OBJECTS["__network__"])
        try:
            return network._from_state(layers, data["dtype"], input_shape, specs, read_weights)
        except ModelFileError:
            raise
        except (ValueError, TypeError) as exc:
            _fail(f"the saved network is invalid: {exc}")

    def layers(self, specs, depth):
        """A sequence of layers: the network's, or a container's child sequence."""
        if depth > MAX_NESTING:
            _fail(f"the saved network nests containers more than {MAX_NESTING} deep")
        if not isinstance(specs, list) or not specs:
            _fail("a saved layer sequence must be a non-empty list of layers")
        self._n_layers += len(specs)
        if self._n_layers > MAX_LAYERS:
            _fail(f"the saved network has more than {MAX_LAYERS} layers")
        return [self.layer(spec, depth) for spec in specs]

    def layer(self, spec, depth=0):
        """Build one layer from ``{"class": name, "config": settings}``.

        Integer settings are range-checked against :data:`LAYER_INT_LIMITS` first;
        a container's child sequences are built at ``depth + 1``.

        Raises
        ------
        ModelFileError
            If the class is not allow-listed or a setting is invalid.
        """
        if not isinstance(spec, dict):
            _fail(f"malformed layer in the model state: {spec!r:.80}")
        _keys(spec, ("class", "config"), what="layer")
        cls = registry.lookup(registry.LAYERS, spec["class"], "layer")
        data = spec["config"]
        if not isinstance(data, dict):
            _fail(f"malformed layer configuration in the model state: {data!r:.80}")
        _keys(data, ("__dict__",), what="layer configuration")
        pairs = data["__dict__"]
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in pairs
        ):
            _fail("malformed layer configuration in the model state: expected key-value pairs")
        config = {}
        for key, value in pairs:
            if not isinstance(key, str):
                _fail(f"a layer setting must be named by a string, got {key!r:.40}")
            config[key] = self._setting(spec["class"], key, value, depth)
        try:
            return cls(**config)
        except (ValueError, TypeError) as exc:
            _fail(f"layer {spec['class']} has invalid settings: {exc}")

    def _setting(self, name, key, value, depth):
        """Decode one layer setting.

        One setting of layer class ``name``: a scalar, or a container's child
        sequence (``{"__layers__": [...]}``) or list of them.
        """
        if isinstance(value, dict) and set(value) == {"__layers__"}:
            return self.layers(value["__layers__"], depth + 1)
        if isinstance(value, list):
            if not value or not all(
                isinstance(v, dict) and set(v) == {"__layers__"} for v in value
            ):
                _fail(f"layer {name}: {key} must be a number, a string or layer sequences")
            return [self.layers(v["__layers__"], depth + 1) for v in value]
        value = self(value)
        if _is_int(value) and not abs(value) <= LAYER_INT_LIMITS.get(key, MAX_INT):
            _fail(
                f"layer {name}: {key}={value} is out of range (at most "
                f"{LAYER_INT_LIMITS.get(key, MAX_INT)})"
            )
        if not isinstance(value, (bool, int, float, str, type(None))):
            _fail(f"layer {name}: {key} must be a number or a string")
        return value

    def optimizer(self, data):
        """Rebuild an optimizer, checking its settings and buffers are finite.

        Raises
        ------
        ModelFileError
            If the entry is malformed or the optimizer invalid.
        """
        _keys(data, ("__optimizer__", "config", "state"), what="optimizer")
        cls = registry.lookup(registry.OPTIMIZERS, data["__optimizer__"], "optimizer")
        config, state = self(data["config"]), self(data["state"])
        for what, values in (("settings", config), ("state", state)):
            if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
                _fail(f"the optimizer's {what} must be a mapping of names")
        for key, value in list(config.items()) + list(state.items()):
            if isinstance(value, np.ndarray):
                if value.ndim != 1 or value.dtype.kind != "f" or not np.isfinite(value).all():
                    _fail(f"the optimizer's {key} must be a finite 1-D float array")
            elif not isinstance(value, numbers.Real) or not math.isfinite(value):
                _fail(f"the optimizer's {key} must be a finite number, got {value!r:.40}")
        try:
            return cls._from_state(config, state)
        except (ValueError, TypeError, KeyError) as exc:
            _fail(f"the saved optimizer is invalid: {exc!r}")

    def history(self, data):
        """Rebuild a training history from its fields.

        Raises
        ------
        ModelFileError
            If the entry has fields the history class does not know.
        """
        _keys(data, ("__history__",), what="training history")
        cls = registry.resolve(registry.OBJECTS["__history__"])
        fields = self(data["__history__"])
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(fields, dict) or not set(fields) <= names:
            _fail("malformed training history in the model state")
        return cls(**fields)
