"""The recurrent network layer: a :class:`~tsrnn.layers.Recurrent` stack in a network.

Networks are batch-major; the recurrent kernels are time-major. This layer
converts once at its boundary (one transpose in, one out), applies Keras-style
variational dropout, and returns the whole sequence or the last state.
"""

from tsrnn._validation import check_positive_int
from tsrnn.layers.base import Layer
from tsrnn.layers.recurrent import Recurrent


class RNN(Layer):
    """Stacked, optionally bidirectional simple-RNN, LSTM or GRU layers.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}
        The recurrent cell: LSTM, GRU or simple (Elman) RNN.
    hidden_size : int
        Units of the hidden state, per direction.
    num_layers : int, default=1
        Recurrent layers stacked, each reading the previous one's output sequence.
    bidirectional : bool, default=False
        Also run every layer over the reversed sequence and concatenate (D = 2).
    return_sequences : bool, default=False
        Return ``(batch, n_steps, D * hidden_size)`` instead of the last state
        ``(batch, D * hidden_size)``. For the reversed direction the last state is
        its output at step 0 (Keras' and PyTorch's convention).
    activation : {'tanh', 'relu'}, default='tanh'
        Simple RNN and LSTM only (see :class:`~tsrnn.layers.Recurrent`).
    dropout : float, default=0.0
        Input dropout, one mask per sequence reused at every step (Keras' ``dropout``).
    recurrent_dropout : float, default=0.0
        Dropout on h_{t-1} in the recurrent product, one mask per sequence and layer
        (Gal & Ghahramani, 2016; Keras' ``recurrent_dropout``).
    reset_after, unit_forget_bias
        See :class:`~tsrnn.layers.Recurrent`.

    Raises
    ------
    ValueError
        If ``cell``, ``activation``, a size or a dropout rate is invalid.
    """

    supports_mask = True

    def __init__(
        self,
        cell,
        hidden_size,
        num_layers=1,
        bidirectional=False,
        return_sequences=False,
        activation="tanh",
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        unit_forget_bias=True,
    ):
        for rate_name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{rate_name} must be in [0, 1), got {rate!r}")
        self.cell = cell
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.num_layers = check_positive_int(num_layers, "num_layers")
        self.bidirectional = bool(bidirectional)
        self.return_sequences = bool(return_sequences)
        self.activation = activation
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.reset_after = bool(reset_after)
        self.unit_forget_bias = bool(unit_forget_bias)
        # Validates cell and activation now, at construction.
        Recurrent(cell, 1, self.hidden_size, activation=activation)

    @property
    def draws_random(self):
        """Whether training draws dropout masks."""
        return self.dropout > 0 or self.recurrent_dropout > 0

    @property
    def name(self):
        """The cell type, used in parameter names (``'0.lstm.weight_ih_l0'``)."""
        return self.cell

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        names = (
            "cell",
            "hidden_size",
            "num_layers",
            "bidirectional",
            "return_sequences",
            "activation",
            "dropout",
            "recurrent_dropout",
            "reset_after",
            "unit_forget_bias",
        )
        return {k: getattr(self, k) for k in names}

    def build(self, input_shape, dtype):
        """Create the recurrent stack for this input shape; return the output shape."""
        self.core = Recurrent(
            self.cell,
            input_shape[1],
            self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            activation=self.activation,
            reset_after=self.reset_after,
            unit_forget_bias=self.unit_forget_bias,
            dtype=dtype,
        )
        self.core.device = self.device
        return super().build(input_shape, dtype)

    def to(self, device):
        """Run this layer and its recurrent stack on ``device`` from now on."""
        if hasattr(self, "core"):  # built
            self.core.device = device
        return super().to(device)

    def _output_shape(self, input_shape):
        width = self.core.output_size
        return (input_shape[0], width) if self.return_sequences else (width,)

    def param_specs(self):
        """``[(name, shape), ...]`` of the recurrent stack's weights and biases."""
        return self.core.param_specs()

    def init_params(self, params, rng):
        """Initialise the stack's weights and biases (see :class:`~tsrnn.layers.Recurrent`)."""
        self.core.init_params(rng, params)

    def forward(self, params, x, ctx):
        """Run the stack over time; return the sequence or the last state.

        See :meth:`tsrnn.layers.base.Layer.forward`.
        """
        batch = x.shape[0]
        arrays = self.backend.arrays
        x_tm = arrays.swap_leading_axes(x)
        keep_x = None
        if ctx.training and self.dropout > 0:
            keep_x = arrays.dropout_scales(ctx.rng, (batch, x.shape[2]), self.dropout, self.dtype)
            arrays.scale_steps(x_tm, keep_x)
        rmask = None
        if ctx.training and self.recurrent_dropout > 0:
            shape = (self.num_layers * self.core.num_directions, batch, self.hidden_size)
            rmask = arrays.dropout_scales(ctx.rng, shape, self.recurrent_dropout, self.dtype)
        mask_tm = None if ctx.mask is None else arrays.swap_leading_axes(ctx.mask)
        # The network validated x and owns the parameter views: skip the layer's checks.
        y, h_n, _, cache = self.core.forward(params, x_tm, mask_tm, rmask=rmask, validate=False)
        if self.return_sequences:
            out = arrays.swap_leading_axes(y)
        else:
            D = self.core.num_directions
            out = arrays.concat_last([h_n[k] for k in range(h_n.shape[0] - D, h_n.shape[0])])
            ctx.mask = None  # the sequence ends here
        return out, (cache, keep_x, h_n.shape)

    def backward(self, params, cache, dy, grads):
        """Back-propagate through time.

        See :meth:`tsrnn.layers.base.Layer.backward`.
        """
        core_cache, keep_x, state_shape = cache
        arrays = self.backend.arrays
        if self.return_sequences:
            dx_tm, *_ = self.core.backward(
                params, core_cache, dy=arrays.swap_leading_axes(dy), grads=grads
            )
        else:
            dh_n = arrays.zeros(state_shape, self.dtype)
            D, H = self.core.num_directions, self.hidden_size
            for d in range(D):
                arrays.copy_into(
                    arrays.take_last(dy, d * H, (d + 1) * H), dh_n[state_shape[0] - D + d]
                )
            dx_tm, *_ = self.core.backward(params, core_cache, dh_n=dh_n, grads=grads)
        if not self.needs_input_gradient:
            return None  # the network's first layer: nobody reads dL/dx
        if keep_x is not None:
            arrays.scale_steps(dx_tm, keep_x)
        return arrays.swap_leading_axes(dx_tm)


