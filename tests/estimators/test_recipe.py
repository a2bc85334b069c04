"""The training recipe of the sequence estimators: the best weights kept when the
training loss stalls, and learning-rate reduction on a plateau."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from tests.bitwise.record_fits import blas_kernels
from tests.helpers import weights_digest
from tsrnn import SequenceClassifier, SequenceRegressor
from tsrnn.training import ReduceLROnPlateau


def _data(n=60, steps=12, features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, steps, features))
    return X, X[:, -3:, 0].sum(axis=1)


def _sha(est):
    return weights_digest(est)[:16]


def test_a_stall_of_the_training_loss_keeps_the_best_epochs_weights():
    X, y = _data()
    reg = SequenceRegressor(hidden_size=8, max_epochs=200, patience=3, tol=1e-2, random_state=0)
    reg.fit(X, y)
    history = reg._history
    assert history.stopped_early and reg.n_epochs_ < 200
    assert history.best_epoch == reg.n_epochs_ - 1 - 3  # 3 stalled epochs after the best
    assert reg.best_loss_ == reg.loss_curve_[history.best_epoch]
    # The fitted weights are the best epoch's, not the last epoch's.
    np.testing.assert_array_equal(reg.network_.get_weights(), history.best_weights)


def test_early_stopping_runs_are_unchanged():
    # Weights recorded before the best-training-loss change: early_stopping already
    # restored the best validation epoch, so its seeded results must not move.
    X, y = _data()
    common = dict(hidden_size=8, max_epochs=40, early_stopping=True, patience=5, random_state=0)
    reg = SequenceRegressor(**common).fit(X, y)
    clf = SequenceClassifier(architecture="recurrent", n_ensemble=1, **common).fit(
        X, (y > 0).astype(int)
    )
    assert (reg.n_epochs_, reg._history.best_epoch) == (29, 23)
    assert (clf.n_epochs_, clf._history.best_epoch) == (40, 39)
    # The weights' last bits depend on the BLAS kernels that OpenBLAS picks for the
    # processor (tests/bitwise/record_fits.py): digests recorded for the two seen here.
    recorded = {
        "openblas:Haswell": ("0605ba379a6dbc43", "74ad382f94329ec5"),
        "openblas:SkylakeX": ("30d187e728390874", "6b58b87d1b4516a2"),
    }
    expected = recorded.get(blas_kernels())
    if expected is None:
        pytest.skip(f"no digests recorded for the BLAS kernels {blas_kernels()!r}")
    assert _sha(reg) == expected[0]
    assert _sha(clf) == expected[1]


def _replayed_rates(est):
    """The rates a fresh ReduceLROnPlateau gives on the estimator's monitored losses."""
    schedule = ReduceLROnPlateau(
        factor=est.reduce_lr_factor,
        patience=est.reduce_lr_patience,
        min_lr=est.min_learning_rate,
        min_delta=est.tol,
        cooldown=est.reduce_lr_cooldown,
    )
    monitored = est.validation_loss_curve_ or est.loss_curve_
    rates = [est.learning_rate]
    for epoch, loss in enumerate(monitored[:-1]):
        rates.append(schedule(epoch, est.learning_rate, rates[-1], loss))
    return rates


@pytest.mark.parametrize("early_stopping", [False, True])
def test_plateau_schedule_reduces_the_rate_as_keras_does(early_stopping):
    X, y = _data()
    reg = SequenceRegressor(
        hidden_size=8,
        max_epochs=60,
        patience=30,
        tol=1e-2,
        early_stopping=early_stopping,
        lr_schedule="plateau",
        reduce_lr_factor=0.5,
        reduce_lr_patience=3,
        reduce_lr_cooldown=1,
        min_learning_rate=1e-3,
        random_state=0,
    ).fit(X, y)
    rates = reg._history.learning_rates
    assert rates == _replayed_rates(reg)
    assert min(rates) == 1e-3  # reduced down to min_learning_rate: 3e-3 -> 1.5e-3 -> 1e-3
    assert sorted(set(rates)) == [1e-3, 1.5e-3, 3e-3]


def test_constant_schedule_keeps_the_rate():
    X, y = _data()
    reg = SequenceRegressor(hidden_size=8, max_epochs=20, patience=3, tol=1e-2, random_state=0)
    assert set(reg.fit(X, y)._history.learning_rates) == {3e-3}


def test_warm_start_continues_the_plateau_counters():
    X, y = _data()
    # tol=0.5: no epoch improves on the first one by that much, so every later epoch
    # counts as stalled; the third stalled epoch (epoch 3) halves the rate.
    reg = SequenceRegressor(
        hidden_size=8,
        max_epochs=2,
        patience=50,
        tol=0.5,
        lr_schedule="plateau",
        reduce_lr_patience=3,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    assert reg._history.schedule_state["bad_epochs"] == 1
    reg.set_params(max_epochs=3).fit(X, y)
    # Counters restarted by the warm start would not reach 3 stalled epochs here.
    assert reg._history.learning_rates == [3e-3, 3e-3, 3e-3, 3e-3, 1.5e-3]
    assert reg._history.schedule_state["best"] == reg.loss_curve_[0]


@pytest.mark.parametrize(
    "param, value",
    [
        ("lr_schedule", "cosine"),
        ("reduce_lr_factor", 1.0),
        ("reduce_lr_patience", 0),
        ("reduce_lr_cooldown", -1),
        ("min_learning_rate", -1.0),
    ],
)
def test_bad_recipe_parameters_are_refused_by_name(param, value):
    X, y = _data(n=20)
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter"):
        SequenceRegressor(**{param: value}).fit(X, y)


def test_grid_search_over_the_recipe_parameters():
    X, y = _data(n=40)
    grid = GridSearchCV(
        SequenceClassifier(
            architecture="recurrent", n_ensemble=1, hidden_size=4, max_epochs=3, random_state=0
        ),
        {"lr_schedule": ["constant", "plateau"], "n_ensemble": [1, 2]},
        cv=2,
        error_score="raise",
    ).fit(X, (y > 0).astype(int))
    assert len(grid.cv_results_["params"]) == 4
    assert len(grid.best_estimator_.networks_) == grid.best_params_["n_ensemble"]


def test_model_files_from_before_the_recipe_load_with_its_defaults():
    from pathlib import Path

    import tsrnn

    path = Path(__file__).parents[1] / "modelfile" / "data" / "format1-classifier.tsrnn"
    params = tsrnn.load(path).get_params()
    assert (params["lr_schedule"], params["n_ensemble"], params["n_jobs"]) == ("constant", 1, None)
    assert (params["reduce_lr_factor"], params["reduce_lr_patience"]) == (0.5, 5)


def test_a_resumed_checkpoint_continues_the_plateau_schedule(tmp_path):
    X, y = _data()
    params = dict(hidden_size=8, patience=50, tol=0.5, lr_schedule="plateau", random_state=0)
    params["reduce_lr_patience"] = 3
    whole = SequenceRegressor(max_epochs=8, **params).fit(X, y)
    path = tmp_path / "run.tsrnn"
    SequenceRegressor(max_epochs=2, **params).fit(X, y, checkpoint=path)
    resumed = SequenceRegressor(max_epochs=8, **params).fit(X, y, checkpoint=path, resume=True)
    assert resumed._history.learning_rates == whole._history.learning_rates
    assert whole._history.learning_rates == [3e-3] * 4 + [1.5e-3] * 3 + [7.5e-4]
    np.testing.assert_array_equal(resumed.network_.get_weights(), whole.network_.get_weights())
