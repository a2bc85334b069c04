"""Recurrent layers: shapes, initialisation, validation, and composition of kernels.

A :class:`Recurrent` describes a stack of ``num_layers`` recurrent layers of one
cell type, optionally bidirectional, like ``torch.nn.LSTM``. It holds no weights:
parameters live in a :class:`~tsrnn.layers._params.ParameterBuffer` (one flat
array) that is passed to :meth:`Recurrent.forward` and :meth:`Recurrent.backward`,
so a network can keep all of its layers' parameters in one buffer.

The math and conventions are documented in :mod:`tsrnn.kernels.reference.recurrent`.
"""

import functools

import numpy as np

from tsrnn._dtypes import check_float_dtype
from tsrnn._random import as_generator
from tsrnn._validation import check_positive_int
from tsrnn.backend import get_backend
from tsrnn.initializers import glorot_uniform, orthogonal
from tsrnn.kernels.cells import cell_spec
from tsrnn.kernels.scalar import ACTIVATION_CODES
from tsrnn.layers._params import ParameterBuffer

CELL_TYPES = ("gru", "lstm", "rnn")


class Recurrent:
    """A stack of simple-RNN, LSTM or GRU layers.

    Parameters
    ----------
    cell : {'rnn', 'lstm', 'gru'}
        Cell type. Gate orders: LSTM (i, f, g, o), GRU (r, z, n).
    input_size : int
        Number of input features.
    hidden_size : int
        Units per layer and direction.
    num_layers : int, default=1
        Stacked layers; layer k > 0 reads the full output sequence of layer k - 1.
    bidirectional : bool, default=False
        Run a second, reversed pass per layer and concatenate its outputs
        (forward first) along the feature axis.
    activation : {'tanh', 'relu'}, default='tanh'
        Nonlinearity of the simple RNN's output, or of the LSTM's candidate and
        output (``h = o * act(C)``, as Keras' ``LSTM(activation=...)``). The GRU
        uses tanh.
    reset_after : bool, default=True
        GRU formulation: True is PyTorch's and Keras' default (reset gate applied
        after the recurrent matrix product, with a separate bias ``b_hn``); False is
        the original formulation, in which z weights the candidate.
    unit_forget_bias : bool, default=True
        Initialise the LSTM forget-gate bias to 1 (Jozefowicz et al., 2015).
    dtype : {'float32', 'float64'}, default='float32'

    Notes
    -----
    Parameter names are ``l{k}.W_x``, ``l{k}.W_h``, ``l{k}.b`` (and ``l{k}.b_hn`` for
    the reset-after GRU) for layer ``k``, with the suffix ``_reverse`` on the layer
    part (``l0_reverse.W_x``) for the reversed direction. ``W_x`` has shape
    ``(input, G * hidden_size)``, ``W_h`` ``(hidden_size, G * hidden_size)``.
    """

    def __init__(
        self,
        cell,
        input_size,
        hidden_size,
        num_layers=1,
        bidirectional=False,
        activation="tanh",
        reset_after=True,
        unit_forget_bias=True,
        dtype="float32",
    ):
        if cell not in CELL_TYPES:
            raise ValueError(f"cell must be one of {list(CELL_TYPES)}, got {cell!r}")
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            check_positive_int(value, name)
        if activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be one of ['relu', 'tanh'], got {activation!r}")
        if activation != "tanh" and cell == "gru":
            raise ValueError(f"activation={activation!r} is not available for cell='gru'")
        self.cell = cell
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bidirectional = bool(bidirectional)
        self.activation = activation
        self.reset_after = bool(reset_after)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.dtype = check_float_dtype(dtype)

    #: Where the kernels run ('cpu' or 'cuda'); the arrays passed in must live there.
    device = "cpu"

    @property
    def kernels(self):
        """The recurrent kernels of ``device`` (a property, so that layers pickle)."""
        return get_backend(self.device).recurrent

    @property
    def _arrays(self):
        return get_backend(self.device).arrays

    # --- shapes ------------------------------------------------------------------------

    @property
    def num_directions(self):
        """2 for a bidirectional stack, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self):
        """Features of the output sequence: ``num_directions * hidden_size``."""
        return self.num_directions * self.hidden_size

    @property
    def spec(self):
        """The cell's :class:`~tsrnn.kernels.cells.CellSpec` (gates, cache, kernels)."""
        return cell_spec(self.cell, self.reset_after)

    @property
    def has_cell_state(self):
        """Whether the cell carries a cell state ``c`` besides ``h`` (the LSTM)."""
        return self.spec.has_cell_state

    @property
    def _activation_code(self):
        return ACTIVATION_CODES[self.activation]

    def prefix(self, layer, direction):
        """Parameter-name prefix of one layer and direction, e.g. ``'l1_reverse'``."""
        return f"l{layer}" + ("_reverse" if direction else "")

    def param_specs(self):
        """Names and shapes of all parameters, in buffer order."""
        G, H = self.spec.n_gates, self.hidden_size
        specs = []
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else self.output_size
            shapes = {"W_x": (n_in, G * H), "W_h": (H, G * H), "b": (G * H,), "b_hn": (H,)}
            for direction in range(self.num_directions):
                p = self.prefix(layer, direction)
                specs += [(f"{p}.{name}", shapes[name]) for name in self.spec.params]
        return specs

    # --- initialisation ----------------------------------------------------------------

    def init_params(self, random_state=None, params=None):
        """Draw initial weights into a parameter buffer.

        Input weights are Glorot-uniform, recurrent weights orthogonal, biases zero
        (the LSTM forget-gate bias is 1 when ``unit_forget_bias``).

        Parameters
        ----------
        random_state : None, int or numpy.random.Generator / RandomState
            Seed; the same seed gives bit-identical weights.
        params : ParameterBuffer, optional
            Buffer to fill in place (e.g. a network's); a new one is made if omitted.
        """
        rng = as_generator(random_state)
        if params is None:
            params = ParameterBuffer(self.param_specs(), self.dtype)
        H = self.hidden_size
        for name, shape in self.param_specs():
            kind = name.rsplit(".", 1)[1]
            if kind == "W_x":
                params[name][...] = glorot_uniform(rng, shape, shape[0], shape[1], self.dtype)
            elif kind == "W_h":
                params[name][...] = orthogonal(rng, shape, self.dtype)
            else:
                params[name][...] = 0
                if kind == "b" and self.cell == "lstm" and self.unit_forget_bias:
                    params[name][H : 2 * H] = 1
        return params

    # --- validation --------------------------------------------------------------------

    def _check_input(self, x, check_finite):
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(
                f"expected a 3-D input of shape (n_steps, batch, n_features), got {x.ndim}-D "
                f"input of shape {x.shape}"
            )
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise TypeError(f"input must be real numbers, got dtype {x.dtype}")
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"input has {x.shape[2]} features, but this layer expects {self.input_size}"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"input must have at least one step and one sample, got {x.shape}")
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if check_finite and not np.isfinite(x).all():
            raise ValueError("input contains NaN or infinity")
        return x

    def _check_mask(self, mask, n_steps, batch):
        if mask is None:
            return self._arrays.ones_mask((n_steps, batch))
        if self.device != "cpu":
            return mask  # a device array from the network layer, already checked there
        mask = np.asarray(mask)
        if mask.shape != (n_steps, batch):
            raise ValueError(
                f"mask must have shape (n_steps, batch) = {(n_steps, batch)}, got {mask.shape}"
            )
        if mask.dtype != np.bool_:
            if not np.isin(mask, (0, 1)).all():
                raise ValueError("mask must be boolean (or 0/1)")
            mask = mask.astype(np.bool_)
        return np.ascontiguousarray(mask)

    def _check_state(self, state, name, batch):
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if state is None:
            return self._arrays.zeros(shape, self.dtype)
        if self.device != "cpu":
            return self._arrays.to_device(state, self.dtype)
        state = np.asarray(state)
        if state.shape != shape:
            raise ValueError(
                f"{name} must have shape (num_layers * num_directions, batch, "
                f"hidden_size) = {shape}, got {state.shape}"
            )
        if not np.issubdtype(state.dtype, np.floating):
            raise TypeError(f"{name} must be floating point, got dtype {state.dtype}")
        return np.array(state, dtype=self.dtype, order="C")

    def _check_params(self, params):
        for name, shape in self.param_specs():
            if name not in params:
                raise KeyError(f"missing parameter {name!r}")
            p = params[name]
            if p.shape != shape or p.dtype != self.dtype:
                raise ValueError(
                    f"parameter {name!r} must have shape {shape} and dtype "
                    f"{self.dtype}, got {p.shape} and {p.dtype}"
                )

    # --- forward / backward ------------------------------------------------------------

    def forward(
        self, params, x, mask=None, h0=None, c0=None, check_finite=True, rmask=None, validate=True
    ):
        """Run the stack over a batch of sequences.

        Parameters
        ----------
        params : ParameterBuffer or mapping of name -> ndarray
        x : ndarray of shape (n_steps, batch, input_size)
            Time-major input; converted to this layer's dtype.
        mask : ndarray of shape (n_steps, batch), optional
            False marks padding: the state is carried through those steps unchanged.
        h0, c0 : ndarray of shape (num_layers * num_directions, batch, hidden_size)
            Initial states (zeros if omitted); ``c0`` only for the LSTM.
        check_finite : bool, default=True
            Raise on NaN or infinity in ``x``.
        rmask : ndarray of shape (num_layers * num_directions, batch, hidden_size), optional
            Variational recurrent-dropout masks, already scaled by 1 / (1 - p): the
            recurrent product of layer/direction ``k`` reads ``h_{t-1} * rmask[k]``.
        validate : bool, default=True
            False skips the checks of ``params`` and ``x`` for callers that pass a
            C-contiguous ``x`` of this layer's dtype and the network's own parameter
            views (the network layers do; it matters for single-sequence latency).

        Returns
        -------
        y : ndarray of shape (n_steps, batch, num_directions * hidden_size)
            Output sequence of the last layer.
        h_n : ndarray of shape (num_layers * num_directions, batch, hidden_size)
            Final states (for the reversed direction: the state after step 0).
        c_n : ndarray like ``h_n``, or None
            Final cell states of the LSTM.
        cache : dict
            Everything :meth:`backward` needs.
        """
        if validate:
            self._check_params(params)
            if self.device == "cpu":
                x = self._check_input(x, check_finite)
            else:
                x = self._arrays.to_device(x, self.dtype)
        n_steps, batch, _ = x.shape
        mask = self._check_mask(mask, n_steps, batch)
        h0 = self._check_state(h0, "h0", batch)
        if c0 is not None and not self.has_cell_state:
            raise ValueError(f"c0 is only used by the LSTM, not by cell={self.cell!r}")
        c0 = self._check_state(c0, "c0", batch) if self.has_cell_state else None
        if rmask is not None:
            rmask = self._check_state(rmask, "rmask", batch)
        arrays = self._arrays
        no_dropout = arrays.empty((0, self.hidden_size), self.dtype)
        # The kernels start from h_n[k] (c_n[k]) and leave the final state there.
        h_n = arrays.copy(h0)
        c_n = arrays.copy(c0) if c0 is not None else None
        saved, layer_input = [], x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                p = self._direction_params(params, layer, direction)
                rm = no_dropout if rmask is None else rmask[k]
                states = (h_n[k],) if c_n is None else (h_n[k], c_n[k])
                run = _forward_direction(self, p, layer_input, mask, direction == 1, states, rm)
                initial = (h0[k],) if c0 is None else (h0[k], c0[k])
                run.update(x=layer_input, initial_states=initial, rmask=rm)
                saved.append(run)
                outputs.append(run["h_seq"])
            layer_input = arrays.concat_last(outputs)
        cache = dict(saved=saved, mask=mask, n_steps=n_steps, batch=batch)
        return layer_input, h_n, c_n, cache

    def backward(self, params, cache, dy=None, dh_n=None, dc_n=None, grads=None):
        """Backpropagation through time.

        Parameters
        ----------
        params : ParameterBuffer or mapping
            The parameters used in the forward pass.
        cache : dict
            From :meth:`forward`.
        dy : ndarray like ``y``, optional
            dL/dy (zeros if omitted).
        dh_n, dc_n : ndarray like ``h_n``, optional
            dL/dh_n and dL/dc_n (zeros if omitted).
        grads : ParameterBuffer, optional
            Where to write the parameter gradients (overwritten); new if omitted.

        Returns
        -------
        dx : ndarray of shape (n_steps, batch, input_size)
        grads : ParameterBuffer
        dh0 : ndarray like ``h0``
        dc0 : ndarray like ``c0``, or None
        """
        n_steps, batch = cache["n_steps"], cache["batch"]
        D, H = self.num_directions, self.hidden_size
        state_shape = (self.num_layers * D, batch, H)
        dy = self._check_gradient(dy, (n_steps, batch, self.output_size), "dy")
        dh = self._check_gradient(dh_n, state_shape, "dh_n")
        dc = self._check_gradient(dc_n, state_shape, "dc_n") if self.has_cell_state else None
        if grads is None:
            grads = ParameterBuffer(self.param_specs(), self.dtype)
        arrays = self._arrays
        d_out = dy
        for layer in reversed(range(self.num_layers)):
            d_in = None
            for direction in range(D):
                k = layer * D + direction
                run = cache["saved"][k]
                lo = direction * H
                dh_seq = d_out if D == 1 else arrays.take_last(d_out, lo, lo + H)
                dx = _backward_direction(
                    self,
                    self._direction_params(params, layer, direction),
                    self._direction_params(grads, layer, direction),
                    run,
                    cache["mask"],
                    direction == 1,
                    dh_seq,
                    (dh[k],) if dc is None else (dh[k], dc[k]),
                )
                if d_in is None:
                    d_in = dx
                else:
                    arrays.add_into(d_in, dx)
            d_out = d_in
        return d_out, grads, dh, dc

    def _check_gradient(self, g, shape, name):
        if g is None:
            return self._arrays.zeros(shape, self.dtype)
        if self.device != "cpu":
            # Copied: the kernels overwrite dh_n/dc_n with dL/dh0, dL/dc0.
            return self._arrays.copy(self._arrays.to_device(g, self.dtype))
        g = np.asarray(g)
        if g.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {g.shape}")
        return np.array(g, dtype=self.dtype, order="C")

    def _direction_params(self, params, layer, direction):
        return {short: params[full] for short, full in self._param_names[layer][direction]}

    @functools.cached_property
    def _param_names(self):
        """``[layer][direction]`` -> ((kernel argument name, buffer name), ...).

        Built once because formatting the names on every call slows single-sequence predict.
        """
        names = self.spec.params
        return [
            [tuple((n, f"{self.prefix(layer, d)}.{n}") for n in names) for d in directions]
            for layer in range(self.num_layers)
            for directions in [range(self.num_directions)]
        ]

    def __repr__(self):
        return (
            f"Recurrent(cell={self.cell!r}, input_size={self.input_size}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.bidirectional}, dtype='{self.dtype}')"
        )


