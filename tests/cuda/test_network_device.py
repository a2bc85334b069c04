"""Whole networks and estimators with ``device='cuda'`` (simulator or a real GPU).

The kernel tests pin each CUDA kernel to the reference; these check that the
layers, the network, the losses, the optimizers and the estimators compose them
the same way as on the CPU: forward outputs and every gradient agree with the
CPU network, a full ``fit`` on the GPU ends on the CPU's weights, dropout masks
drawn on the device are reproducible, and models move between devices.
"""

import pickle

import numba
import numpy as np
import pytest

from tests.helpers import rel_err

cuda = pytest.importorskip("numba.cuda")
pytestmark = pytest.mark.gpu

import tsrnn  # noqa: E402
from tsrnn import losses  # noqa: E402
from tsrnn.kernels.cuda import _launch, arrays, linalg, optim  # noqa: E402
from tsrnn.layers import (  # noqa: E402
    GRU,
    LSTM,
    AveragePooling1D,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    SimpleRNN,
)
from tsrnn.network import Network  # noqa: E402
from tsrnn.training import SGD, Adam  # noqa: E402
from tsrnn.training.loop import fit, train_step  # noqa: E402

TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


def _on_device(a):
    return cuda.devicearray.is_cuda_ndarray(a)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # Tiny inputs still span several blocks (with partial ones at the edges), and the
    # simulator, which runs a Python thread per CUDA thread, stays quick. Only
    # host-side launch sizes are patched (the reductions' block size is compiled in).
    monkeypatch.setattr(_launch, "BLOCK", (2, 4))
    monkeypatch.setattr(_launch, "THREADS", 16)
    monkeypatch.setattr(optim, "REDUCTION_BLOCKS", 2)  # a launch size, read per call
    if numba.config.ENABLE_CUDASIM:
        # The simulator runs barriers very slowly; the tiled product has its own tests.
        monkeypatch.setattr(linalg, "GEMM_KERNEL", "direct")


ARCHITECTURES = {
    "lstm-bi-2layers": lambda: [LSTM(2, num_layers=2, bidirectional=True), Dense(2)],
    "gru-sequences": lambda: [GRU(4, return_sequences=True), GlobalMaxPooling1D(), Dense(1)],
    "gru-reset-before": lambda: [GRU(3, reset_after=False), Dense(1)],
    "rnn-relu": lambda: [SimpleRNN(4, activation="relu"), Dense(3, activation="tanh")],
    "cnn-max": lambda: [Conv1D(4, 3), MaxPooling1D(2), Flatten(), Dense(1)],
    "cnn-max-same": lambda: [
        Conv1D(3, 4, padding="same"),
        MaxPooling1D(4, 1, padding="same"),
        MaxPooling1D(3, 2, padding="same"),
        Flatten(),
        Dense(1),
    ],
    "cnn-avg": lambda: [
        Conv1D(3, 2, dilation_rate=2),
        AveragePooling1D(2, 1),
        Conv1D(2, 2, strides=2, padding="same"),
        Flatten(),
        Dense(2),
    ],
    "cnn-causal-lstm": lambda: [
        Conv1D(3, 3, padding="causal"),
        LSTM(3, return_sequences=True),
        GlobalAveragePooling1D(),
        Dense(1),
    ],
}
MASKED = {"lstm-bi-2layers", "gru-sequences", "gru-reset-before", "rnn-relu", "cnn-causal-lstm"}


def _pair(make, dtype, input_shape=(5, 2)):
    cpu = Network(make(), dtype=dtype).build(input_shape, 3)
    gpu = Network(make(), dtype=dtype).build(input_shape, 3).to("cuda")
    return cpu, gpu


def _mask(batch, n_steps, seed=0):
    lengths = np.random.default_rng(seed).integers(1, n_steps + 1, size=batch)
    lengths[0] = n_steps
    return np.arange(n_steps)[None, :] < lengths[:, None]


# Every architecture in float64 (the strict check); float32 on a few (the simulator is
# slow: a Python thread per CUDA thread).
CASES = [(name, "float64") for name in sorted(ARCHITECTURES)] + [
    ("cnn-max", "float32"),
    ("rnn-relu", "float32"),
    ("gru-sequences", "float32"),
]


