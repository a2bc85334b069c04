"""Careless use of the sequence estimators: changed architectures on warm starts, input
of the wrong type, labels that do not match, and instance order of labelled input."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.streaming import Batches

FAST = dict(hidden_size=3, max_epochs=2, random_state=0)


def _data(n=40, steps=8, features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, steps, features))
    return X, X[:, -2:, 0].sum(axis=1)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (dict(hidden_size=64, cell="gru"), "cell='lstm' -> 'gru', hidden_size=3 -> 64"),
        (dict(num_layers=2), "num_layers=1 -> 2"),
        (dict(bidirectional=True), "bidirectional=False -> True"),
        (dict(conv_filters=4), "conv_filters=0 -> 4"),
        (dict(dropout=0.5), "dropout=0.0 -> 0.5"),
        (dict(dtype="float64"), "dtype='float32' -> 'float64'"),
    ],
)
def test_warm_start_with_a_changed_architecture_is_refused(change, named):
    X, y = _data()
    reg = SequenceRegressor(**FAST).fit(X, y)
    before = reg.network_.get_weights()
    with pytest.raises(
        ValueError,
        match="these parameters changed since it was built: " + named.replace("(", r"\("),
    ):
        reg.set_params(warm_start=True, **change).fit(X, y)
    with pytest.raises(ValueError, match="changed since it was built"):
        reg.partial_fit(X, y)
    np.testing.assert_array_equal(reg.network_.get_weights(), before)
    # Without warm_start the new architecture is simply built.
    reg.set_params(warm_start=False).fit(X, y)
    # A warm start that keeps the architecture continues (max_epochs may change).
    reg.set_params(warm_start=True, max_epochs=1).fit(X, y)
    assert reg.n_epochs_ == 3


@pytest.mark.parametrize(
    "make_X",
    [lambda X: None, lambda X: {"a": X}, lambda X: (x for x in X), lambda X: {1.0, 2.0}],
    ids=["None", "dict", "generator", "set"],
)
def test_input_that_is_no_collection_of_sequences_is_refused_by_name(make_X):
    X, y = _data()
    with pytest.raises(
        TypeError,
        match=r"X must be a numpy array .* or tsrnn.streaming.Batches"
        r"; got (NoneType|dict|generator|set)",
    ):
        SequenceRegressor(**FAST).fit(make_X(X), y)
    reg = SequenceRegressor(**FAST).fit(X, y)
    with pytest.raises(TypeError, match="X must be a numpy array"):
        reg.predict(make_X(X))


@pytest.mark.parametrize(
    ("make_X", "message"),
    [
        (lambda X: X[..., 0].astype("datetime64[s]"), "got dtype datetime64"),
        (lambda X: X.astype("timedelta64[s]"), "got dtype timedelta64"),
        (lambda X: X[..., 0].astype(str), "got strings"),
        (lambda X: X.astype(str), "got strings"),
        (lambda X: X[..., 0].astype(str).tolist(), "got strings"),
        (lambda X: pd.DataFrame(X[..., 0]).astype("datetime64[s]"), "column 0 of X .* datetime"),
        (
            lambda X: [x[: i + 2].astype(str) for i, x in enumerate(X)],
            "sequence 0 must contain numbers, got strings",
        ),
    ],
    ids=[
        "datetime-2d",
        "timedelta-3d",
        "str-2d",
        "str-3d",
        "str-list",
        "datetime-frame",
        "str-ragged",
    ],
)
def test_dates_durations_and_strings_are_not_made_numeric(make_X, message):
    X, y = _data()
    X = np.round(X * 100)
    with pytest.raises(ValueError, match=message):
        SequenceRegressor(**FAST).fit(make_X(X), y)


def test_batches_without_targets_are_refused_clearly():
    X, y = _data()
    with pytest.raises(ValueError, match=r"a batch has no targets \(y_batch is None\)"):
        SequenceRegressor(**FAST).fit(Batches([(X, None)]))
    with pytest.raises(ValueError, match="a batch has 40 sequences but no targets"):
        SequenceRegressor(**FAST).fit(Batches([(X, 1.0)]))


def test_class_weight_naming_a_label_not_in_the_data():
    X, y = _data()
    with pytest.raises(
        ValueError,
        match=r"class_weight names labels that are not classes: "
        r"\[5\]; the classes are \[False, True\]",
    ):
        SequenceClassifier(architecture="recurrent", **FAST, class_weight={5: 3.0}).fit(X, y > 0)
    weighted = SequenceClassifier(architecture="recurrent", **FAST, class_weight={True: 3.0}).fit(
        X, y > 0
    )
    assert weighted.predict(X).shape == (40,)


def _issue_frame():
    # Instance "a" comes first but its time stamps are later than "b"'s.
    index = pd.MultiIndex.from_tuples(
        [("a", 10), ("a", 11), ("a", 12), ("b", 0), ("b", 1), ("b", 2)], names=["case", "t"]
    )
    return pd.DataFrame({"x": [1.0, 1, 1, -1, -1, -1]}, index=index)


def test_multiindex_instances_keep_the_order_of_their_first_row():
    df = _issue_frame()
    reg = SequenceRegressor(hidden_size=4, max_epochs=1, random_state=0).fit(df, [100.0, -100.0])
    pred = reg.predict(df)
    assert isinstance(pred, pd.Series) and list(pred.index) == ["a", "b"]
    assert pred.index.name == "case"
    # The first target belongs to "a": same prediction as an array fitted in that order.
    arrays = np.array([[[1.0]] * 3, [[-1.0]] * 3])
    plain = SequenceRegressor(hidden_size=4, max_epochs=1, random_state=0).fit(
        arrays, [100.0, -100.0]
    )
    np.testing.assert_array_equal(pred.to_numpy(), plain.predict(arrays))
    assert reg.predict(df.loc[["a"]])["a"] == pred["a"]
    assert reg.predict(df.iloc[::-1]).to_dict() == {"b": pred["b"], "a": pred["a"]}


def test_targets_indexed_by_instance_are_aligned_by_label():
    df = _issue_frame()
    positional = SequenceRegressor(hidden_size=4, max_epochs=1, random_state=0).fit(
        df, [100.0, -100.0]
    )
    by_label = SequenceRegressor(hidden_size=4, max_epochs=1, random_state=0).fit(
        df, pd.Series([-100.0, 100.0], index=["b", "a"])
    )
    np.testing.assert_array_equal(by_label.predict(df), positional.predict(df))
    with pytest.raises(
        ValueError,
        match=r"1 of X's instances are not in y \(e.g. \['b'\]\), "
        r"1 labels of y are not instances of X \(e.g. \['c'\]",
    ):
        SequenceRegressor(**FAST).fit(df, pd.Series([1.0, 2.0], index=["a", "c"]))
    # A default RangeIndex carries no instance labels: taken by position.
    default = SequenceRegressor(hidden_size=4, max_epochs=1, random_state=0).fit(
        df, pd.Series([100.0, -100.0])
    )
    np.testing.assert_array_equal(default.predict(df), positional.predict(df))
    clf = SequenceClassifier(architecture="recurrent", hidden_size=4, max_epochs=1, random_state=0)
    clf.fit(
        df,
        pd.Series(["down", "up"], index=["b", "a"]),
        sample_weight=pd.Series([1.0, 2.0], index=["b", "a"]),
    )
    labels = clf.predict(df)
    assert isinstance(labels, pd.Series) and list(labels.index) == ["a", "b"]
    assert isinstance(clf.predict_proba(df), np.ndarray)


def test_xarray_and_tabular_targets_are_aligned_by_label():
    X, y = _data()
    samples = [f"s{i}" for i in range(len(X))]
    da = xr.DataArray(X, dims=("sample", "time", "feature"), coords={"sample": samples})
    ref = SequenceRegressor(**FAST).fit(X, y)
    shuffled = np.random.default_rng(1).permutation(len(X))
    y_da = xr.DataArray(y[shuffled], dims="sample", coords={"sample": np.take(samples, shuffled)})
    for target in (y_da, pd.Series(y[shuffled], index=np.take(samples, shuffled))):
        reg = SequenceRegressor(**FAST).fit(da, target)
        np.testing.assert_array_equal(reg.network_.get_weights(), ref.network_.get_weights())
    with pytest.raises(ValueError, match="labels of y do not match the instances of X"):
        SequenceRegressor(**FAST).fit(da, pd.Series(y, index=[f"t{i}" for i in range(len(X))]))
    frame = pd.DataFrame(X[..., 0], index=samples)
    tabular = SequenceRegressor(**FAST).fit(X[..., 0], y)
    reg = SequenceRegressor(**FAST).fit(frame, pd.Series(y[shuffled], index=frame.index[shuffled]))
    np.testing.assert_array_equal(reg.network_.get_weights(), tabular.network_.get_weights())
