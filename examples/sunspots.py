"""
Sunspots: 30 years ahead
========================

Sunspots: 30 years ahead from 1978, against naive persistence, with a plot.
"""

import numpy as np
from _common import FAST, epochs, report

from tsrnn import Forecaster
from tsrnn.datasets import load_sunspots

y = load_sunspots()
train, test = y[:-30], y[-30:]
fast = {"max_epochs": epochs(200), "n_ensemble": 1} if FAST else {}
# Annual data has no season to read from the index: the window spans the ~11-year
# cycle several times.
model = Forecaster(window=40, horizon=30, random_state=0, **fast).fit(train)
forecast = model.predict()
lower, upper = model.predict_interval(0.9)


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


ours, persistence = rmse(forecast, test), rmse(np.full(30, train.iloc[-1]), test)
print(f"RMSE 1979-2008: tsrnn {ours:.1f}, persistence {persistence:.1f}")
report(
    "sunspots, 30 years ahead (1979-2008 held out)",
    "`Forecaster(window=40, horizon=30)`",
    f"RMSE {ours:.1f} vs persistence {persistence:.1f}",
)
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(y.index[-120:], y.to_numpy()[-120:], "k", label="actual")
    ax.plot(forecast.index, forecast, label="forecast")
    ax.fill_between(forecast.index, lower, upper, alpha=0.3, label="90% interval")
    ax.legend()
    fig.savefig("sunspots.png", dpi=90)
    print("wrote sunspots.png")
except ImportError:
    pass
