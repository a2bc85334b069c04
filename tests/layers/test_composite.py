"""Parallel and Residual containers: gradients against finite differences, masks, one
flat parameter buffer, and model files (including crafted nesting)."""

import json

import numpy as np
import pytest

import tsrnn
from tests.helpers import allow_threads, numeric_gradient, rel_err
from tests.modelfile.craft import members_of, reseal
from tsrnn import (
    GRU,
    LSTM,
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    Dropout,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Network,
    Parallel,
    Residual,
    SequenceRegressor,
)


def inception_like():
    """An InceptionTime-style block: three convolutions and a pooled 1x1 branch."""
    return [
        Parallel(
            [
                [Conv1D(2, 1, padding="causal", activation="linear")],
                [Conv1D(2, 3, padding="causal", activation="linear")],
                [Conv1D(3, 5, padding="causal", activation="linear")],
            ]
        ),
        BatchNormalization(momentum=0.9),
        Activation("relu"),
        GlobalAveragePooling1D(),
        Dense(2),
    ]


def resnet_like():
    main = [
        Conv1D(3, 3, padding="causal", activation="linear"),
        BatchNormalization(),
        Activation("relu"),
        Conv1D(3, 2, padding="causal", activation="linear"),
    ]
    return [
        Residual(
            main,
            shortcut=[Conv1D(3, 1, padding="causal", activation="linear"), BatchNormalization()],
        ),
        Activation("tanh"),
        Residual([Conv1D(3, 3, padding="causal", activation="tanh")]),  # identity shortcut
        GlobalMaxPooling1D(),
        Dense(1),
    ]


def lstm_fcn_like():
    fcn = [
        Conv1D(4, 3, padding="causal", activation="linear"),
        BatchNormalization(),
        Activation("relu"),
        GlobalAveragePooling1D(),
    ]
    return [Parallel([fcn, [LSTM(3), Dropout(0.5)]]), Dense(2)]


def nested():
    inner = Parallel([[GRU(2)], [LSTM(2, bidirectional=True)]])
    return [
        Parallel([[Residual([Conv1D(2, 2, padding="causal")])], [LSTM(2, return_sequences=True)]]),
        Parallel([[inner], [GlobalAveragePooling1D()]]),
        Dense(1),
    ]


NETWORKS = {
    "inception": inception_like,
    "resnet": resnet_like,
    "lstm-fcn": lstm_fcn_like,
    "nested": nested,
}


def _mask(batch, n_steps, seed=0):
    lengths = np.random.default_rng(seed).integers(1, n_steps + 1, size=batch)
    lengths[0] = n_steps
    return np.arange(n_steps)[None, :] < lengths[:, None]


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_gradients_match_finite_differences(name, masked):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 6, 2))
    mask = _mask(4, 6) if masked else None
    net = Network(NETWORKS[name](), dtype="float64").build((6, 2), 1)
    out, caches = net.forward(X, mask, training=True, rng=np.random.default_rng(5))
    dout = rng.standard_normal(out.shape)
    grads = net.backward(caches, dout)

    def loss():
        # The same dropout draw every time: a fresh generator with the same seed.
        y, _ = net.forward(X, mask, training=True, rng=np.random.default_rng(5))
        return float((y * dout).sum())

    flat = net.params.flat
    trainable = np.ones(flat.size, bool)
    for sl in net.non_trainable_slices():
        trainable[sl] = False
    moving = flat.copy()
    numeric = numeric_gradient(loss, flat)
    flat[...] = moving  # batch statistics updated the moving averages during the sweep
    assert rel_err(grads.flat[trainable], numeric[trainable]) <= 1e-6
    assert np.all(grads.flat[~trainable] == 0)


def test_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 5, 2))
    net = Network([Dense(2), *resnet_like()], dtype="float64").build((5, 2), 0)
    out, caches = net.forward(X, training=False)
    dout = rng.standard_normal(out.shape)
    d = dout
    for i in reversed(range(1, len(net.layers))):
        d = net.layers[i].backward(
            net._layer_params[i], caches[i], d, net._views(net.params.zeros_like())[i]
        )
    # d is dL/d(output of the Dense layer): compare with differences of that output
    h = net.layers[0].forward(net._layer_params[0], X, tsrnn.layers.base.Context())[0].copy()

    def loss():
        ctx = tsrnn.layers.base.Context()
        y = h
        for layer, p in zip(net.layers[1:], net._layer_params[1:], strict=True):
            y, _ = layer.forward(p, y, ctx)
        return float((y * dout).sum())

    assert rel_err(d, numeric_gradient(loss, h)) <= 1e-6