@pytest.mark.parametrize(("name", "dtype"), CASES)
def test_network_forward_and_gradients_match_the_cpu(name, dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 5, 2))
    mask = _mask(3, 5) if name in MASKED else None
    cpu, gpu = _pair(ARCHITECTURES[name], dtype)
    assert gpu.device == "cuda" and _on_device(gpu.params.flat)
    np.testing.assert_array_equal(gpu.get_weights(), cpu.get_weights())
    out_c, caches_c = cpu.forward(X, mask)
    out_g, caches_g = gpu.forward(X, mask)
    assert _on_device(out_g)
    tol = TOLERANCE[dtype]
    assert rel_err(out_g.copy_to_host(), out_c) <= tol
    dout = rng.standard_normal(out_c.shape)
    grads_c = cpu.backward(caches_c, dout)
    grads_g = gpu.backward(caches_g, dout)
    for key in grads_c:
        assert rel_err(grads_g[key].copy_to_host(), grads_c[key]) <= tol, key
    np.testing.assert_allclose(gpu.predict(X, mask), cpu.predict(X, mask), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "loss",
    [
        losses.MSE(),
        losses.MAE(),
        losses.Huber(0.5),
        losses.BinaryCrossEntropy(),
        losses.Pinball((0.1, 0.5, 0.9)),
        losses.SoftmaxCrossEntropy([1.0, 2.0, 0.5]),
    ],
)
def test_losses_take_device_predictions(loss):
    rng = np.random.default_rng(2)
    n_out = 3
    pred = rng.standard_normal((7, n_out))
    if isinstance(loss, losses.SoftmaxCrossEntropy):
        target = rng.integers(0, 3, 7)
    elif isinstance(loss, losses.BinaryCrossEntropy):
        target = (rng.random((7, n_out)) > 0.5).astype(float)
    elif isinstance(loss, losses.Pinball):
        target = rng.standard_normal((7, 1))
    else:
        target = rng.standard_normal((7, n_out))
    w = rng.random(7) + 0.1
    value, grad = loss(pred, target, w)
    value_g, grad_g = loss(cuda.to_device(pred), target, w)
    assert abs(value_g - value) <= 1e-12 * max(1.0, abs(value))
    assert rel_err(grad_g.copy_to_host(), grad) <= 1e-12


@pytest.mark.parametrize(
    "optimizer",
    [lambda: Adam(0.01, weight_decay=0.01), lambda: SGD(0.05, momentum=0.9, nesterov=True)],
)
def test_training_on_the_device_ends_on_the_cpu_weights(optimizer):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 5, 2))
    y = X[:, -2:, 0].sum(axis=1, keepdims=True)
    cpu, gpu = _pair(lambda: [Conv1D(3, 2, padding="causal"), GRU(3), Dense(1)], "float64", (5, 2))
    opt_c, opt_g = optimizer(), optimizer()
    hist_c = fit(cpu, X, y, optimizer=opt_c, epochs=2, batch_size=5, clip_norm=0.5, random_state=0)
    hist_g = fit(gpu, X, y, optimizer=opt_g, epochs=2, batch_size=5, clip_norm=0.5, random_state=0)
    np.testing.assert_allclose(hist_g.loss_curve, hist_c.loss_curve, rtol=1e-10)
    assert rel_err(gpu.get_weights(), cpu.get_weights()) <= 1e-10
    # The optimizer's buffers stayed on the device; they come back with .to('cpu').
    state = opt_g.state_dict()
    buffers = [k for k in state if k not in ("step_count", "learning_rate")]
    assert buffers and all(_on_device(state[k]) for k in buffers)
    opt_g.to("cpu")
    for k in buffers:
        assert rel_err(getattr(opt_g, k), getattr(opt_c, k)) <= 1e-10


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # the simulator's numpy math
def test_a_diverging_step_on_the_device_keeps_the_last_good_weights():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((8, 4, 1)), rng.standard_normal((8, 1)) * 100
    net = Network([Flatten(), Dense(1)], dtype="float32").build((4, 1), 0).to("cuda")
    before = net.get_weights()
    # A finite loss and gradient, but an update that overflows float32: undone on the GPU.
    opt = SGD(1e38, momentum=0.9)
    with pytest.raises(tsrnn.training.NonFiniteLossError, match="the step was undone"):
        train_step(net, opt, losses.MSE(), X, y)
    np.testing.assert_array_equal(net.get_weights(), before)
    assert opt.velocity is None or not np.any(opt.velocity.copy_to_host())
    # A non-finite loss is refused before any update.
    with pytest.raises(tsrnn.training.NonFiniteLossError, match="training loss became"):
        train_step(net, SGD(0.1), losses.MSE(), X, y * 1e30)
    np.testing.assert_array_equal(net.get_weights(), before)


def test_dropout_masks_on_the_device_are_reproducible_and_have_the_right_rate():
    keep = arrays.keep_mask(np.random.default_rng(7), (40, 50), 0.3).copy_to_host()
    again = arrays.keep_mask(np.random.default_rng(7), (40, 50), 0.3).copy_to_host()
    other = arrays.keep_mask(np.random.default_rng(8), (40, 50), 0.3).copy_to_host()
    np.testing.assert_array_equal(keep, again)
    assert (keep != other).mean() > 0.3
    # 2,000 Bernoulli(0.7) draws: the kept share is within 5 standard deviations.
    assert abs(keep.mean() - 0.7) < 5 * np.sqrt(0.7 * 0.3 / keep.size)
    scales = arrays.dropout_scales(np.random.default_rng(7), (40, 50), 0.3, np.float32)
    np.testing.assert_array_equal(scales.copy_to_host(), keep / np.float32(0.7))


