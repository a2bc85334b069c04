"""SequenceRegressor and SequenceClassifier: formats, training behaviour, errors,
persistence and reproducibility."""

import io
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone
from threadpoolctl import threadpool_limits

import tsrnn.training.loop as loop
from tests.helpers import weights_digest
from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.estimators import TrainingDivergedWarning, TrainingInterruptedWarning

FAST = dict(hidden_size=8, max_epochs=15, random_state=0)


def _data(n=60, steps=12, features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, steps, features))
    y = X[:, -3:, 0].sum(axis=1) + 0.5 * X[:, 0, min(1, features - 1)]
    return X, y


def _to_multiindex(X, names=("a", "b", "c")):
    n, t, f = X.shape
    index = pd.MultiIndex.from_product(
        [[f"case{i}" for i in range(n)], range(t)], names=["instance", "time"]
    )
    return pd.DataFrame(X.reshape(n * t, f), index=index, columns=list(names))


def _to_xarray(X, names=("a", "b", "c")):
    # Deliberately in another dimension order: names decide, not positions.
    return xr.DataArray(
        X.transpose(2, 0, 1), dims=("feature", "sample", "time"), coords={"feature": list(names)}
    )


def test_numpy_pandas_xarray_give_identical_predictions():
    X, y = _data()
    preds = []
    for X_form in (X, _to_multiindex(X), _to_xarray(X)):
        reg = SequenceRegressor(**FAST).fit(X_form, y)
        preds.append(reg.predict(X_form))
    np.testing.assert_array_equal(preds[0], preds[1])
    np.testing.assert_array_equal(preds[0], preds[2])
    assert list(SequenceRegressor(**FAST).fit(_to_multiindex(X), y).feature_names_in_) == [
        "a",
        "b",
        "c",
    ]


def test_channels_first_layout_and_two_dimensional_input():
    X, y = _data(features=1)
    a = SequenceRegressor(**FAST).fit(X, y).predict(X)
    b = SequenceRegressor(**FAST, data_format="channels_first").fit(X.transpose(0, 2, 1), y)
    np.testing.assert_array_equal(a, b.predict(X.transpose(0, 2, 1)))
    c = SequenceRegressor(**FAST).fit(X[:, :, 0], y)  # 2-D: one univariate sequence per row
    np.testing.assert_array_equal(a, c.predict(X[:, :, 0]))
    assert c.n_features_in_ == 12  # as scikit-learn counts 2-D input


