"""BatchNormalization, LayerNormalization and Activation: the CPU kernels (through the
layers) against the NumPy reference, and central finite differences of both (float64)."""

import numpy as np
import pytest

from tests.helpers import numeric_gradient, rel_err
from tsrnn.kernels.reference import dense as ref_dense
from tsrnn.kernels.reference import normalization as ref
from tsrnn.layers import Activation, BatchNormalization, LayerNormalization
from tsrnn.layers.base import Context


def _params(layer, seed=0):
    rng = np.random.default_rng(seed)
    params = {name: rng.standard_normal(shape) for name, shape in layer.param_specs()}
    if "moving_variance" in params:
        params["moving_variance"] = 0.5 + rng.random(params["moving_variance"].shape)
    return params


def _run(layer, x, params, mask=None, training=False, dy_seed=1):
    """Forward and backward of ``layer`` (already built) on copies of ``params``."""
    params = {k: v.copy() for k, v in params.items()}
    grads = {name: np.full(shape, np.nan) for name, shape in layer.param_specs()}
    y, cache = layer.forward(params, x, Context(training=training, mask=mask))
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape)
    dx = layer.backward(params, cache, dy, grads)
    return y, dy, dx, grads, params


def _ref_bn(layer, params, x, mask, training):
    gamma = params.get("gamma", np.ones(x.shape[-1]))
    beta = params.get("beta", np.zeros(x.shape[-1]))
    return ref.batch_norm_forward(
        x,
        gamma,
        beta,
        params["moving_mean"],
        params["moving_variance"],
        training=training,
        momentum=layer.momentum,
        epsilon=layer.epsilon,
        mask=mask,
        activation=layer.activation,
    )


MASKS = ["none", "lengths", "holes"]


def _mask(kind, batch, n_steps, rng):
    if kind == "none":
        return None
    if kind == "lengths":
        lengths = rng.integers(1, n_steps + 1, size=batch)
        lengths[0] = n_steps
        return np.arange(n_steps)[None, :] < lengths[:, None]
    mask = rng.random((batch, n_steps)) > 0.3
    mask[:, 0] = True
    return mask


ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("center", "scale"), [(True, True), (False, True), (True, False)])
def test_batch_norm_matches_the_reference(mask_kind, training, center, scale, activation):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6, 3)) * 3 + 1
    mask = _mask(mask_kind, 4, 6, rng)
    layer = BatchNormalization(
        momentum=0.8, epsilon=1e-2, center=center, scale=scale, activation=activation
    )
    layer.build(x.shape[1:], np.float64)
    params = _params(layer)
    y, dy, dx, grads, after = _run(layer, x, params, mask, training)
    y_ref, mean_ref, var_ref, cache = _ref_bn(layer, params, x, mask, training)
    g_ref = ref.batch_norm_backward(cache, dy)
    assert rel_err(y, y_ref) <= 1e-10
    assert rel_err(dx, g_ref["x"]) <= 1e-10
    if scale:
        assert rel_err(grads["gamma"], g_ref["gamma"]) <= 1e-10
    if center:
        assert rel_err(grads["beta"], g_ref["beta"]) <= 1e-10
    assert rel_err(after["moving_mean"], mean_ref) <= 1e-14
    assert rel_err(after["moving_variance"], var_ref) <= 1e-14
    assert (grads["moving_mean"] == 0).all() and (grads["moving_variance"] == 0).all()
    if not training:  # inference leaves the moving statistics as they were
        assert (after["moving_mean"] == params["moving_mean"]).all()


@pytest.mark.parametrize("mask_kind", MASKS)
def test_batch_norm_statistics_ignore_padded_steps(mask_kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 7, 2))
    mask = _mask(mask_kind, 3, 7, rng)
    layer = BatchNormalization(momentum=0.5)
    layer.build(x.shape[1:], np.float64)
    params = _params(layer)
    padded = x.copy()
    if mask is not None:
        padded[~mask] = 1e6  # garbage in the padding must not move the statistics
    y, _, _, _, after = _run(layer, padded, params, mask, training=True)
    real = x.reshape(-1, 2) if mask is None else x[mask]
    mean, var = real.mean(axis=0), real.var(axis=0)
    expected = params["gamma"] * (real - mean) / np.sqrt(var + 1e-3) + params["beta"]
    got = y.reshape(-1, 2) if mask is None else y[mask]
    assert rel_err(got, expected) <= 1e-12
    n = real.shape[0]
    assert rel_err(after["moving_mean"], 0.5 * params["moving_mean"] + 0.5 * mean) <= 1e-14
    unbiased = var * n / (n - 1)
    assert (
        rel_err(after["moving_variance"], 0.5 * params["moving_variance"] + 0.5 * unbiased)
        <= 1e-14
    )


