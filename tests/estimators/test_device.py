"""``device=`` on the estimators where no GPU is usable (what CI and laptops run).

The GPU itself is tested in tests/cuda (on the simulator or a real GPU).
"""

import numpy as np
import pytest

import tsrnn
from tsrnn import backend
from tsrnn.network import Network

X = np.random.default_rng(0).standard_normal((30, 6, 2))
y = X[:, -1, 0]
FAST = dict(hidden_size=4, max_epochs=2, random_state=0)


@pytest.fixture
def no_gpu(monkeypatch):
    """A machine without a usable GPU, whatever this one has."""
    reason = "numba.cuda.is_available() is False: no NVIDIA GPU or CUDA driver was found"
    monkeypatch.setattr(backend, "cuda_status", lambda: (False, reason))
    backend.get_backend.cache_clear()
    yield
    backend.get_backend.cache_clear()


def _assert_install_error(excinfo):
    message = str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)
    assert "device='cuda' was requested, but numba.cuda.is_available() is False" in message
    assert "pip install 'tsrnn[cuda]'" in message and "device='auto'" in message


@pytest.mark.parametrize(
    "make",
    [
        lambda: tsrnn.SequenceRegressor(device="cuda", **FAST),
        lambda: tsrnn.SequenceClassifier(architecture="recurrent", device="cuda", **FAST),
    ],
)
def test_cuda_without_a_gpu_raises_a_clear_error_before_any_work(no_gpu, make):
    est = make()
    with pytest.raises(tsrnn.DeviceUnavailableError) as excinfo:
        est.fit(X, y if isinstance(est, tsrnn.SequenceRegressor) else y > 0)
    _assert_install_error(excinfo)
    assert not hasattr(est, "network_")  # nothing was built or trained


def test_forecaster_and_networks_raise_the_same_error(no_gpu):
    series = np.sin(np.arange(80) / 5)
    with pytest.raises(tsrnn.DeviceUnavailableError) as excinfo:
        tsrnn.Forecaster(window=8, horizon=2, device="cuda", max_epochs=1).fit(series)
    _assert_install_error(excinfo)
    net = Network([tsrnn.LSTM(3), tsrnn.Dense(1)]).build((6, 2), 0)
    with pytest.raises(tsrnn.DeviceUnavailableError) as excinfo:
        net.to("cuda")
    _assert_install_error(excinfo)
    assert net.device == "cpu" and isinstance(net.params.flat, np.ndarray)
    with pytest.raises(ValueError, match=r"device must be one of \['cpu', 'cuda'\], got 'tpu'"):
        net.to("tpu")


def test_predict_with_cuda_on_a_cpu_fitted_model_raises_too(no_gpu):
    reg = tsrnn.SequenceRegressor(**FAST).fit(X, y)
    reg.set_params(device="cuda")
    with pytest.raises(tsrnn.DeviceUnavailableError) as excinfo:
        reg.predict(X)
    _assert_install_error(excinfo)
    # The model is intact: back on the CPU it predicts as before.
    assert reg.set_params(device="cpu").predict(X).shape == (30,)


def test_auto_uses_the_cpu_without_a_gpu_and_gives_the_cpu_result(no_gpu):
    auto = tsrnn.SequenceRegressor(device="auto", **FAST).fit(X, y)
    cpu = tsrnn.SequenceRegressor(device="cpu", **FAST).fit(X, y)
    assert auto.device_ == "cpu"
    np.testing.assert_array_equal(auto.network_.get_weights(), cpu.network_.get_weights())
    np.testing.assert_array_equal(auto.predict(X), cpu.predict(X))


def test_invalid_device_names_are_rejected_by_the_parameter_check():
    with pytest.raises(ValueError, match="The 'device' parameter of SequenceRegressor must be"):
        tsrnn.SequenceRegressor(device="gpu").fit(X, y)


def test_this_machine_reports_why_cuda_is_unusable():
    # Runs the real probe: on a machine without a GPU (CI) it explains why.
    usable, reason = backend.cuda_status()
    if usable:
        pytest.skip("this machine has a usable CUDA GPU (or the simulator)")
    assert reason
    with pytest.raises(tsrnn.DeviceUnavailableError, match="pip install 'tsrnn\\[cuda\\]'"):
        tsrnn.SequenceRegressor(device="cuda", **FAST).fit(X, y)
