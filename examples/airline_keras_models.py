"""
Airline passengers: two classic Keras models, rebuilt in tsrnn
==============================================================

Airline passengers: the two classic Keras models, rebuilt in tsrnn, against seasonal naive.

LSTM(100, activation='relu') -> Dense(1), and Conv1D(64, 3, relu) -> MaxPooling1D(2)
-> Flatten -> Dense(1), trained with Adam and MSE on one-step-ahead windows of the
log series (each window relative to its last value), the last 24 months held out.
Writes airline_models.png when matplotlib is installed.
"""

import numpy as np
from _common import epochs, report

from tsrnn import LSTM, Conv1D, Dense, Flatten, MaxPooling1D, Network
from tsrnn.datasets import load_airline
from tsrnn.training import Adam, fit

WINDOW, HOLD_OUT = 12, 24
y = load_airline()
v = np.log(y.to_numpy())
starts = range(len(v) - WINDOW)
X = np.stack([v[i : i + WINDOW] - v[i + WINDOW - 1] for i in starts])[:, :, None]
t = np.array([v[i + WINDOW] - v[i + WINDOW - 1] for i in starts])[:, None]
n_train = len(v) - HOLD_OUT - WINDOW
sx, st = X[:n_train].std(), t[:n_train].std()
actual = y.to_numpy()[-HOLD_OUT:]
seasonal_naive = y.to_numpy()[-HOLD_OUT - 12 : -12]


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


results = {"seasonal naive": (seasonal_naive, None)}
for name, layers in {
    "LSTM(100, relu)": [LSTM(100, activation="relu"), Dense(1)],
    "Conv1D(64,3)-MaxPool(2)": [Conv1D(64, 3), MaxPooling1D(2), Flatten(), Dense(1)],
}.items():
    net = Network(layers).build((WINDOW, 1), random_state=0)
    history = fit(
        net,
        X[:n_train] / sx,
        t[:n_train] / st,
        loss="mse",
        optimizer=Adam(1e-3),
        epochs=epochs(100),
        batch_size=16,
        random_state=0,
    )
    pred = np.exp(net.predict(X[n_train:] / sx)[:, 0] * st + v[-HOLD_OUT - 1 : -1])
    results[name] = (pred, history.loss_curve)

print(f"{'model':<26}{'RMSE on 1959-1960':>18}")
for name, (pred, _) in results.items():
    print(f"{name:<26}{rmse(pred, actual):>18.1f}")
errors = {name: rmse(pred, actual) for name, (pred, _) in results.items()}
report(
    "airline, one step ahead (1959-60 held out)",
    "Keras' LSTM(100, relu) / Conv1D(64,3)-MaxPool(2), rebuilt in tsrnn",
    f"RMSE {errors['LSTM(100, relu)']:.1f} / {errors['Conv1D(64,3)-MaxPool(2)']:.1f} "
    f"vs seasonal naive {errors['seasonal naive']:.1f}",
)

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(y.index[-HOLD_OUT:], actual, "k", label="actual")
    for name, (pred, curve) in results.items():
        ax1.plot(y.index[-HOLD_OUT:], pred, label=name)
        if curve:
            ax2.plot(curve, label=name)
    ax1.set_title("one-step forecasts, 1959-1960")
    ax1.legend()
    ax2.set_title("training loss (MSE)")
    ax2.set_yscale("log")
    ax2.legend()
    fig.tight_layout()
    fig.savefig("airline_models.png", dpi=90)
    print("wrote airline_models.png")
