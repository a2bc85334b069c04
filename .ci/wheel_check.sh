#!/usr/bin/env bash
# The package as users get it: build the wheel, check that it holds every package of
# the source tree, install it (non-editable, with the GPU and plot extras) in a fresh
# venv, and outside the checkout run the README's main job and a device='cuda' fit on
# Numba's CUDA simulator.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work" || true' EXIT  # disk: CI machines have run out of it
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip wheel -q --no-deps "$root" -w "$work/dist"
wheel="$(ls "$work"/dist/tsrnn-*.whl)"
"$py" "$root/.ci/wheel_packages.py" "$wheel" "$root"
"$py" -m pip install -q "$wheel[cuda,plot]"
cd "$work"
PATH="$work/venv/bin:$PATH" tsrnn forecast --horizon 24 --plot forecast.png
test -s forecast.png
echo "main job: OK (fresh venv, installed wheel, outside the checkout)"
NUMBA_ENABLE_CUDASIM=1 "$py" - <<'PY'
import numpy as np
import tsrnn
from tsrnn import SequenceRegressor

assert "site-packages" in tsrnn.__file__, tsrnn.__file__
rng = np.random.default_rng(0)
X = rng.standard_normal((16, 6, 2)).astype("float32")
y = X.sum(axis=(1, 2))
model = SequenceRegressor(hidden_size=4, max_epochs=2, batch_size=8, device="cuda", random_state=0)
model.fit(X, y)
assert model.device_ == "cuda", model.device_
cpu = SequenceRegressor(hidden_size=4, max_epochs=2, batch_size=8, random_state=0).fit(X, y)
gpu_pred, cpu_pred = model.predict(X), cpu.predict(X)
assert gpu_pred.shape == (16,) and np.isfinite(gpu_pred).all()
np.testing.assert_allclose(gpu_pred, cpu_pred, rtol=1e-4, atol=1e-5)
print("device='cuda' fit and predict from the installed wheel on the CUDA simulator: OK")
PY