def test_batch_norm_on_vectors_ignores_a_mask_that_ended_upstream():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3))
    layer = BatchNormalization()
    layer.build(x.shape[1:], np.float64)
    params = _params(layer)
    stale = np.ones((5, 9), dtype=bool)
    stale[:, 4:] = False
    y, *_ = _run(layer, x, params, stale, training=True)
    y_ref, *_ = _ref_bn(layer, params, x, None, True)
    assert rel_err(y, y_ref) <= 1e-12


def test_non_finite_batch_statistics_leave_the_moving_statistics_alone():
    x = np.random.default_rng(5).standard_normal((2, 4, 3))
    x[0, 1, 1] = np.nan
    layer = BatchNormalization(momentum=0.5)
    layer.build(x.shape[1:], np.float64)
    params = _params(layer)
    _, _, _, _, after = _run(layer, x, params, training=True)
    np.testing.assert_array_equal(after["moving_mean"], params["moving_mean"])
    np.testing.assert_array_equal(after["moving_variance"], params["moving_variance"])


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
@pytest.mark.parametrize("mask_kind", ["none", "holes"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_finite_differences(mask_kind, training, activation):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 2))
    mask = _mask(mask_kind, 3, 4, rng)
    layer = BatchNormalization(epsilon=1e-2, activation=activation)
    layer.build(x.shape[1:], np.float64)
    params = _params(layer)
    y, dy, dx, grads, _ = _run(layer, x, params, mask, training)

    def cpu_loss():
        p = {k: v.copy() for k, v in params.items()}
        return float((layer.forward(p, x, Context(training=training, mask=mask))[0] * dy).sum())

    def ref_loss():
        return float((_ref_bn(layer, params, x, mask, training)[0] * dy).sum())

    g_ref = ref.batch_norm_backward(_ref_bn(layer, params, x, mask, training)[3], dy)
    for loss, analytic in ((cpu_loss, dict(x=dx, **grads)), (ref_loss, g_ref)):
        for name, array in (("x", x), ("gamma", params["gamma"]), ("beta", params["beta"])):
            err = rel_err(analytic[name], numeric_gradient(loss, array))
            assert err <= 1e-6, f"d{name}: relative error {err:.2e}"


#: (x's shape, mask kind, center, scale, x's dtype if not the layer's, dy's likewise)
FUSED_CASES = [
    ((5, 40, 7), "holes", True, True, None, None),
    ((5, 40, 7), "lengths", False, True, None, None),
    ((5, 40, 7), "none", True, False, None, None),
    ((30, 7), "none", False, False, None, None),  # vectors
    ((5, 40, 7), "holes", True, True, "other", None),  # x in the other dtype
    ((5, 40, 7), "holes", True, True, None, "other"),  # dy in the other dtype
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS[1:])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("case", FUSED_CASES)
def test_a_fused_activation_gives_the_bits_of_an_activation_layer(
    dtype, activation, training, case
):
    """BatchNormalization(activation=a) == BatchNormalization() then Activation(a), exactly."""
    shape, mask_kind, center, scale, x_dtype, dy_dtype = case
    other = np.float64 if dtype == np.float32 else np.float32
    rng = np.random.default_rng(8)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(other if x_dtype else dtype)
    mask = _mask(mask_kind, shape[0], shape[1], rng) if len(shape) == 3 else None
    fused = BatchNormalization(0.9, center=center, scale=scale, activation=activation)
    plain = BatchNormalization(0.9, center=center, scale=scale)
    act = Activation(activation)
    for layer in (fused, plain, act):
        layer.build(shape[1:], dtype)
    params = {k: v.astype(dtype) for k, v in _params(fused).items()}
    dy = rng.standard_normal(shape).astype(other if dy_dtype else dtype)
    ctx = Context(training=training, mask=mask)

    def grads_of(layer):
        return {name: np.full(s, np.nan, dtype) for name, s in layer.param_specs()}

    after, grads = {k: v.copy() for k, v in params.items()}, grads_of(fused)
    y, cache = fused.forward(after, x, ctx)
    dx = fused.backward(after, cache, dy, grads)
    p, g = {k: v.copy() for k, v in params.items()}, grads_of(plain)
    z, z_cache = plain.forward(p, x, ctx)
    y_plain, a_cache = act.forward({}, z, ctx)
    dx_plain = plain.backward(p, z_cache, act.backward({}, a_cache, dy, {}), g)
    assert y.dtype == dtype and dx.dtype == x.dtype and dx.shape == x.shape
    np.testing.assert_array_equal(y, y_plain)
    np.testing.assert_array_equal(dx, dx_plain)
    for name in g:
        np.testing.assert_array_equal(grads[name], g[name], err_msg=name)
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_array_equal(after[name], p[name], err_msg=name)
    assert fused.get_config()["activation"] == activation
    assert "activation" not in plain.get_config()  # files of linear layers as before


