"""
The recurrent layer, directly
=============================

Forward and backward through a bidirectional LSTM on variable-length sequences.
"""

import numpy as np

from tsrnn import Recurrent

rng = np.random.default_rng(0)
lengths = np.array([50, 31, 12, 44])
x = rng.standard_normal((50, 4, 3))  # (n_steps, batch, n_features)
mask = np.arange(50)[:, None] < lengths[None, :]

layer = Recurrent("lstm", input_size=3, hidden_size=16, bidirectional=True)
params = layer.init_params(random_state=0)
y, h_n, c_n, cache = layer.forward(params, x, mask)
dx, grads, dh0, dc0 = layer.backward(params, cache, dy=np.ones_like(y) * mask[:, :, None])

print("output", y.shape, "final states", h_n.shape)
print("gradient norm per parameter:")
for name, g in grads.items():
    print(f"  {name:<18} {np.linalg.norm(g):.4f}")
