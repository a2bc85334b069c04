"""The architecture presets and the estimators' ``architecture`` parameter."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

import tsrnn
from tests.helpers import assert_bit_identical
from tsrnn import (
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    GlobalAveragePooling1D,
    Parallel,
    Residual,
    SequenceClassifier,
    SequenceRegressor,
    architectures,
)
from tsrnn._threads import single_blas_thread

SMALL = dict(n_ensemble=1, conv_filters=4, hidden_size=3, max_epochs=2, random_state=0)


def _classification(n=24, n_steps=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_steps, 2))
    y = np.where(X[:, :, 0].mean(axis=1) > 0, "up", "down")
    return X, y


def _layer_names(layers):
    out = []
    for layer in layers:
        out.append(type(layer).__name__)
        if isinstance(layer, Parallel):
            out.append([_layer_names(b) for b in layer.branches])
        if isinstance(layer, Residual):
            out.append((_layer_names(layer.layers), _layer_names(layer.shortcut or [])))
    return out


def test_fcn_is_wang_et_al_with_the_configured_width():
    layers = architectures.fcn(3, equal_length=True)
    convs = [la for la in layers if isinstance(la, Conv1D)]
    w = architectures.FCN_WIDTH
    assert [(c.filters, c.kernel_size, c.padding) for c in convs] == [
        (w, 8, "same"),
        (2 * w, 5, "same"),
        (w, 3, "same"),
    ]
    assert _layer_names(layers) == ["Conv1D", "BatchNormalization"] * 3 + [
        "GlobalAveragePooling1D",
        "Dense",
    ]
    assert layers[-1].units == 3 and all(c.activation == "linear" for c in convs)
    # Each block's ReLU is its batch normalization's (one pass less than an Activation).
    norms = [la for la in layers if isinstance(la, BatchNormalization)]
    assert [n.activation for n in norms] == ["relu"] * 3
    # Moving statistics that keep up with a few updates per epoch (see conv_block).
    assert {la.momentum for la in layers if isinstance(la, BatchNormalization)} == {0.9}
    assert [c.filters for c in architectures.fcn(1, True, width=128) if isinstance(c, Conv1D)] == [
        128,
        256,
        128,
    ]


def test_resnet_blocks_have_three_convs_and_a_projection_shortcut():
    layers = architectures.resnet(2, equal_length=True, width=64)
    blocks = [la for la in layers if isinstance(la, Residual)]
    assert len(blocks) == 3
    for block, filters in zip(blocks, (64, 128, 128), strict=True):
        convs = [la for la in block.layers if isinstance(la, Conv1D)]
        assert [(c.filters, c.kernel_size) for c in convs] == [(filters, k) for k in (8, 5, 3)]
        assert _layer_names(block.shortcut) == ["Conv1D", "BatchNormalization"]
        assert block.shortcut[0].kernel_size == 1 and block.shortcut[1].activation == "linear"
        norms = [la for la in block.layers if isinstance(la, BatchNormalization)]
        assert _layer_names(block.layers) == ["Conv1D", "BatchNormalization"] * 3
        # The block's last ReLU comes after the addition.
        assert [n.activation for n in norms] == ["relu", "relu", "linear"]
    assert [type(la) for la in layers[-2:]] == [GlobalAveragePooling1D, Dense]
    assert all(
        isinstance(layers[i + 1], Activation) for i, la in enumerate(layers) if la in blocks
    )


def _inception_module_shape(module):
    """(bottleneck filters or None, [(filters, kernel)] of the three, pooled branch)."""
    parallel, norm = module
    main, pooled = parallel.branches
    bottleneck = main[0].filters if len(main) == 2 else None
    convs = [(b[0].filters, b[0].kernel_size, b[0].padding) for b in main[-1].branches]
    pool, conv = pooled
    assert (type(norm), norm.activation) == (BatchNormalization, "relu")
    return bottleneck, convs, (pool.pool_size, pool.strides, pool.padding, conv.kernel_size)


def test_inception_time_is_ismail_fawaz_et_al_with_odd_kernels():
    layers = architectures.inception_time(5, equal_length=True)
    blocks = [la for la in layers if isinstance(la, Residual)]
    assert len(blocks) == 2 and len(layers) == 6  # (Residual, ReLU) x 2, GAP, Dense
    modules = [block.layers[i : i + 2] for block in blocks for i in (0, 2, 4)]
    shapes = [_inception_module_shape(m) for m in modules]
    convs = [(32, k, "same") for k in (39, 19, 9)]
    assert shapes[0] == (None, convs, (3, 1, "same", 1))  # the input is convolved directly
    assert shapes[1:] == [(32, convs, (3, 1, "same", 1))] * 5
    for block in blocks:
        assert _layer_names(block.shortcut) == ["Conv1D", "BatchNormalization"]
        assert (block.shortcut[0].filters, block.shortcut[0].kernel_size) == (128, 1)
    assert [type(la) for la in layers[-2:]] == [GlobalAveragePooling1D, Dense]
    assert layers[-1].units == 5
    net = tsrnn.Network(layers).build((50, 1), 0)
    assert net.layers[0].output_shape == (50, 128)  # 4 branches x 32 channels


def test_inception_time_width_and_depth():
    layers = architectures.inception_time(2, True, width=8, depth=4)
    assert isinstance(layers[0], Residual) and layers[0].shortcut[0].filters == 32
    assert len(layers) == 2 + 2 + 2  # one residual block, one module left over, head
    net = tsrnn.Network(layers).build((20, 3), 0)
    assert net.output_shape == (2,)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_lstm_fcn_pairs_an_fcn_with_a_recurrent_branch(cell):
    (parallel, head) = architectures.lstm_fcn(4, True, cell=cell, hidden_size=8)
    fcn, recurrent = parallel.branches
    assert _layer_names(fcn) == _layer_names(architectures.fcn_body(True))
    assert recurrent[0].cell == cell and recurrent[0].hidden_size == 8
    assert recurrent[1].rate == 0.8  # Karim et al.'s dropout on the recurrent output
    assert head.units == 4


def test_variable_length_presets_use_causal_padding():
    builds = (
        architectures.fcn,
        architectures.resnet,
        architectures.lstm_fcn,
        architectures.inception_time,
    )
    for build in builds:
        text = repr(tsrnn.Network(build(2, equal_length=False)))
        assert "padding='causal'" in text and "padding='same'" not in text


@pytest.mark.parametrize("architecture", ["fcn", "resnet", "lstm-fcn", "inceptiontime"])
def test_presets_train_on_variable_length_sequences_exactly(architecture):
    X, y = _classification()
    ragged = [x[: 8 + i % 8] for i, x in enumerate(X)]
    clf = SequenceClassifier(architecture=architecture, dtype="float64", **SMALL).fit(ragged, y)
    proba = clf.predict_proba(ragged)
    # Padding does not leak: each sequence alone gives its row of the padded batch.
    for i in (0, 5, 7):
        np.testing.assert_allclose(clf.predict_proba([ragged[i]]), proba[i : i + 1], rtol=1e-12)


@pytest.mark.parametrize(
    "build", [architectures.fcn, architectures.resnet, architectures.lstm_fcn]
)
def test_a_training_step_does_not_depend_on_how_far_the_batch_is_padded(build):
    # Batch-normalization statistics, global pooling and their gradients read the
    # real steps only: padding the same batch further (with garbage) changes nothing.
    # With BLAS on one thread, as in training: OpenBLAS' threads split a product by
    # its rows, and the rows' share of each thread depends on how many there are.
    rng = np.random.default_rng(0)
    sequences = [rng.standard_normal((n, 1)) for n in (20, 33, 12, 40)]
    net = tsrnn.Network(build(3, equal_length=False), dtype="float64")
    net.build((None, 1), random_state=0)
    results = []
    for n_steps in (40, 55):
        X = np.full((len(sequences), n_steps, 1), 7.0)
        mask = np.zeros((len(sequences), n_steps), dtype=bool)
        for i, s in enumerate(sequences):
            X[i, : len(s)], mask[i, : len(s)] = s, True
        with single_blas_thread():
            out, caches = net.forward(X, mask, training=True, rng=np.random.default_rng(1))
            results.append((out, net.backward(caches, np.ones_like(out)).flat))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=0, atol=1e-13)


def test_the_classifier_defaults_to_six_narrow_resnets_with_a_plateau_schedule():
    # Chosen on the benchmarks.accuracy panel; the regressor keeps the recurrent network.
    clf, reg = SequenceClassifier().get_params(), SequenceRegressor().get_params()
    assert (clf["architecture"], clf["lr_schedule"], clf["n_ensemble"]) == (
        "resnet",
        "plateau",
        6,
    )
    assert (reg["architecture"], reg["lr_schedule"], reg["n_ensemble"]) == (
        "recurrent",
        "constant",
        1,
    )
    X, y = _classification()
    fitted = SequenceClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert len(fitted.networks_) == 6
    layers = fitted.network_.layers
    assert [type(layer).__name__ for layer in layers][-3:] == [
        "Activation",
        "GlobalAveragePooling1D",
        "Dense",
    ]
    # The residual blocks have 16, 32, 32 filters (their 1x1 shortcuts say so).
    assert [layer.shortcut[0].filters for layer in layers[:-2:2]] == [16, 32, 32]


def test_the_recurrent_preset_is_the_network_the_knobs_describe():
    clf = SequenceClassifier(
        architecture="recurrent",
        n_ensemble=1,
        cell="gru",
        hidden_size=5,
        conv_filters=3,
        pool_size=2,
    )
    X, y = _classification()
    clf.set_params(max_epochs=1, random_state=0).fit(X, y)
    assert repr(clf.network_) == (
        "Network([Conv1D(filters=3, kernel_size=3, strides=1, dilation_rate=1, "
        "padding='causal', activation='relu'), MaxPooling1D(pool_size=2, strides=2, "
        "padding='valid'), "
        "RNN(cell='gru', hidden_size=5, num_layers=1, bidirectional=False, "
        "return_sequences=False, activation='tanh', dropout=0.0, recurrent_dropout=0.0, "
        "reset_after=True, unit_forget_bias=True), "
        "Dense(units=1, activation='linear')], dtype='float32')"
    )


@pytest.mark.parametrize("estimator", [SequenceClassifier, SequenceRegressor])
@pytest.mark.parametrize("architecture", architectures.PRESETS)
def test_model_files_of_every_preset_round_trip_bit_identically(estimator, architecture, tmp_path):
    X, y = _classification()
    if estimator is SequenceRegressor:
        y = X[:, :, 1].sum(axis=1)
    est = estimator(architecture=architecture, **SMALL).fit(X, y)
    path = tmp_path / "model.tsrnn"
    tsrnn.save(est, path)
    loaded = tsrnn.load(path)
    assert loaded.architecture == architecture
    assert repr(loaded.network_) == repr(est.network_)
    np.testing.assert_array_equal(loaded.network_.get_weights(), est.network_.get_weights())
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    # And training continues from the same state.
    loaded.set_params(warm_start=True, max_epochs=1).fit(X, y)
    est.set_params(warm_start=True, max_epochs=1).fit(X, y)
    np.testing.assert_array_equal(loaded.network_.get_weights(), est.network_.get_weights())


def test_models_saved_before_the_parameter_existed_load_as_the_recurrent_preset():
    path = Path(__file__).parent / "modelfile" / "data" / "format1-classifier.tsrnn"
    loaded = tsrnn.load(path)
    assert loaded.architecture == "recurrent"
    X = np.random.default_rng(0).normal(size=(6, 5, 2))
    before = loaded.network_.get_weights()
    loaded.set_params(warm_start=True, max_epochs=1).fit(X, ["a", "b", "c"] * 2)
    assert np.any(loaded.network_.get_weights() != before)  # continued, not refused


def test_seeded_fits_of_a_preset_are_bit_identical():
    X, y = _classification()
    a = SequenceClassifier(architecture="lstm-fcn", **SMALL).fit(X, y)
    b = SequenceClassifier(architecture="lstm-fcn", **SMALL).fit(X, y)
    assert_bit_identical(a, b)


def test_grid_search_over_the_architecture():
    X, y = _classification(n=30)
    search = GridSearchCV(
        SequenceClassifier(**SMALL),
        {"architecture": ["recurrent", "fcn"], "conv_filters": [2, 4]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["architecture"] in ("recurrent", "fcn")
    assert search.best_estimator_.architecture == search.best_params_["architecture"]


def test_grid_search_over_the_inception_time_width():
    X, y = _classification(n=30)
    search = GridSearchCV(
        SequenceClassifier(**SMALL),
        {"architecture": ["fcn", "inceptiontime"], "conv_filters": [2, 3]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    inception = search.cv_results_["param_architecture"] == "inceptiontime"
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"][inception]))
    refit = search.best_estimator_.set_params(architecture="inceptiontime").fit(X, y)
    assert refit.network_.layers[0].shortcut[0].filters == 4 * refit.conv_filters


def test_invalid_architectures_are_refused_with_their_name():
    X, y = _classification()
    with pytest.raises(ValueError, match="'architecture' parameter of SequenceClassifier"):
        SequenceClassifier(architecture="inception").fit(X, y)
    with pytest.raises(ValueError, match="'lstm-fcn' needs a recurrent cell"):
        SequenceClassifier(architecture="lstm-fcn", cell=None).fit(X, y)
    # cell=None is a recurrent-preset setting: the convolutional presets ignore it.
    clf = SequenceClassifier(architecture="fcn", cell=None, **SMALL).fit(X, y)
    assert clf.network_.n_parameters > 0


def test_warm_start_refuses_a_changed_architecture():
    X, y = _classification()
    clf = SequenceClassifier(architecture="fcn", **SMALL).fit(X, y)
    clf.set_params(architecture="resnet", warm_start=True)
    with pytest.raises(ValueError, match="architecture='fcn' -> 'resnet'"):
        clf.fit(X, y)


FAST_CONV = dict(
    architecture="fcn",
    n_ensemble=1,
    conv_filters=4,
    max_epochs=30,
    learning_rate=1e-2,
    dtype="float64",
)


FAST_INCEPTION = dict(FAST_CONV, architecture="inceptiontime", conv_filters=2)


@parametrize_with_checks(
    [
        SequenceRegressor(**FAST_CONV, random_state=0),
        SequenceClassifier(**FAST_CONV, random_state=0),
    ],
    expected_failed_checks=lambda est: est._expected_failed_checks,
)
def test_sklearn_checks_pass_with_a_convolutional_preset(estimator, check):
    check(estimator)


# Six inception modules make these checks five times slower than FCN's (5 minutes on a
# busy 2-core machine).
@pytest.mark.slow
@parametrize_with_checks(
    [
        SequenceRegressor(**FAST_INCEPTION, random_state=0),
        SequenceClassifier(**FAST_INCEPTION, random_state=0),
    ],
    expected_failed_checks=lambda est: est._expected_failed_checks,
)
def test_sklearn_checks_pass_with_inception_time(estimator, check):
    check(estimator)


def test_recurrent_settings_given_to_a_convolutional_preset_are_named_in_a_warning():
    X, y = _classification()
    with pytest.warns(UserWarning, match=r"architecture='resnet' does not read cell, hidden_size"):
        SequenceClassifier(cell="gru", hidden_size=8, max_epochs=1, random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match=r"architecture='lstm-fcn' does not read num_layers;"):
        SequenceClassifier(
            architecture="lstm-fcn", cell="gru", num_layers=2, max_epochs=1, random_state=0
        ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the settings each preset reads warn of nothing
        SequenceClassifier(conv_filters=4, max_epochs=1, random_state=0).fit(X, y)
        SequenceClassifier(
            architecture="recurrent",
            n_ensemble=1,
            cell="gru",
            num_layers=2,
            max_epochs=1,
            random_state=0,
        ).fit(X, y)


def _unfused(layers):
    """``layers``, each BatchNormalization(activation=a) made BatchNormalization, Activation(a)."""
    out = []
    for layer in layers:
        if isinstance(layer, Parallel):
            out.append(Parallel([_unfused(b) for b in layer.branches]))
        elif isinstance(layer, Residual):
            shortcut = None if layer.shortcut is None else _unfused(layer.shortcut)
            out.append(Residual(_unfused(layer.layers), shortcut=shortcut))
        elif isinstance(layer, BatchNormalization) and layer.activation != "linear":
            config = {k: v for k, v in layer.get_config().items() if k != "activation"}
            out += [BatchNormalization(**config), Activation(layer.activation)]
        else:
            out.append(layer)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "preset",
    [
        lambda: architectures.fcn(1, False, width=4),
        lambda: architectures.resnet(1, False, width=4),
        lambda: architectures.lstm_fcn(1, False, width=4, hidden_size=3),
        lambda: architectures.inception_time(1, False, width=2, depth=3),
    ],
)
def test_the_presets_fused_activations_train_to_the_bits_of_separate_layers(preset, dtype):
    from tsrnn.losses import get_loss
    from tsrnn.training import Adam, train_step

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 30, 2))
    y = X[:, -3:, 0].sum(axis=1, keepdims=True)
    mask = np.ones((6, 30), bool)
    mask[2, 20:] = False
    fused = preset()
    activations = [str(_layer_names(la)).count("Activation") for la in (fused, _unfused(preset()))]
    assert activations[1] > activations[0]  # the comparison has fused layers to undo
    weights = []
    for layers in (fused, _unfused(preset())):
        net = tsrnn.Network(layers, dtype=dtype).build((30, 2), random_state=1)
        Xc, m = net.check_input(X, mask)
        opt, loss = Adam(learning_rate=0.01), get_loss("mse")
        drop = np.random.default_rng(2)
        for _ in range(3):
            train_step(net, opt, loss, Xc, y.astype(dtype), m, rng=drop)
        weights.append((net.params.flat.copy(), net.predict(Xc, m)))
    np.testing.assert_array_equal(weights[0][0], weights[1][0])
    np.testing.assert_array_equal(weights[0][1], weights[1][1])
