"""Conv1D, pooling, dense and dropout: Numba kernels vs the NumPy reference, and
central finite differences of the reference (float64)."""

import numpy as np
import pytest

from tests.helpers import numeric_gradient, rel_err
from tsrnn.kernels.reference import conv as ref_conv
from tsrnn.kernels.reference import dense as ref_dense
from tsrnn.layers import (
    AveragePooling1D,
    Conv1D,
    Dense,
    Dropout,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from tsrnn.layers.base import Context


def run_layer(layer, x, dy_seed=1, mask=None, training=False, rng=None):
    """Build ``layer`` for x's shape, draw random parameters, run forward and backward."""
    layer.build(x.shape[1:], x.dtype)
    rng_p = np.random.default_rng(0)
    params = {name: 0.5 * rng_p.standard_normal(shape) for name, shape in layer.param_specs()}
    grads = {name: np.zeros(shape) for name, shape in layer.param_specs()}
    y, cache = layer.forward(params, x, Context(training=training, rng=rng, mask=mask))
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape)
    dx = layer.backward(params, cache, dy, grads)
    return params, y, dy, dx, grads


def assert_gradients_match_fd(loss, analytic, arrays):
    for name, array in arrays.items():
        err = rel_err(analytic[name], numeric_gradient(loss, array))
        assert err <= 1e-6, f"d{name}: relative error {err:.2e}"


CONV_CASES = [
    # (padding, stride, dilation, kernel, activation)
    ("valid", 1, 1, 3, "relu"),
    ("valid", 2, 1, 3, "linear"),
    ("valid", 1, 3, 2, "tanh"),
    ("same", 1, 1, 4, "sigmoid"),
    ("same", 2, 1, 3, "relu"),
    ("same", 1, 2, 3, "linear"),
    ("causal", 1, 1, 3, "tanh"),
    ("causal", 1, 2, 2, "relu"),
    ("causal", 3, 1, 2, "linear"),
    ("valid", 1, 1, 1, "linear"),
]


@pytest.mark.parametrize(("padding", "stride", "dilation", "kernel", "activation"), CONV_CASES)
def test_conv1d_matches_reference(padding, stride, dilation, kernel, activation):
    x = np.random.default_rng(3).standard_normal((3, 11, 2))
    layer = Conv1D(
        4, kernel, strides=stride, dilation_rate=dilation, padding=padding, activation=activation
    )
    params, y, dy, dx, grads = run_layer(layer, x)
    ry, cache = ref_conv.conv1d_forward(
        x, params["W"], params["b"], stride, dilation, padding, activation
    )
    rg = ref_conv.conv1d_backward(cache, dy)
    assert y.shape == ry.shape == (3,) + layer.output_shape
    assert rel_err(y, ry) <= 1e-10
    assert rel_err(dx, rg["x"]) <= 1e-10
    assert rel_err(grads["W"], rg["W"]) <= 1e-10
    assert rel_err(grads["b"], rg["b"]) <= 1e-10


@pytest.mark.parametrize(
    ("padding", "stride", "dilation", "kernel", "activation"),
    [c for c in CONV_CASES if c[4] != "relu"],
)
def test_conv1d_reference_gradients(padding, stride, dilation, kernel, activation):
    rng = np.random.default_rng(4)
    x, W, b = (
        rng.standard_normal((2, 7, 2)),
        rng.standard_normal((kernel, 2, 3)),
        rng.standard_normal(3),
    )
    dy = rng.standard_normal(ref_conv.conv1d_forward(x, W, b, stride, dilation, padding)[0].shape)

    def loss():
        return np.sum(
            ref_conv.conv1d_forward(x, W, b, stride, dilation, padding, activation)[0] * dy
        )

    _, cache = ref_conv.conv1d_forward(x, W, b, stride, dilation, padding, activation)
    assert_gradients_match_fd(loss, ref_conv.conv1d_backward(cache, dy), {"x": x, "W": W, "b": b})


def test_causal_conv_output_depends_only_on_the_past():
    x = np.random.default_rng(0).standard_normal((1, 10, 2))
    layer = Conv1D(3, 3, dilation_rate=2, padding="causal", activation="linear")
    params, y, *_ = run_layer(layer, x)
    x2 = x.copy()
    x2[0, 6:] += 10.0
    y2, _ = layer.forward(params, x2, Context())
    np.testing.assert_array_equal(y2[0, :6], y[0, :6])
    assert not np.allclose(y2[0, 6:], y[0, 6:])