def test_multi_output_regression_and_one_dimensional_target():
    X, y = _data()
    Y = np.column_stack([y, -2 * y])
    reg = SequenceRegressor(**FAST).fit(X, Y)
    assert reg.predict(X).shape == (60, 2) and reg.n_outputs_ == 2
    assert SequenceRegressor(**FAST).fit(X, y).predict(X).shape == (60,)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([3, 7]),
        np.array([False, True]),
        np.array(["a", "b", "c"]),
    ],
    ids=["str", "int", "bool", "three-str"],
)
def test_classifier_label_types(labels):
    X, y = _data(n=90)
    codes = np.digitize(y, np.quantile(y, np.linspace(0, 1, len(labels) + 1)[1:-1]))
    target = labels[codes]
    clf = SequenceClassifier(
        architecture="recurrent", hidden_size=16, max_epochs=60, random_state=0
    ).fit(X, target)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    assert clf.predict(X).dtype == target.dtype
    assert clf.score(X, target) > 0.8
    proba = clf.predict_proba(X)
    assert proba.shape == (90, len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    decision = clf.decision_function(X)
    assert decision.shape == ((90,) if len(labels) == 2 else (90, len(labels)))


def test_class_weight_equals_the_matching_sample_weights():
    X, y = _data(n=80)
    labels = np.where(y > np.quantile(y, 0.8), "rare", "common")
    a = SequenceClassifier(
        architecture="recurrent", **FAST, class_weight={"rare": 4.0, "common": 1.0}
    ).fit(X, labels)
    w = np.where(labels == "rare", 4.0, 1.0)
    b = SequenceClassifier(architecture="recurrent", **FAST).fit(X, labels, sample_weight=w)
    np.testing.assert_array_equal(a.network_.get_weights(), b.network_.get_weights())
    c = SequenceClassifier(architecture="recurrent", **FAST).fit(X, labels)
    assert not np.array_equal(a.network_.get_weights(), c.network_.get_weights())


def test_early_stopping_restores_the_best_validation_epoch():
    X, y = _data(n=120)
    reg = SequenceRegressor(
        hidden_size=16,
        max_epochs=300,
        learning_rate=3e-2,
        patience=5,
        early_stopping=True,
        random_state=0,
    )
    snapshots = []
    original = loop.evaluate

    def spy(network, *args, **kwargs):
        snapshots.append(network.get_weights())
        return original(network, *args, **kwargs)

    loop.evaluate, saved = spy, loop.evaluate
    try:
        reg.fit(X, y)
    finally:
        loop.evaluate = saved
    curve = reg.validation_loss_curve_
    assert reg.n_epochs_ == len(curve) == len(reg.loss_curve_) < 300
    assert len(reg.validation_scores_) == reg.n_epochs_
    best = int(np.argmin(curve))
    assert reg.best_loss_ == curve[best]
    np.testing.assert_array_equal(reg.network_.get_weights(), snapshots[best])


def test_divergence_warns_and_keeps_the_last_good_weights():
    X, y = _data()
    reg = SequenceRegressor(
        hidden_size=8,
        max_epochs=50,
        optimizer="sgd",
        learning_rate=1e8,
        clip_norm=None,
        random_state=0,
    )
    with pytest.warns(TrainingDivergedWarning, match="keeps the last good weights"):
        reg.fit(X * 1e6, y)
    assert np.isfinite(reg.network_.get_weights()).all()
    assert np.isfinite(reg.predict(X)).all()
    assert reg.n_epochs_ == len(reg.loss_curve_) < 50


def test_keyboard_interrupt_leaves_a_fitted_estimator_with_the_best_weights(monkeypatch):
    X, y = _data()
    calls = {"n": 0}
    original = loop.train_step

    def interrupt_on_step_25(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 25:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(loop, "train_step", interrupt_on_step_25)
    reg = SequenceRegressor(**FAST | {"max_epochs": 100})
    with pytest.warns(TrainingInterruptedWarning, match="best weights so far"):
        reg.fit(X, y)
    # 60 samples in batches of 8: 8 steps per epoch, so 3 full epochs ran.
    assert reg.n_epochs_ == 3
    assert np.isfinite(reg.predict(X)).all()
    assert reg.best_loss_ == min(reg.loss_curve_)


@pytest.mark.parametrize(
    ("make_X", "message"),
    [
        (lambda X: X[..., None], r"got a 4-D array"),
        (lambda X: X[:0], "0 samples"),
        (lambda X: np.where(X > 2, np.nan, X), "NaN"),
        (lambda X: np.where(X > 2, np.inf, X), "infinity"),
        (lambda X: X.astype(str).astype(object) + "x", "must contain numbers"),
        (
            lambda X: [x[: i + 1] for i, x in enumerate(X)] + [np.zeros((3, 2))],
            "same number of features",
        ),
    ],
    ids=["rank", "empty", "nan", "inf", "strings", "ragged-features"],
)
def test_bad_X_at_fit(make_X, message):
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        SequenceRegressor(**FAST).fit(make_X(X), y)  # X is validated before y


def test_bad_input_errors():
    X, y = _data()
    reg = SequenceRegressor(**FAST).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 2 features per step, but SequenceRegressor was fitted with 3"
    ):
        reg.predict(X[:, :, :2])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        SequenceRegressor(**FAST).fit(X, np.where(y > 1, np.nan, y))
    with pytest.raises(ValueError, match="X has 60 samples but y has 59"):
        SequenceRegressor(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="y contains only one class: 'a'"):
        SequenceClassifier(architecture="recurrent", **FAST).fit(X, np.full(60, "a"))
    with pytest.raises(ValueError, match="The 'cell' parameter of SequenceRegressor must be"):
        SequenceRegressor(cell="transformer").fit(X, y)
    with pytest.raises(ValueError, match="The 'optimizer' parameter of SequenceClassifier"):
        SequenceClassifier(architecture="recurrent", optimizer="rmsprop").fit(X, y > 0)
    with pytest.raises(ValueError, match="The 'hidden_size' parameter of SequenceRegressor"):
        SequenceRegressor(hidden_size=-4).fit(X, y)
    with pytest.raises(ValueError, match="cell=None needs a convolutional front end"):
        SequenceRegressor(cell=None).fit(X, y)
    with pytest.raises(ValueError, match="feature names"):
        SequenceRegressor(**FAST).fit(_to_multiindex(X), y).predict(
            _to_multiindex(X, names=("x", "b", "c"))
        )
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        SequenceClassifier(architecture="recurrent", **FAST).partial_fit(X, y > 0)


def test_pickle_joblib_and_clone_round_trips():
    X, y = _data()
    clf = SequenceClassifier(architecture="recurrent", **FAST).fit(X, y > 0)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X), expected)
    fresh = clone(clf)
    assert not hasattr(fresh, "network_") and fresh.get_params() == clf.get_params()


