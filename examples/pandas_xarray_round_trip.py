"""
numpy, pandas and xarray input
==============================

The same model from numpy, a pandas MultiIndex frame and an xarray DataArray.
"""

import numpy as np
import pandas as pd
import xarray as xr
from _common import epochs

from tsrnn import SequenceRegressor

rng = np.random.default_rng(0)
X = rng.standard_normal((80, 20, 2))
y = X[:, -5:, 0].sum(axis=1)

frame = pd.DataFrame(
    X.reshape(-1, 2),
    index=pd.MultiIndex.from_product([range(80), range(20)], names=["instance", "time"]),
    columns=["temperature", "load"],
)
array = xr.DataArray(
    X, dims=("sample", "time", "feature"), coords={"feature": ["temperature", "load"]}
)

predictions = {}
for name, data in {"numpy": X, "pandas": frame, "xarray": array}.items():
    model = SequenceRegressor(max_epochs=epochs(60), random_state=0).fit(data, y)
    predictions[name] = model.predict(data)
    print(
        f"{name:<7} R^2 {model.score(data, y):.3f}  features: "
        f"{list(getattr(model, 'feature_names_in_', ['-']))}"
    )
same = all(np.array_equal(predictions["numpy"], p) for p in predictions.values())
print("identical predictions from all three formats:", same)