def LSTM(hidden_size, **kwargs):  # noqa: N802 (a layer constructor, Keras' spelling)
    """An LSTM layer: ``RNN('lstm', hidden_size, **kwargs)``.

    Parameters
    ----------
    hidden_size : int
        Units of the hidden state.
    **kwargs
        The other arguments of :class:`RNN` (``num_layers``, ``bidirectional``,
        ``return_sequences``, ``dropout``...).

    Returns
    -------
    RNN
    """
    return RNN("lstm", hidden_size, **kwargs)


def GRU(hidden_size, **kwargs):  # noqa: N802
    """A GRU layer: ``RNN('gru', hidden_size, **kwargs)``.

    Parameters
    ----------
    hidden_size : int
        Units of the hidden state.
    **kwargs
        The other arguments of :class:`RNN` (``num_layers``, ``bidirectional``,
        ``return_sequences``, ``dropout``...).

    Returns
    -------
    RNN
    """
    return RNN("gru", hidden_size, **kwargs)


def SimpleRNN(hidden_size, **kwargs):  # noqa: N802
    """A simple-RNN layer: ``RNN('rnn', hidden_size, **kwargs)``.

    Parameters
    ----------
    hidden_size : int
        Units of the hidden state.
    **kwargs
        The other arguments of :class:`RNN` (``num_layers``, ``bidirectional``,
        ``return_sequences``, ``dropout``...).

    Returns
    -------
    RNN
    """
    return RNN("rnn", hidden_size, **kwargs)
