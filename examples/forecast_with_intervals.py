"""
Forecasting with a calibrated interval, and backtests
=====================================================

Forecaster: 24 months of airline passengers with a calibrated 90% interval, checked on
a hold-out, then rolling-origin backtests (refitting at every origin, and fitting once).
"""

import numpy as np
from _common import FAST, epochs, report

from tsrnn import Forecaster, backtest
from tsrnn.datasets import load_airline

y = load_airline()
train, test = y[:-24], y[-24:]
# Defaults: window and epochs from the series (monthly: two years), an ensemble of 3.
fast = {"max_epochs": epochs(200), "n_ensemble": 1} if FAST else {}
model = Forecaster(horizon=24, random_state=0, **fast).fit(train)
forecast = model.predict()
lower, upper = model.predict_interval(coverage=0.9)
rmse = float(np.sqrt(np.mean((forecast - test) ** 2)))
naive = np.tile(train.to_numpy()[-12:], 2)
inside = np.mean((test >= lower) & (test <= upper))
print(forecast.head())
print(
    f"RMSE {rmse:.1f} (seasonal naive {np.sqrt(np.mean((naive - test) ** 2)):.1f}); "
    f"90% interval covers {inside:.0%} of the hold-out"
)
seasonal_naive = np.sqrt(np.mean((naive - test) ** 2))
report(
    "airline, 24 months ahead (1959-60 held out)",
    "`Forecaster(horizon=24)` (defaults: a 3-member ensemble)",
    f"RMSE {rmse:.1f} vs seasonal naive {seasonal_naive:.1f}; 90% interval covers {inside:.0%}",
)
calibration = model.interval_calibration_.get(0.9)
if calibration:
    margin = (
        f"{calibration['widening']:+.2f} of its width"
        if calibration["rule"] == "relative"
        else f"{calibration['offset']:.2f} one-step spreads"
    )
    print(
        f"calibration ({calibration['n_values']} values): the network's band covered "
        f"{calibration['raw_coverage']:.0%}, {margin} on each side made it cover "
        f"{calibration['coverage']:.0%}; forecast: {model.anchor_weight_:.1f} of the "
        f"network's departure from the {model.blend_anchor_}"
    )
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(y.index[-60:], y.to_numpy()[-60:], "k", label="actual")
    ax.plot(forecast.index, forecast, label="forecast")
    ax.fill_between(forecast.index, lower, upper, alpha=0.3, label="90% interval")
    ax.legend()
    fig.savefig("airline_forecast.png", dpi=90)
    print("wrote airline_forecast.png")
except ImportError:
    pass
if not FAST:
    for refit in (True, False):
        result = backtest(
            Forecaster(random_state=0), y, initial_window=96, step=12, horizon=12, refit=refit
        )
        print(result["folds"])
        print(
            f"backtest ({result['n_fits']} fits): MAE {result['mae']:.1f}, "
            f"RMSE {result['rmse']:.1f}"
        )