@pytest.mark.parametrize(("pool", "stride"), [(2, None), (3, 1), (3, 2), (1, 1), (4, 4)])
def test_pooling_matches_reference(pool, stride):
    x = np.random.default_rng(5).standard_normal((2, 9, 3))
    x[0, 2, 1] = x[0, 3, 1]  # a tie: the gradient goes to the first maximum
    s = pool if stride is None else stride
    for layer, fwd, bwd in (
        (MaxPooling1D(pool, stride), ref_conv.max_pool_forward, ref_conv.max_pool_backward),
        (
            AveragePooling1D(pool, stride),
            ref_conv.average_pool_forward,
            ref_conv.average_pool_backward,
        ),
    ):
        _, y, dy, dx, _ = run_layer(layer, x)
        ry, cache = fwd(x, pool, s)
        assert rel_err(y, ry) <= 1e-12 and rel_err(dx, bwd(cache, dy)) <= 1e-12


MAX_POOL_PADDED = [
    (3, 1, "same"),
    (2, 1, "same"),
    (4, 1, "same"),
    (3, 2, "same"),
    (5, 3, "same"),
    (3, 1, "causal"),
    (2, 2, "causal"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("pool", "stride", "padding"), MAX_POOL_PADDED)
def test_padded_max_pooling_matches_reference(pool, stride, padding, dtype):
    x = np.random.default_rng(5).standard_normal((2, 9, 3)).astype(dtype)
    x[0, 2, 1] = x[0, 3, 1]  # a tie: the gradient goes to the first maximum
    x[1, 0, 0] = x[1, 8, 2] = -1e30  # an edge minimum still beats the -inf padding
    layer = MaxPooling1D(pool, stride, padding=padding)
    _, y, dy, dx, _ = run_layer(layer, x)
    ry, cache = ref_conv.max_pool_forward(x, pool, stride, padding)
    assert y.dtype == dtype and y.shape == (2, -(-9 // stride), 3)
    np.testing.assert_array_equal(y, ry)
    assert rel_err(dx, ref_conv.max_pool_backward(cache, dy.astype(dtype))) <= 1e-6


def test_same_max_pooling_with_an_even_pool_pads_right_like_keras():
    # Keras (TensorFlow) puts the odd padding step on the right: output t covers
    # steps t .. t + 1 for pool_size 2 and t - 1 .. t + 2 for pool_size 4.
    x = np.arange(6.0)[None, :, None]
    for pool, rising, falling in (
        (2, [1, 2, 3, 4, 5, 5], [0, -1, -2, -3, -4, -5]),
        (4, [2, 3, 4, 5, 5, 5], [0, 0, -1, -2, -3, -4]),
    ):
        for sign, expected in ((1, rising), (-1, falling)):
            _, y, *_ = run_layer(MaxPooling1D(pool, 1, padding="same"), sign * x)
            np.testing.assert_array_equal(y[0, :, 0], expected)


def test_causal_max_pooling_is_exact_on_padded_batches():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 3))
    mask = np.arange(8)[None, :] < np.array([8, 5])[:, None]
    layer = MaxPooling1D(3, 1, padding="causal")
    _, y, dy, dx, _ = run_layer(layer, x, mask=mask)
    _, y_short, _, dx_short, _ = run_layer(MaxPooling1D(3, 1, padding="causal"), x[1:, :5])
    np.testing.assert_array_equal(y[1, :5], y_short[0])
    layer = MaxPooling1D(3, 1, padding="same")
    layer.build(x.shape[1:], x.dtype)
    with pytest.raises(ValueError, match="mask"):
        layer.forward({}, x, Context(mask=mask))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pooling_propagates_nan_like_argmax(dtype):
    # NaN wins its window wherever it sits (numpy's argmax and PyTorch's rule), and the
    # gradient goes to the first NaN.
    x = np.random.default_rng(6).standard_normal((2, 8, 5)).astype(dtype)
    x[0, 1, 2] = x[1, 4, 0] = x[1, 5, 0] = x[0, 6, 4] = np.nan
    layer = MaxPooling1D(2)
    layer.build(x.shape[1:], dtype)
    y, cache = layer.forward({}, x, Context())
    ry, rcache = ref_conv.max_pool_forward(x, 2, 2)
    np.testing.assert_array_equal(y, ry)  # NaN positions included
    assert np.isnan(y[0, 0, 2]) and np.isnan(y[1, 2, 0]) and np.isnan(y[0, 3, 4])
    dy = np.ones_like(y)
    np.testing.assert_array_equal(
        layer.backward({}, cache, dy, {}), ref_conv.max_pool_backward(rcache, dy)
    )


@pytest.mark.parametrize("use_mask", [False, True])
def test_global_pooling_matches_reference_with_masks(use_mask):
    x = np.random.default_rng(6).standard_normal((4, 7, 3))
    mask = np.arange(7)[None, :] < np.array([7, 3, 1, 5])[:, None] if use_mask else None
    for layer, fwd, bwd in (
        (
            GlobalAveragePooling1D(),
            ref_conv.global_average_pool_forward,
            ref_conv.global_average_pool_backward,
        ),
        (
            GlobalMaxPooling1D(),
            ref_conv.global_max_pool_forward,
            ref_conv.global_max_pool_backward,
        ),
    ):
        _, y, dy, dx, _ = run_layer(layer, x, mask=mask)
        ry, cache = fwd(x, mask)
        assert rel_err(y, ry) <= 1e-12 and rel_err(dx, bwd(cache, dy)) <= 1e-12
        if use_mask:
            assert np.all(dx[1, 3:] == 0) and np.all(dx[2, 1:] == 0)  # padding: no gradient


def test_pooling_reference_gradients():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 8, 2))
    mask = np.arange(8)[None, :] < np.array([8, 5])[:, None]
    cases = [
        (lambda: ref_conv.max_pool_forward(x, 2, 2), ref_conv.max_pool_backward),
        (lambda: ref_conv.max_pool_forward(x, 3, 1, "same"), ref_conv.max_pool_backward),
        (lambda: ref_conv.max_pool_forward(x, 4, 1, "same"), ref_conv.max_pool_backward),
        (lambda: ref_conv.max_pool_forward(x, 3, 2, "causal"), ref_conv.max_pool_backward),
        (lambda: ref_conv.average_pool_forward(x, 3, 2), ref_conv.average_pool_backward),
        (
            lambda: ref_conv.global_average_pool_forward(x, mask),
            ref_conv.global_average_pool_backward,
        ),
        (lambda: ref_conv.global_max_pool_forward(x, mask), ref_conv.global_max_pool_backward),
    ]
    for fwd, bwd in cases:
        y, cache = fwd()
        dy = rng.standard_normal(y.shape)
        analytic = {"x": bwd(cache, dy)}
        assert_gradients_match_fd(lambda fwd=fwd, dy=dy: np.sum(fwd()[0] * dy), analytic, {"x": x})


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 6, 4)], ids=["vectors", "per-step"])
def test_dense_matches_reference_and_finite_differences(activation, shape):
    x = np.random.default_rng(8).standard_normal(shape)
    layer = Dense(3, activation=activation)
    params, y, dy, dx, grads = run_layer(layer, x)
    ry, cache = ref_dense.dense_forward(x, params["W"], params["b"], activation)
    rg = ref_dense.dense_backward(cache, dy)
    assert y.shape == shape[:-1] + (3,)
    for a, b in ((y, ry), (dx, rg["x"]), (grads["W"], rg["W"]), (grads["b"], rg["b"])):
        assert rel_err(a, b) <= 1e-10
    if activation != "relu":
        W, b = params["W"], params["b"]
        loss = lambda: np.sum(ref_dense.dense_forward(x, W, b, activation)[0] * dy)  # noqa: E731
        assert_gradients_match_fd(loss, rg, {"x": x, "W": W, "b": b})


def test_dropout_training_and_inference():
    x = np.random.default_rng(9).standard_normal((200, 50))
    layer = Dropout(0.3)
    _, y, dy, dx, _ = run_layer(layer, x, training=True, rng=np.random.default_rng(1))
    keep = y != 0
    assert abs(keep.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y, ref_dense.dropout_forward(x, keep, 0.3), rtol=1e-15)
    np.testing.assert_allclose(dx, ref_dense.dropout_backward(keep, 0.3, dy), rtol=1e-15)
    y_inf, _ = layer.forward({}, x, Context(training=False))
    np.testing.assert_array_equal(y_inf, x)