def test_parameters_are_views_of_one_flat_buffer():
    net = Network(lstm_fcn_like()).build((6, 2), 0)
    names = list(net.params)
    assert names[0] == "0.parallel.0.0.conv1d.W"
    assert names[6:9] == [f"0.parallel.1.0.lstm.l0.{p}" for p in ("W_x", "W_h", "b")]
    assert names[-2:] == ["1.dense.W", "1.dense.b"]
    container = net.layers[0]
    conv = container.branches[0][0]
    views = container._child_views(net._layer_params[0])[0][0]
    assert np.shares_memory(views["W"], net.params.flat)
    net.params.flat[:] = 0.5
    assert np.all(views["W"] == 0.5) and conv.param_specs()[0][1] == views["W"].shape
    assert net.non_trainable_slices()  # the branch's BatchNormalization statistics


def test_a_branch_that_ends_the_sequence_does_not_end_it_for_its_siblings():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 6, 2))
    mask = _mask(3, 6, seed=4)
    seq = [LSTM(2, return_sequences=True)]
    net = Network([Parallel([[LSTM(2)], [*seq, GlobalAveragePooling1D()]]), Dense(1)])
    net = Network(net.layers, dtype="float64").build((6, 2), 0)
    out = net.predict(X, mask)
    # Each sequence alone, unpadded, gives the same output: the mask reached both branches.
    for i in range(3):
        n = int(mask[i].sum())
        np.testing.assert_allclose(net.predict(X[i : i + 1, :n]), out[i : i + 1], rtol=1e-12)


def test_masks_reach_residual_paths_and_end_after_pooling():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((3, 7, 2))
    mask = _mask(3, 7, seed=2)
    net = Network(resnet_like(), dtype="float64").build((7, 2), 0)
    out = net.predict(X, mask)
    for i in range(3):
        n = int(mask[i].sum())
        np.testing.assert_allclose(net.predict(X[i : i + 1, :n]), out[i : i + 1], rtol=1e-12)


def test_shape_errors_name_the_problem():
    with pytest.raises(ValueError, match="agree in every axis but the last"):
        Network([Parallel([[LSTM(2)], [LSTM(2, return_sequences=True)]])]).build((5, 1))
    with pytest.raises(ValueError, match="same shape to be added"):
        Network([Residual([Conv1D(3, 2, padding="causal")])]).build((5, 1))
    with pytest.raises(ValueError, match="at least one layer"):
        Parallel([[Dense(1)], []])
    with pytest.raises(TypeError, match="must hold layers"):
        Residual([Dense(1), "relu"])


def _saved(net, tmp_path):
    X = np.random.default_rng(0).standard_normal((5, 6, 2))
    y = np.arange(5.0)
    est = SequenceRegressor(hidden_size=2, max_epochs=1, random_state=0).fit(X, y)
    est.network_, est._optimizer = net, est._optimizer.__class__(1e-3)
    path = tmp_path / "model.tsrnn"
    tsrnn.save(est, path)
    return est, path, X


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_model_files_round_trip_bit_identically(name, tmp_path):
    net = Network(NETWORKS[name](), dtype="float32").build((6, 2), 2)
    est, path, X = _saved(net, tmp_path)
    loaded = tsrnn.load(path)
    assert repr(loaded.network_) == repr(net)
    np.testing.assert_array_equal(loaded.network_.get_weights(), net.get_weights())
    np.testing.assert_array_equal(loaded.network_.predict(X), net.predict(X))


def _rewrite_state(path, edit):
    members = members_of(path.read_bytes())
    state = json.loads(members["state.json"])
    edit(state)
    path.write_bytes(reseal(dict(members, **{"state.json": json.dumps(state).encode()})))


def _network_entry(state):
    return {pair[0]: pair for pair in state["attributes"]["__dict__"]}["network_"][1]