# --- one direction of one layer: allocate outputs and workspaces, call the kernel ------


def _forward_direction(layer, p, x, mask, reverse, states, rmask):
    """Run one direction of one layer and return its cache.

    ``states`` (h, and c for the LSTM) hold the initial states and receive the final
    ones. The returned dict holds the outputs ``h_seq`` and the cache arrays named by
    the cell's spec.
    """
    spec, a = layer.spec, layer._arrays
    n_steps, batch, _ = x.shape
    H, dt = layer.hidden_size, layer.dtype
    h_seq = a.empty((n_steps, batch, H), dt)
    cache = {name: a.empty((n_steps, batch, w * H), dt) for name, w in spec.cache}
    work = [a.empty((batch, w * H), dt) for w in spec.forward_work]
    params = [p[name] for name in spec.params]
    options = (rmask, layer._activation_code, reverse)
    spec.forward(layer.kernels)(x, mask, *params, *options, *states, h_seq, *cache.values(), *work)
    cache["h_seq"] = h_seq
    return cache


def _backward_direction(layer, p, g, run, mask, reverse, dh_seq, state_grads):
    """Back-propagate through time over one direction; return dL/dx.

    Parameter gradients are written into ``g``. ``state_grads`` (dh, and dc for the
    LSTM) hold dL/dh_n (dL/dc_n) and receive dL/dh0 (dL/dc0).
    """
    spec, a = layer.spec, layer._arrays
    x, h_seq = run["x"], run["h_seq"]
    n_steps, batch, _ = x.shape
    H, dt = layer.hidden_size, layer.dtype
    dx = a.empty_like(x)
    da_seq = a.empty((n_steps, batch, spec.n_gates * H), dt)
    h_prev_seq = a.empty_like(h_seq)
    seq_work = [a.empty((n_steps, batch, w * H), dt) for w in spec.backward_seq_work]
    work = [a.empty((batch, w * H), dt) for w in spec.backward_work]
    inputs = (x, mask, p["W_x"], p["W_h"], run["rmask"], layer._activation_code, reverse)
    saved = (*run["initial_states"], h_seq, *(run[name] for name, _ in spec.cache))
    grads = (dx, *(g[name] for name in spec.params))
    work = (da_seq, h_prev_seq, *seq_work, *work)
    spec.backward(layer.kernels)(*inputs, *saved, dh_seq, *state_grads, *grads, *work)
    return dx
