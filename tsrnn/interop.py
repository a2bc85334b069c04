"""Weight exchange with PyTorch (torch is imported only inside these functions).

PyTorch's recurrent modules compute ``x W_ih^T + b_ih + h W_hh^T + b_hh`` with the
same gate orders as tsrnn (LSTM i, f, g, o; GRU r, z, n), so the mapping is a
transpose plus a bias split: tsrnn's single bias ``b`` corresponds to
``b_ih + b_hh``, and the reset-after GRU's ``b_hn`` is the candidate block of
``b_hh``. Exported biases put ``b`` in ``bias_ih`` and zeros (or ``b_hn``) in
``bias_hh``; imported ones are summed, which computes the same function.
"""

import numpy as np

from tsrnn.layers.recurrent import Recurrent

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
