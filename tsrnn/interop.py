"""Weight exchange with PyTorch and Keras (each imported only inside its functions).

Keras (layer ``get_weights()`` lists)
-------------------------------------
Keras computes ``x @ kernel + h @ recurrent_kernel + bias`` like tsrnn. Its LSTM
gate order (i, f, c, o) is tsrnn's; its GRU order is (z, r, h), reordered here to
(r, z, n). A ``reset_after=True`` GRU has a bias of shape (2, 3H) (input and
recurrent rows): the r and z rows are summed and the recurrent h row becomes
``b_hn``. A ``reset_after=False`` GRU weights h_{t-1} with z
(``h = z h_{t-1} + (1 - z) h~``) where tsrnn's original formulation weights the
candidate, so z's weights and bias are negated (sigma(-a) = 1 - sigma(a)): the
imported layer computes exactly the same function. Stacked and bidirectional
layers use the order of a Keras model's weights: layer by layer, forward then
backward (``Bidirectional``). Conv1D and Dense kernels already share Keras' layout.

PyTorch (state dicts)
---------------------

PyTorch's recurrent modules compute ``x W_ih^T + b_ih + h W_hh^T + b_hh`` with the
same gate orders as tsrnn (LSTM i, f, g, o; GRU r, z, n), so the mapping is a
transpose plus a bias split: tsrnn's single bias ``b`` corresponds to
``b_ih + b_hh``, and the reset-after GRU's ``b_hn`` is the candidate block of
``b_hh``. Exported biases put ``b`` in ``bias_ih`` and zeros (or ``b_hn``) in
``bias_hh``; imported ones are summed, which computes the same function.
"""

import numpy as np

from tsrnn.layers.conv import Conv1D
from tsrnn.layers.dense import Dense
from tsrnn.layers.recurrent import Recurrent
from tsrnn.layers.rnn import RNN

_TORCH_CLASSES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _check_torch_compatible(layer):
    if not isinstance(layer, Recurrent):
        raise TypeError(f"expected a tsrnn.layers.Recurrent, got {type(layer).__name__}")
    if layer.cell == "gru" and not layer.reset_after:
        raise ValueError(
            "PyTorch's GRU is the reset-after formulation; a GRU with reset_after=False "
            "has no PyTorch equivalent"
        )
    if layer.cell == "lstm" and layer.activation != "tanh":
        raise ValueError(
            f"PyTorch's LSTM uses tanh; an LSTM with activation={layer.activation!r} has no "
            "PyTorch equivalent"
        )


def recurrent_to_torch_state_dict(layer, params):
    """Convert a :class:`~tsrnn.layers.Recurrent`'s parameters to a PyTorch state dict.

    The result loads into ``torch.nn.RNN/LSTM/GRU(input_size, hidden_size,
    num_layers, bidirectional=..., batch_first=...)`` with ``load_state_dict``.

    Parameters
    ----------
    layer : Recurrent
    params : mapping of str to ndarray
        The layer's parameters (a :class:`~tsrnn.layers.ParameterBuffer` or dict),
        named as in :meth:`~tsrnn.layers.Recurrent.param_specs`.

    Returns
    -------
    dict of str to torch.Tensor
        ``weight_ih_l{k}[_reverse]``, ``weight_hh_...``, ``bias_ih_...`` and
        ``bias_hh_...`` for every layer and direction.

    Raises
    ------
    TypeError
        If ``layer`` is not a Recurrent.
    ValueError
        If the layer has no PyTorch equivalent: a reset-before GRU, or an LSTM whose
        activation is not tanh.
    """
    import torch

    _check_torch_compatible(layer)
    H = layer.hidden_size
    state = {}
    for lyr in range(layer.num_layers):
        for direction in range(layer.num_directions):
            p = layer.prefix(lyr, direction)
            sfx = p  # PyTorch's suffix is the same: l0, l0_reverse, ...
            bias_hh = np.zeros_like(params[f"{p}.b"])
            if layer.cell == "gru":
                bias_hh[2 * H :] = params[f"{p}.b_hn"]
            state[f"weight_ih_{sfx}"] = np.ascontiguousarray(params[f"{p}.W_x"].T)
            state[f"weight_hh_{sfx}"] = np.ascontiguousarray(params[f"{p}.W_h"].T)
            state[f"bias_ih_{sfx}"] = params[f"{p}.b"].copy()
            state[f"bias_hh_{sfx}"] = bias_hh
    return {k: torch.from_numpy(v) for k, v in state.items()}


