"""Learning works, on data nobody here generated (fixed seeds, bounded time).

The seed's two Keras architectures forecast the airline passengers series (last 24
months held out) and must beat the seasonal-naive forecast; a recurrent classifier
trained with binary cross-entropy must reach 0.90 accuracy on ItalyPowerDemand.
"""

import numpy as np
import pytest

from tsrnn import LSTM, Conv1D, Dense, Flatten, MaxPooling1D, Network
from tsrnn.datasets import load_airline, load_italy_power_demand
from tsrnn.losses import sigmoid
from tsrnn.training import Adam, fit

HOLD_OUT, WINDOW = 24, 12


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def airline_windows():
    """One-step-ahead windows of log passengers, each relative to its last value and
    scaled on the training part: the network predicts the next log change, so it does
    not have to extrapolate the level beyond the training range."""
    y = load_airline().to_numpy()
    v = np.log(y)
    starts = range(len(v) - WINDOW)
    X = np.stack([v[i : i + WINDOW] - v[i + WINDOW - 1] for i in starts])[:, :, None]
    t = np.array([v[i + WINDOW] - v[i + WINDOW - 1] for i in starts])
    n_train = len(v) - HOLD_OUT - WINDOW
    sx, st = X[:n_train].std(), t[:n_train].std()
    last_level = v[len(v) - HOLD_OUT - 1 : -1]
    return X / sx, t[:, None] / st, n_train, st, last_level, y


@pytest.mark.parametrize(
    "make_layers",
    [
        lambda: [LSTM(100, activation="relu"), Dense(1)],
        lambda: [Conv1D(64, 3, activation="relu"), MaxPooling1D(2), Flatten(), Dense(1)],
    ],
    ids=["lstm100-relu", "conv64-maxpool-flatten"],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_airline_models_beat_seasonal_naive(make_layers, seed):
    X, t, n_train, st, last_level, y = airline_windows()
    net = Network(make_layers()).build((WINDOW, 1), random_state=seed)
    history = fit(
        net,
        X[:n_train],
        t[:n_train],
        loss="mse",
        optimizer=Adam(1e-3),
        epochs=100,
        batch_size=16,
        random_state=seed,
    )
    forecast = np.exp(net.predict(X[n_train:])[:, 0] * st + last_level)
    actual = y[-HOLD_OUT:]
    seasonal_naive = y[-HOLD_OUT - 12 : -12]
    model_rmse, naive_rmse = _rmse(forecast, actual), _rmse(seasonal_naive, actual)
    assert naive_rmse == pytest.approx(49.99, abs=0.01)
    assert model_rmse < 0.6 * naive_rmse, f"RMSE {model_rmse:.1f} vs naive {naive_rmse:.1f}"
    assert history.loss_curve[-1] < history.loss_curve[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_italy_power_demand_binary_cross_entropy(seed):
    X, y = load_italy_power_demand("train")
    X_test, y_test = load_italy_power_demand("test")
    net = Network([LSTM(32), Dense(1)]).build((24, 1), random_state=seed)
    fit(
        net,
        X,
        (y == "2").astype(float)[:, None],
        loss="bce",
        optimizer=Adam(3e-3),
        epochs=150,
        batch_size=16,
        random_state=seed,
    )
    accuracy = np.mean((sigmoid(net.predict(X_test))[:, 0] > 0.5) == (y_test == "2"))
    assert accuracy >= 0.90
