"""Series to supervised windows (tsrnn/windows.py)."""

import numpy as np

from tsrnn.windows import WindowTransformer, make_windows


def test_windows_never_leak_targets_into_inputs():
    y = np.arange(40.0)
    exog = np.arange(40.0) * 10
    X, Y, pos = make_windows(y, window=5, horizon=3, stride=2, exog=exog)
    assert X.shape == (17, 5, 2) and Y.shape == (17, 3, 1)
    for i in range(len(X)):
        first_target = pos[i, 0]
        assert X[i, -1, 0] == first_target - 1  # inputs end strictly before the targets
        for p in range(first_target, 40):  # perturb any later value: inputs unchanged
            y2, e2 = y.copy(), exog.copy()
            y2[p] += 1e6
            e2[p] += 1e6
            np.testing.assert_array_equal(make_windows(y2, 5, 3, 2, e2)[0][i], X[i])
    np.testing.assert_array_equal(WindowTransformer(5, 3, 2).fit(y).transform(y), X[:, :, :1])