def recurrent_from_torch_state_dict(layer, state_dict, params=None):
    """Load a PyTorch ``RNN/LSTM/GRU`` state dict into a tsrnn parameter buffer.

    Parameters
    ----------
    layer : Recurrent
        Must match the torch module's cell, sizes, layers and directions.
    state_dict : mapping of str -> torch.Tensor or ndarray
    params : ParameterBuffer, optional
        Filled in place; a new buffer is made if omitted.

    Returns
    -------
    ParameterBuffer
        ``params``, filled (converted to the layer's dtype).

    Raises
    ------
    TypeError
        If ``layer`` is not a Recurrent.
    ValueError
        If the layer has no PyTorch equivalent: a reset-before GRU, or an LSTM whose
        activation is not tanh.
        Also if a weight's shape does not match the layer.
    KeyError
        If ``state_dict`` lacks an entry the layer needs.
    """
    _check_torch_compatible(layer)
    if params is None:
        params = layer.init_params(0)
    H = layer.hidden_size

    def get(name):
        if name not in state_dict:
            raise KeyError(
                f"state dict has no {name!r}; is it a torch.nn."
                f"{_TORCH_CLASSES[layer.cell]} with the same configuration?"
            )
        value = state_dict[name]
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        return value.astype(layer.dtype)

    for lyr in range(layer.num_layers):
        for direction in range(layer.num_directions):
            p = layer.prefix(lyr, direction)
            W_x, W_h = get(f"weight_ih_{p}").T, get(f"weight_hh_{p}").T
            for name, value in ((f"{p}.W_x", W_x), (f"{p}.W_h", W_h)):
                if value.shape != params[name].shape:
                    raise ValueError(
                        f"{name}: torch weight has shape {value.T.shape}, "
                        f"expected {params[name].shape[::-1]}"
                    )
                params[name][...] = value
            b_ih, b_hh = get(f"bias_ih_{p}"), get(f"bias_hh_{p}")
            if layer.cell == "gru":
                params[f"{p}.b"][...] = b_ih
                params[f"{p}.b"][: 2 * H] += b_hh[: 2 * H]
                params[f"{p}.b_hn"][...] = b_hh[2 * H :]
            else:
                params[f"{p}.b"][...] = b_ih + b_hh
    return params


# --- Conv1D and Dense ----------------------------------------------------------------


def _check_kernel_layer(layer):
    if not isinstance(layer, (Conv1D, Dense)):
        raise TypeError(f"expected Conv1D or Dense, got {type(layer).__name__}")


def layer_to_torch_state_dict(layer, params):
    """A PyTorch state dict for a Conv1D, Dense or RNN layer's parameters.

    Parameters
    ----------
    layer : Conv1D, Dense or RNN
    params : mapping of str to ndarray
        The layer's parameter views (``W`` and ``b``; for RNN, its stack's).

    Returns
    -------
    dict of str to torch.Tensor
        ``{'weight', 'bias'}`` for ``torch.nn.Conv1d`` (weight (filters, channels,
        kernel_size)) or ``torch.nn.Linear`` (weight (units, features)); for an RNN,
        :func:`recurrent_to_torch_state_dict`'s result.

    Raises
    ------
    TypeError
        If ``layer`` is none of these.
    """
    import torch

    if isinstance(layer, RNN):
        return recurrent_to_torch_state_dict(layer.core, params)
    _check_kernel_layer(layer)
    W = params["W"].transpose(2, 1, 0) if isinstance(layer, Conv1D) else params["W"].T
    return {
        "weight": torch.from_numpy(np.ascontiguousarray(W)),
        "bias": torch.from_numpy(params["b"].copy()),
    }


def layer_from_torch_state_dict(layer, state_dict, params):
    """Fill a Conv1D, Dense or RNN layer's parameters from a PyTorch state dict.

    The inverse of :func:`layer_to_torch_state_dict`.

    Parameters
    ----------
    layer : Conv1D, Dense or RNN
    state_dict : mapping of str to torch.Tensor or ndarray
    params : mapping of str to ndarray
        The layer's parameter views, filled in place.

    Returns
    -------
    mapping
        ``params``.

    Raises
    ------
    TypeError
        If ``layer`` is none of these.
    ValueError
        If a weight's shape does not match the layer.
    """
    if isinstance(layer, RNN):
        return recurrent_from_torch_state_dict(layer.core, state_dict, params)
    _check_kernel_layer(layer)
    W = np.asarray(
        state_dict["weight"].detach().cpu().numpy()
        if hasattr(state_dict["weight"], "detach")
        else state_dict["weight"]
    )
    W = W.transpose(2, 1, 0) if isinstance(layer, Conv1D) else W.T
    b = state_dict["bias"]
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else np.asarray(b)
    _assign(params, "W", W)
    _assign(params, "b", b)
    return params


