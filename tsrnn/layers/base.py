"""The protocol every network layer follows.

Network layers see batch-major tensors: ``(batch, n_steps, channels)`` for
sequences, ``(batch, features)`` for vectors. Shapes given to :meth:`Layer.build`
exclude the batch axis; a sequence length of None means "any length".

A forward pass receives a :class:`Context` (training flag, random generator for
dropout, the padding mask at the current time resolution) and returns its
output plus a cache; backward receives that cache and dL/dy, writes parameter
gradients into ``grads`` (views of the network's flat gradient buffer) and
returns dL/dx.
"""

from dataclasses import dataclass

import numpy as np

from tsrnn.backend import get_backend
from tsrnn.kernels.scalar import ACTIVATION_CODES


@dataclass
class Context:
    """State that flows through one forward pass.

    ``mask`` is (batch, n_steps) with False on padding, or None when every
    sequence in the batch has the full length.
    """

    training: bool = False
    rng: np.random.Generator | None = None
    mask: np.ndarray | None = None


def check_activation(activation, allowed=("linear", "relu", "tanh", "sigmoid")):
    """Validate an activation name and return it with its kernel code.

    Parameters
    ----------
    activation : str or None
        The activation's name; None means 'linear'.
    allowed : tuple of str, default=('linear', 'relu', 'tanh', 'sigmoid')
        The names this layer accepts.

    Returns
    -------
    name : str
        ``activation``, with None replaced by 'linear'.
    code : int
        Its code in :data:`tsrnn.kernels.scalar.ACTIVATION_CODES`.

    Raises
    ------
    ValueError
        If ``activation`` is not in ``allowed``.
    """
    if activation is None:
        activation = "linear"
    if activation not in allowed:
        raise ValueError(f"activation must be one of {list(allowed)}, got {activation!r}")
    return activation, ACTIVATION_CODES[activation]


class Layer:
    """Base class: a layer without parameters that passes its input through."""

    #: Short name used in parameter names (``"0.conv1d.W"``).
    name = "layer"
    #: Whether a padding mask passes through this layer unchanged.
    supports_mask = False
    #: False for a network's first layer: dL/dx is not needed there, and layers whose
    #: input gradient is costly (Conv1D) skip it and return None from backward.
    needs_input_gradient = True
    #: Where the layer's kernels run ('cpu' or 'cuda'); set by ``Network.to``.
    device = "cpu"

    #: Whether a training forward pass draws from ``ctx.rng`` (dropout). Containers
    #: run two branches at the same time only when at most one of them draws, so the
    #: draws keep their order (and only when all their layers are tsrnn's own).
    draws_random = False
    #: Parameters that hold state rather than weights (BatchNormalization's moving
    #: statistics): their gradient is zero and optimizer updates leave them unchanged.
    non_trainable_params = ()

    @property
    def backend(self):
        """The kernel modules of this layer's device (:mod:`tsrnn.backend`)."""
        return get_backend(self.device)

    def to(self, device):
        """Run this layer's kernels on ``device`` from now on.

        Parameters
        ----------
        device : {'cpu', 'cuda'}

        Returns
        -------
        self
        """
        self.device = device
        return self

    def build(self, input_shape, dtype):
        """Fix shapes and dtype; return the output shape (without the batch axis).

        Parameters
        ----------
        input_shape : tuple
            ``(n_steps, channels)`` for sequences (``n_steps`` may be None) or
            ``(features,)`` for vectors.
        dtype : {numpy.float32, numpy.float64}
            The dtype of the parameters and activations.

        Returns
        -------
        tuple
            The output shape, without the batch axis.

        Raises
        ------
        ValueError
            If the layer cannot take inputs of this shape.
        """
        self.input_shape = tuple(input_shape)
        self.dtype = np.dtype(dtype)
        self.output_shape = self._output_shape(self.input_shape)
        return self.output_shape

    def _output_shape(self, input_shape):
        return input_shape

    def param_specs(self):
        """``[(name, shape), ...]`` of this layer's parameters."""
        return []

    def init_params(self, params, rng):
        """Fill ``params`` with initial values drawn from ``rng``, in place.

        Parameters
        ----------
        params : dict of str to ndarray
            Views of this layer's parameters, named as in :meth:`param_specs`.
        rng : numpy.random.Generator
            The network's generator; layers draw from it in order, so a seed gives
            the same weights every time.
        """

    def forward(self, params, x, ctx):
        """Compute the layer's output for a batch.

        Parameters
        ----------
        params : dict of str to ndarray
            Views of this layer's parameters in the network's flat buffer.
        x : ndarray of shape (batch, n_steps, channels) or (batch, features)
            The input, on this layer's device.
        ctx : Context
            Training flag, random generator and padding mask of this pass; a layer that
            ends the sequence sets ``ctx.mask`` to None.

        Returns
        -------
        y : ndarray
            The output, of shape ``(batch,) + self.output_shape`` (a sequence length
            of None follows the input).
        cache : object
            What :meth:`backward` needs; None when there is nothing to keep.

        Raises
        ------
        ValueError
            If the input does not fit the layer (a mask it cannot take, too few steps).
        """
        return x, None

    def backward(self, params, cache, dy, grads):
        """Back-propagate ``dy`` through the layer.

        Parameters
        ----------
        params : dict of str to ndarray
            Views of this layer's parameters, as given to :meth:`forward`.
        cache : object
            The cache :meth:`forward` returned.
        dy : ndarray
            dL/dy, the shape of the forward output. Read only: never written, since
            other readers may hold it (both paths of a residual block, a weight
            gradient still being computed in a helper thread).
        grads : dict of str to ndarray
            Views of the network's gradient buffer for this layer's parameters,
            overwritten with dL/dparam.

        Returns
        -------
        ndarray or None
            dL/dx, the shape of the forward input; None when
            :attr:`needs_input_gradient` is False and the layer skips it.
        """
        return dy

    def _reject_mask(self, ctx):
        if ctx.mask is not None:
            raise ValueError(
                f"{type(self).__name__} cannot take variable-length sequences: its output "
                "would depend on the padding. Pad to a common length without a mask, or use "
                "recurrent layers, causal convolutions and global pooling."
            )

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({fields})"

    def get_config(self):
        """Constructor arguments (used by repr and by persistence)."""
        return {}