def test_batch_norm_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        BatchNormalization(activation="gelu")


@pytest.mark.parametrize("shape", [(4, 6, 5), (7, 3)])
@pytest.mark.parametrize(("center", "scale"), [(True, True), (False, False)])
def test_layer_norm_matches_the_reference_and_finite_differences(shape, center, scale):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape) * 2 - 1
    layer = LayerNormalization(epsilon=1e-2, center=center, scale=scale)
    layer.build(x.shape[1:], np.float64)
    params = _params(layer)
    gamma = params.get("gamma", np.ones(shape[-1]))
    beta = params.get("beta", np.zeros(shape[-1]))
    y, dy, dx, grads, _ = _run(layer, x, params, training=True)
    y_ref, cache = ref.layer_norm_forward(x, gamma, beta, epsilon=1e-2)
    g_ref = ref.layer_norm_backward(cache, dy)
    assert rel_err(y, y_ref) <= 1e-10
    assert rel_err(dx, g_ref["x"]) <= 1e-10
    for name in params:
        assert rel_err(grads[name], g_ref[name]) <= 1e-10

    def cpu_loss():
        return float((layer.forward(params, x, Context())[0] * dy).sum())

    def ref_loss():
        return float((ref.layer_norm_forward(x, gamma, beta, epsilon=1e-2)[0] * dy).sum())

    for loss, analytic in ((cpu_loss, dict(x=dx, **grads)), (ref_loss, g_ref)):
        arrays = {"x": x, "gamma": gamma, "beta": beta} if loss is ref_loss else {"x": x, **params}
        for name, array in arrays.items():
            err = rel_err(analytic[name], numeric_gradient(loss, array))
            assert err <= 1e-6, f"d{name}: relative error {err:.2e}"


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_activation_layer_matches_the_reference(activation):
    x = np.random.default_rng(8).standard_normal((3, 5, 4))
    layer = Activation(activation)
    layer.build(x.shape[1:], np.float64)
    y, dy, dx, _, _ = _run(layer, x, {})
    y_ref = ref_dense.activation_forward(x, activation)
    assert rel_err(y, y_ref) <= 1e-15
    assert rel_err(dx, ref_dense.activation_backward(y_ref, dy, activation)) <= 1e-15

    def loss():
        return float((layer.forward({}, x, Context())[0] * dy).sum())

    if activation != "relu":  # relu's kink makes differences at 0 meaningless
        assert rel_err(dx, numeric_gradient(loss, x)) <= 1e-6


@pytest.mark.parametrize("layer_class", [BatchNormalization, LayerNormalization])
def test_float32_follows_the_float64_reference(layer_class):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8, 20, 6)) * 4 + 3
    layer = layer_class()
    layer.build(x.shape[1:], np.float32)
    params = _params(layer)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    y, dy, dx, grads, _ = _run(layer, x.astype(np.float32), p32, training=True)
    assert y.dtype == dx.dtype == np.float32
    layer64 = layer_class()
    layer64.build(x.shape[1:], np.float64)
    y64, _, dx64, grads64, _ = _run(layer64, x, params, training=True)
    assert rel_err(y, y64) <= 1e-5 and rel_err(dx, dx64) <= 1e-5
    assert rel_err(grads["gamma"], grads64["gamma"]) <= 1e-5


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BatchNormalization(momentum=1.5), "'momentum' parameter of BatchNormalization"),
        (lambda: BatchNormalization(epsilon=0), "'epsilon' parameter of BatchNormalization"),
        (lambda: LayerNormalization(center="yes"), "'center' parameter of LayerNormalization"),
        (lambda: Activation("softmax"), "activation must be one of"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_layers_start_as_the_identity_transform_of_keras():
    layer = BatchNormalization()
    layer.build((None, 3), np.float64)
    assert [name for name, _ in layer.param_specs()] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]
    params = {name: np.full(shape, np.nan) for name, shape in layer.param_specs()}
    layer.init_params(params, None)
    assert [list(v) for v in params.values()] == [[1.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]
    layer = LayerNormalization(center=False)
    layer.build((4,), np.float64)
    assert layer.param_specs() == [("gamma", (4,))]
