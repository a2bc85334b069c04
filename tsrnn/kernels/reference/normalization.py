"""Reference batch and layer normalisation, in plain NumPy (naive on purpose).

Both act on the last (feature, channel) axis of ``x``; every other axis indexes
rows. ``mask`` (optional, shaped like ``x`` without its last axis) is False on
padded rows.

Batch normalisation, training mode (statistics over the real rows)::

    n        = sum_r m_r
    mean_c   = sum_r m_r x_rc / n
    var_c    = sum_r m_r (x_rc - mean_c)^2 / n
    xhat_rc  = (x_rc - mean_c) / sqrt(var_c + eps)
    y_rc     = gamma_c xhat_rc + beta_c                       (every row, padded too)
    moving_mean     <- momentum moving_mean + (1 - momentum) mean
    moving_variance <- momentum moving_variance + (1 - momentum) var n / (n - 1)

An optional activation follows (``z_rc = act(y_rc)``, the layer's output); backward
then starts from ``dy_rc = dz_rc act'(z_rc)``.

The moving variance takes the unbiased batch variance (Bessel's correction, as
PyTorch's BatchNorm1d and TensorFlow's fused kernel do); with n = 1 the factor
is 1. Inference mode uses ``mean = moving_mean`` and ``var = moving_variance``,
which are then constants.

Backward (training mode) by the chain rule through mean and var::

    dxhat_rc = dy_rc gamma_c
    dvar_c   = sum_r dxhat_rc (x_rc - mean_c) (-1/2) (var_c + eps)^(-3/2)
    dmean_c  = -sum_r dxhat_rc / sqrt(var_c + eps)
               + dvar_c sum_r m_r (-2) (x_rc - mean_c) / n
    dx_rc    = dxhat_rc / sqrt(var_c + eps) + m_r (dvar_c 2 (x_rc - mean_c) + dmean_c) / n
    dgamma_c = sum_r dy_rc xhat_rc,      dbeta_c = sum_r dy_rc

Layer normalisation, per row over its features (the same in training and inference)::

    mean_r = sum_c x_rc / C,   var_r = sum_c (x_rc - mean_r)^2 / C
    y_rc   = gamma_c (x_rc - mean_r) / sqrt(var_r + eps) + beta_c
"""

import numpy as np

from tsrnn.kernels.reference.dense import activation_backward, activation_forward


def _rows(x, mask):
    x2 = x.reshape(-1, x.shape[-1])
    m = np.ones(x2.shape[0], dtype=bool) if mask is None else np.asarray(mask).reshape(-1)
    return x2, m.astype(np.float64)


def batch_norm_forward(
    x,
    gamma,
    beta,
    moving_mean,
    moving_variance,
    *,
    training,
    momentum=0.99,
    epsilon=1e-3,
    mask=None,
    activation="linear",
):
    """Returns ``(act(y), new_moving_mean, new_moving_variance, cache)``."""
    x2, m = _rows(x, mask)
    if training:
        n = m.sum()
        mean = (m[:, None] * x2).sum(axis=0) / n
        var = (m[:, None] * (x2 - mean) ** 2).sum(axis=0) / n
        unbiased = var * n / max(n - 1.0, 1.0)
        new_mean = momentum * moving_mean + (1.0 - momentum) * mean
        new_var = momentum * moving_variance + (1.0 - momentum) * unbiased
    else:
        mean, var = moving_mean, moving_variance
        new_mean, new_var = moving_mean, moving_variance
    xhat = (x2 - mean) / np.sqrt(var + epsilon)
    y = activation_forward(gamma * xhat + beta, activation)
    cache = dict(
        y=y,
        activation=activation,
        x2=x2,
        m=m,
        mean=mean,
        var=var,
        xhat=xhat,
        gamma=gamma,
        epsilon=epsilon,
        training=training,
        shape=x.shape,
    )
    return y.reshape(x.shape), new_mean, new_var, cache


def batch_norm_backward(cache, dy):
    """``dict(x=dL/dx, gamma=dL/dgamma, beta=dL/dbeta)``."""
    x2, m, mean, var = cache["x2"], cache["m"], cache["mean"], cache["var"]
    dy2 = activation_backward(cache["y"], dy.reshape(x2.shape), cache["activation"])
    dxhat = dy2 * cache["gamma"]
    std = np.sqrt(var + cache["epsilon"])
    dx = dxhat / std
    if cache["training"]:
        n = m.sum()
        dvar = (dxhat * (x2 - mean) * -0.5 * (var + cache["epsilon"]) ** -1.5).sum(axis=0)
        dmean = (
            -(dxhat / std).sum(axis=0) + dvar * (m[:, None] * -2.0 * (x2 - mean)).sum(axis=0) / n
        )
        dx = dx + m[:, None] * (dvar * 2.0 * (x2 - mean) + dmean) / n
    return dict(
        x=dx.reshape(cache["shape"]), gamma=(dy2 * cache["xhat"]).sum(axis=0), beta=dy2.sum(axis=0)
    )


def layer_norm_forward(x, gamma, beta, epsilon=1e-3):
    """Returns ``(y, cache)``."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + epsilon)
    return gamma * xhat + beta, dict(
        x=x, mean=mean, var=var, xhat=xhat, gamma=gamma, epsilon=epsilon
    )


def layer_norm_backward(cache, dy):
    """``dict(x=dL/dx, gamma=dL/dgamma, beta=dL/dbeta)``."""
    x, mean, var, eps = cache["x"], cache["mean"], cache["var"], cache["epsilon"]
    n = x.shape[-1]
    dxhat = dy * cache["gamma"]
    std = np.sqrt(var + eps)
    dvar = (dxhat * (x - mean) * -0.5 * (var + eps) ** -1.5).sum(axis=-1, keepdims=True)
    dmean = (
        -(dxhat / std).sum(axis=-1, keepdims=True)
        + dvar * (-2.0 * (x - mean)).sum(axis=-1, keepdims=True) / n
    )
    dx = dxhat / std + (dvar * 2.0 * (x - mean) + dmean) / n
    rows = dy.reshape(-1, n)
    return dict(
        x=dx, gamma=(rows * cache["xhat"].reshape(-1, n)).sum(axis=0), beta=rows.sum(axis=0)
    )