def test_dropout_training_on_the_device_is_reproducible():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 4, 2)), rng.standard_normal((10, 1))

    def run(seed):
        net = (
            Network(
                [LSTM(3, dropout=0.3, recurrent_dropout=0.3), Dropout(0.2), Dense(1)],
                dtype="float32",
            )
            .build((4, 2), 0)
            .to("cuda")
        )
        fit(net, X, y, optimizer=Adam(0.01), epochs=2, batch_size=5, random_state=seed)
        return net.get_weights()

    first, second, other = run(11), run(11), run(12)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def _regression_data(n=24, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5, 2))
    return X, X[:, -2:, 0].sum(axis=1)


FAST = dict(hidden_size=3, max_epochs=2, batch_size=8, random_state=0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_regressor_fit_and_predict_on_the_device_match_the_cpu(dtype):
    X, y = _regression_data()
    gpu = tsrnn.SequenceRegressor(
        cell="gru", conv_filters=2, dtype=dtype, device="cuda", early_stopping=True, **FAST
    ).fit(X, y)
    cpu = tsrnn.SequenceRegressor(
        cell="gru", conv_filters=2, dtype=dtype, device="cpu", early_stopping=True, **FAST
    ).fit(X, y)
    assert gpu.device_ == "cuda" and cpu.device_ == "cpu"
    # A fitted estimator holds NumPy weights, whatever it trained on.
    assert isinstance(gpu.network_.params.flat, np.ndarray) and gpu.network_.device == "cpu"
    tol = TOLERANCE[dtype]
    assert rel_err(gpu.network_.get_weights(), cpu.network_.get_weights()) <= 100 * tol
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=100 * tol)
    np.testing.assert_allclose(gpu.validation_scores_, cpu.validation_scores_, rtol=tol)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), rtol=100 * tol, atol=100 * tol)


def test_models_move_between_devices_through_pickle_and_model_files(tmp_path):
    X, y = _regression_data()
    gpu = tsrnn.SequenceClassifier(
        architecture="recurrent", cell="lstm", device="cuda", dropout=0.2, **FAST
    )
    gpu.fit(X, y > 0)
    on_gpu = gpu.predict_proba(X)
    # Trained on the GPU, predicted on the CPU after pickling (and from a model file).
    restored = pickle.loads(pickle.dumps(gpu)).set_params(device="cpu")
    np.testing.assert_allclose(restored.predict_proba(X), on_gpu, rtol=1e-5, atol=1e-6)
    gpu.save(tmp_path / "model.tsrnn")
    loaded = tsrnn.load(tmp_path / "model.tsrnn").set_params(device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), on_gpu, rtol=1e-5, atol=1e-6)
    # And the other way: trained on the CPU, predicted on the GPU.
    cpu = tsrnn.SequenceRegressor(device="cpu", **FAST).fit(X, y)
    moved = pickle.loads(pickle.dumps(cpu)).set_params(device="cuda")
    np.testing.assert_allclose(moved.predict(X), cpu.predict(X), rtol=1e-5, atol=1e-6)
    # A network pickled while on the GPU lands on the CPU.
    net = Network([GRU(2), Dense(1)]).build((5, 2), 0).to("cuda")
    copy = pickle.loads(pickle.dumps(net))
    assert copy.device == "cpu" and isinstance(copy.params.flat, np.ndarray)
    np.testing.assert_array_equal(copy.get_weights(), net.get_weights())


def test_checkpointed_device_training_resumes_exactly(tmp_path):
    X, y = _regression_data(n=16)
    params = dict(cell="lstm", device="cuda", dtype="float64", **{**FAST, "max_epochs": 3})
    full = tsrnn.SequenceRegressor(**params).fit(X, y)
    path = tmp_path / "run.tsrnn"
    tsrnn.SequenceRegressor(**{**params, "max_epochs": 1}).fit(X, y, checkpoint=path)
    resumed = tsrnn.SequenceRegressor(**params).fit(X, y, checkpoint=path, resume=True)
    np.testing.assert_array_equal(resumed.network_.get_weights(), full.network_.get_weights())


def test_forecaster_trains_on_the_device():
    t = np.arange(40, dtype=float)
    series = np.sin(t / 4) + 0.05 * t
    kw = dict(
        window=6,
        horizon=2,
        hidden_size=3,
        max_epochs=2,
        calibration_fraction=0.0,
        random_state=0,
        dtype="float64",
    )
    gpu = tsrnn.Forecaster(device="cuda", **kw).fit(series)
    cpu = tsrnn.Forecaster(device="cpu", **kw).fit(series)
    assert gpu.device_ == "cuda"
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-8)
    np.testing.assert_allclose(gpu.predict(), cpu.predict(), rtol=1e-8)