def _assign(params, name, value):
    if value.shape != params[name].shape:
        raise ValueError(f"{name}: got shape {value.shape}, expected {params[name].shape}")
    params[name][...] = value


# --- Keras ----------------------------------------------------------------------------


def _keras_gru_order(H):
    """Column permutation from Keras' (z, r, h) blocks to tsrnn's (r, z, n)."""
    return np.concatenate([np.arange(H, 2 * H), np.arange(0, H), np.arange(2 * H, 3 * H)])


def recurrent_from_keras_weights(layer, weights, params=None):
    """Load Keras ``SimpleRNN``/``LSTM``/``GRU`` weights into a Recurrent's parameters.

    Parameters
    ----------
    layer : Recurrent or RNN
    weights : list of ndarray
        The concatenated ``get_weights()`` of the Keras layers, in model order
        (for a ``Bidirectional`` layer: forward, then backward).
    params : mapping, optional
        Filled in place; a new buffer is made if omitted.

    Returns
    -------
    mapping
        ``params``, filled.

    Raises
    ------
    ValueError
        If the number or shapes of the weights do not match the layer.
    """
    layer = layer.core if isinstance(layer, RNN) else layer
    if params is None:
        params = layer.init_params(0)
    weights = [np.asarray(w) for w in weights]
    expected = 3 * layer.num_layers * layer.num_directions
    if len(weights) != expected:
        raise ValueError(
            f"expected {expected} weight arrays (kernel, recurrent kernel, bias "
            f"per layer and direction), got {len(weights)}"
        )
    H = layer.hidden_size
    it = iter(weights)
    for lyr in range(layer.num_layers):
        for direction in range(layer.num_directions):
            p = layer.prefix(lyr, direction)
            kernel, recurrent, bias = next(it), next(it), next(it)
            if layer.cell == "gru":
                order = _keras_gru_order(H)
                kernel, recurrent = kernel[:, order], recurrent[:, order]
                if layer.reset_after:
                    if bias.shape != (2, 3 * H):
                        raise ValueError(
                            "a reset_after GRU has a (2, 3H) bias; is the Keras GRU's "
                            "reset_after the same as this layer's?"
                        )
                    b_in, b_rec = bias[0][order], bias[1][order]
                    _assign(params, f"{p}.b_hn", b_rec[2 * H :])
                    bias = b_in + np.concatenate([b_rec[: 2 * H], np.zeros(H)])
                else:
                    if bias.ndim != 1:
                        raise ValueError(
                            "a Keras GRU with reset_after=True needs a tsrnn "
                            "layer with reset_after=True"
                        )
                    bias = bias[order].copy()
                    # Keras weights h_{t-1} with z; the original formulation weights h~.
                    for a in (kernel, recurrent):
                        a[:, H : 2 * H] *= -1
                    bias[H : 2 * H] *= -1
            _assign(params, f"{p}.W_x", kernel)
            _assign(params, f"{p}.W_h", recurrent)
            _assign(params, f"{p}.b", bias)
    return params


def recurrent_to_keras_weights(layer, params):
    """The ``set_weights()`` list for the equivalent Keras layer(s).

    The inverse of :func:`recurrent_from_keras_weights`, which gives the order and
    conversions.

    Parameters
    ----------
    layer : Recurrent or RNN
    params : mapping
        The layer's parameters (names as in :meth:`Recurrent.param_specs`).

    Returns
    -------
    list of ndarray
        Kernel, recurrent kernel and bias per layer and direction, in Keras' gate
        order and layout.
    """
    layer = layer.core if isinstance(layer, RNN) else layer
    H = layer.hidden_size
    out = []
    inverse = np.argsort(_keras_gru_order(H))
    for lyr in range(layer.num_layers):
        for direction in range(layer.num_directions):
            p = layer.prefix(lyr, direction)
            kernel, recurrent = params[f"{p}.W_x"].copy(), params[f"{p}.W_h"].copy()
            bias = params[f"{p}.b"].copy()
            if layer.cell == "gru":
                if layer.reset_after:
                    b_rec = np.concatenate([np.zeros(2 * H), params[f"{p}.b_hn"]])
                    bias = np.stack([bias, b_rec])[:, inverse]
                else:
                    for a in (kernel, recurrent):
                        a[:, H : 2 * H] *= -1
                    bias[H : 2 * H] *= -1
                    bias = bias[inverse]
                kernel, recurrent = kernel[:, inverse], recurrent[:, inverse]
            out += [kernel, recurrent, bias.astype(kernel.dtype)]
    return out
