"""One spec per recurrent cell: its gates, parameters, cached arrays and kernels.

Every cell's kernels, on every backend, share one argument order::

    <cell>_forward(x, mask, *params, rmask, activation, reverse,
                   *states, h_seq, *cache, *forward_work)
    <cell>_backward(x, mask, W_x, W_h, rmask, activation, reverse,
                    *initial_states, h_seq, *cache, dh_seq, *state_grads,
                    dx, *param_grads, da_seq, h_prev_seq, *backward_seq_work,
                    *backward_work)

where ``params``/``param_grads`` follow :attr:`CellSpec.params`, ``states`` are
``h_state`` (and ``c_state`` for a cell with a cell state), ``initial_states`` are
``h0`` (and ``c0``), ``state_grads`` are ``dh_state`` (and ``dc_state``), and
``cache``, ``forward_work`` and ``backward_work`` are the arrays named below, in
that order. Widths are in units of ``hidden_size``: a cache field of width ``w`` has
shape ``(n_steps, batch, w * hidden_size)``, a workspace ``(batch, w * hidden_size)``
(``(n_steps, batch, w * hidden_size)`` for ``backward_seq_work``).

So a new cell adds one :class:`CellSpec` here and its two kernels per backend; the
layer that runs them (:mod:`tsrnn.layers.recurrent`) does not change.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CellSpec:
    """What the layer needs to know to allocate for and call one cell's kernels.

    Attributes
    ----------
    kernel : str
        Kernel name stem: the kernels are ``{kernel}_forward`` and ``{kernel}_backward``.
    n_gates : int
        Gate blocks of width ``hidden_size`` in ``W_x``, ``W_h`` and ``b``.
    params : tuple of str
        Parameter names of one direction, in kernel argument order.
    has_cell_state : bool
        Whether the cell carries ``c`` besides ``h`` (the LSTM).
    cache : tuple of (str, int)
        Arrays the forward kernel fills for the backward kernel: name and width.
    forward_work : tuple of int
        Widths of the forward kernel's per-step workspaces.
    backward_seq_work : tuple of int
        Widths of the backward kernel's whole-sequence workspaces (after ``da_seq``
        and ``h_prev_seq``, which every cell has).
    backward_work : tuple of int
        Widths of the backward kernel's per-step workspaces.
    """

    kernel: str
    n_gates: int
    params: tuple = ("W_x", "W_h", "b")
    has_cell_state: bool = False
    cache: tuple = ()
    forward_work: tuple = ()
    backward_seq_work: tuple = ()
    backward_work: tuple = (1,)

    def forward(self, kernels):
        """The forward kernel in the kernel module ``kernels`` (cpu or cuda)."""
        return getattr(kernels, f"{self.kernel}_forward")

    def backward(self, kernels):
        """The backward kernel in the kernel module ``kernels`` (cpu or cuda)."""
        return getattr(kernels, f"{self.kernel}_backward")


CELLS = {
    "rnn": CellSpec("rnn", 1, forward_work=(1,)),
    "lstm": CellSpec(
        "lstm", 4, has_cell_state=True, cache=(("c_seq", 1), ("gates", 4)), forward_work=(4,)
    ),
    # Reset after (PyTorch, Keras' default): hn_seq = W_hn h_{t-1} + b_hn, which r scales.
    "gru": CellSpec(
        "gru",
        3,
        params=("W_x", "W_h", "b", "b_hn"),
        cache=(("gates", 3), ("hn_seq", 1)),
        forward_work=(3,),
        backward_seq_work=(3,),
    ),
    # Reset before (the original GRU): rh_seq = r * h_{t-1}, the candidate's product input.
    "gru_reset_before": CellSpec(
        "gru_reset_before",
        3,
        cache=(("gates", 3), ("rh_seq", 1)),
        forward_work=(2, 1),
        backward_work=(2, 1, 1, 1),
    ),
}


def cell_spec(cell, reset_after=True):
    """The :class:`CellSpec` of ``cell`` ('rnn', 'lstm' or 'gru') and GRU variant."""
    if cell == "gru" and not reset_after:
        return CELLS["gru_reset_before"]
    return CELLS[cell]