def _fit_hash(threads=None):
    X, y = _data(n=50)
    with threadpool_limits(limits=threads):
        reg = SequenceRegressor(
            hidden_size=16, dropout=0.1, recurrent_dropout=0.1, max_epochs=5, random_state=42
        ).fit(X, y)
    return weights_digest(reg)


def test_same_seed_bit_identical_across_threads_and_processes():
    here = _fit_hash()
    assert _fit_hash(threads=1) == here == _fit_hash(threads=2)
    code = "from tests.estimators.test_estimators import _fit_hash; print(_fit_hash())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_partial_fit_and_warm_start_continue_training():
    X, y = _data()
    reg = SequenceRegressor(**FAST)
    losses = [reg.partial_fit(X, y).loss_curve_[-1] for _ in range(6)]
    assert reg.n_epochs_ == 6 and losses[-1] < losses[0]
    clf = SequenceClassifier(architecture="recurrent", **FAST).partial_fit(
        X[:30], y[:30] > 0, classes=[False, True]
    )
    clf.partial_fit(X[30:], y[30:] > 0)
    clf.partial_fit(X[:5], np.ones(5, bool))  # a streaming chunk may hold one class
    np.testing.assert_array_equal(clf.classes_, [False, True])
    warm = SequenceRegressor(**FAST | {"warm_start": True}).fit(X, y)
    first = warm.network_.get_weights()
    warm.fit(X, y)
    assert warm.n_epochs_ == 30 and not np.array_equal(first, warm.network_.get_weights())


def test_verbose_shows_progress_and_quiet_prints_nothing(capsys):
    X, y = _data()
    SequenceRegressor(**FAST).fit(X, y)
    assert capsys.readouterr() == ("", "")
    SequenceRegressor(**FAST | {"verbose": 1}).fit(X, y)
    err = capsys.readouterr().err
    assert "SequenceRegressor" in err and "loss=" in err and "15/15" in err


def test_float32_predictions_do_not_depend_on_batch_composition():
    X, y = _data(n=70)
    reg = SequenceRegressor(**FAST).fit(X, y)
    full = reg.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parts = np.concatenate([reg.predict(X[i : i + 7]) for i in range(0, 70, 7)])
    np.testing.assert_allclose(full, parts, rtol=1e-5, atol=1e-6)


def test_xarray_dataset_and_ragged_lists():
    X, y = _data()
    ds = xr.Dataset({name: (("sample", "time"), X[:, :, i]) for i, name in enumerate("abc")})
    a = SequenceRegressor(**FAST).fit(X, y).predict(X)
    b = SequenceRegressor(**FAST).fit(ds, y)
    np.testing.assert_array_equal(a, b.predict(ds))
    assert list(b.feature_names_in_) == ["a", "b", "c"]
    # A list of 1-D arrays is a list of univariate sequences of any lengths.
    ragged = [X[i, : 4 + i % 8, 0] for i in range(60)]
    reg = SequenceRegressor(**FAST).fit(ragged, y)
    assert reg.n_features_in_ == 1 and reg.predict(ragged[:5]).shape == (5,)
    np.testing.assert_allclose(reg.predict(ragged[:1]), reg.predict(ragged[:5])[:1], rtol=1e-5)