def _deep(depth):
    spec = {"class": "Dense", "config": {"__dict__": [["units", 1], ["activation", "linear"]]}}
    for _ in range(depth):
        spec = {"class": "Residual", "config": {"__dict__": [["layers", {"__layers__": [spec]}]]}}
    return spec


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda net: net["__network__"].insert(0, _deep(7)), "nests containers more than"),
        (
            lambda net: net["__network__"][0]["config"]["__dict__"].append(
                ["extra", {"__layers__": []}]
            ),
            "non-empty list of layers",
        ),
        (
            lambda net: net["__network__"][0]["config"]["__dict__"][0].__setitem__(
                1, [{"__layers__": [_deep(0)] * 5000}]
            ),
            "more than 4096 layers",
        ),
        (
            lambda net: net["__network__"][0]["config"]["__dict__"][0].__setitem__(
                1,
                [
                    {
                        "__layers__": [
                            {"class": "Dense", "config": {"__dict__": [["units", 1 << 30]]}}
                        ]
                    }
                ],
            ),
            "out of range",
        ),
        (
            lambda net: net["__network__"][0]["config"]["__dict__"][0].__setitem__(
                1, [{"__layers__": [{"class": "os.system", "config": {"__dict__": []}}]}]
            ),
            "unknown layer",
        ),
        (
            lambda net: net["__network__"][0]["config"]["__dict__"][0].__setitem__(1, [[1, 2]]),
            "layer sequences",
        ),
        (
            lambda net: net["__network__"].__setitem__(
                0,
                {
                    "class": "Conv1D",
                    "config": {"__dict__": [["filters", {"__layers__": [_deep(0)]}]]},
                },
            ),
            "invalid settings",
        ),
    ],
    ids=[
        "too-deep",
        "empty-sequence",
        "too-many",
        "huge-units",
        "unknown-class",
        "not-layers",
        "layers-as-int",
    ],
)
def test_crafted_nesting_is_refused_cleanly(tmp_path, edit, message):
    net = Network(lstm_fcn_like()).build((6, 2), 0)
    _, path, _ = _saved(net, tmp_path)
    _rewrite_state(path, lambda state: edit(_network_entry(state)))
    with pytest.raises(tsrnn.ModelFileError, match=message):
        tsrnn.load(path)


def two_dropout_branches():
    return [Parallel([[LSTM(2), Dropout(0.5)], [GRU(2), Dropout(0.3)]]), Dense(1)]


class Doubled(tsrnn.layers.base.Layer):
    """A layer written outside tsrnn (it could keep state or draw random numbers)."""

    name = "doubled"

    def forward(self, params, x, ctx):
        return 2 * x, None

    def backward(self, params, cache, dy, grads):
        return 2 * dy


def a_layer_of_our_own():
    return [
        Parallel([[Conv1D(2, 3, padding="causal"), Doubled()], [LSTM(2, return_sequences=True)]]),
        GlobalAveragePooling1D(),
        Dense(1),
    ]


SIDE_BY_SIDE = {**NETWORKS, "two-dropout": two_dropout_branches, "own-layer": a_layer_of_our_own}
IN_TURN = {"two-dropout", "own-layer"}


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("name", sorted(SIDE_BY_SIDE))
def test_branches_side_by_side_train_to_the_same_bits(name, masked, monkeypatch):
    """With a core to spare, a container's other branches run in a helper thread; the
    fit must not change by a bit. Branches that both draw dropout masks, and layers
    written outside tsrnn, stay in turn."""
    import tsrnn._threads as threads
    from tsrnn.layers import composite
    from tsrnn.training import Adam, fit

    layers = SIDE_BY_SIDE[name]
    rng = np.random.default_rng(3)
    n_rows = composite.SIDE_BY_SIDE_ROWS  # 16 sequences of 128 steps: just enough
    X = rng.standard_normal((32, n_rows // 16, 2))
    mask = _mask(32, X.shape[1]) if masked else None
    handed_over = []
    queue = threads._queue

    def counting(future, task):
        handed_over.append(queue(future, task))
        return handed_over[-1]

    monkeypatch.setattr(threads, "_queue", counting)
    weights = {}
    y = rng.standard_normal((32, *Network(layers()).build(X.shape[1:]).output_shape))
    for cores in (1, 2):
        allow_threads(monkeypatch, cores)
        handed_over.clear()
        net = Network(layers()).build(X.shape[1:], random_state=0)
        fit(net, X, y, mask=mask, optimizer=Adam(1e-2), epochs=2, batch_size=16, random_state=0)
        weights[cores] = net.get_weights()
        if cores == 1 or name in IN_TURN:
            assert not any(handed_over)
        else:
            assert any(handed_over)
    np.testing.assert_array_equal(weights[2], weights[1])
