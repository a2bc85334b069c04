"""Shared test helpers: a reference recurrent stack built only from the NumPy spec,
and the bit-identical comparison of fits."""

import hashlib

import numpy as np

from tsrnn import Recurrent
from tsrnn.kernels.reference.dispatch import reference_direction

# (cell, options) pairs covering every cell formulation.
CELL_VARIANTS = [
    ("rnn", {}),
    ("rnn", {"activation": "relu"}),
    ("lstm", {}),
    ("lstm", {"activation": "relu"}),
    ("gru", {}),
    ("gru", {"reset_after": False}),
]
CELL_IDS = ["rnn-tanh", "rnn-relu", "lstm", "lstm-relu", "gru", "gru-reset-before"]


def rel_err(actual, expected):
    """max |actual - expected| / max |expected| (absolute when expected is ~0)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = max(np.abs(expected).max(), 1e-300)
    return np.abs(actual - expected).max() / scale


def random_mask(rng, n_steps, batch, kind):
    """'none', 'lengths' (post-padding, varied lengths incl. 1) or 'holes' (any pattern)."""
    if kind == "none":
        return None
    if kind == "lengths":
        lengths = rng.integers(1, n_steps + 1, size=batch)
        lengths[0] = n_steps
        return np.arange(n_steps)[:, None] < lengths[None, :]
    return rng.random((n_steps, batch)) > 0.3


def make_case(
    cell,
    options,
    n_steps,
    batch,
    n_features,
    hidden,
    num_layers=1,
    bidirectional=False,
    dtype="float64",
    mask="none",
    seed=0,
    scale=0.5,
    recurrent_dropout=0.0,
):
    """A layer, random parameters/inputs/states, and random upstream gradients."""
    rng = np.random.default_rng(seed)
    layer = Recurrent(
        cell,
        n_features,
        hidden,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dtype=dtype,
        **options,
    )
    params = layer.init_params(seed)
    for name in params:
        params[name][...] = scale * rng.standard_normal(params[name].shape)
    n_states = num_layers * layer.num_directions
    x = rng.standard_normal((n_steps, batch, n_features))
    case = dict(
        layer=layer,
        params=params,
        x=x,
        mask=random_mask(rng, n_steps, batch, mask),
        h0=0.5 * rng.standard_normal((n_states, batch, hidden)),
        c0=0.5 * rng.standard_normal((n_states, batch, hidden)) if cell == "lstm" else None,
        dy=rng.standard_normal((n_steps, batch, layer.output_size)),
        dh_n=rng.standard_normal((n_states, batch, hidden)),
        dc_n=rng.standard_normal((n_states, batch, hidden)) if cell == "lstm" else None,
    )
    if recurrent_dropout:
        keep = rng.random((n_states, batch, hidden)) >= recurrent_dropout
        keep[:, :, 0] = True  # every recurrent weight row stays reachable
        case["rmask"] = keep / (1.0 - recurrent_dropout)
    return case


def _split(layer, params, lyr, direction):
    p = layer.prefix(lyr, direction)
    return {
        k.split(".", 1)[1]: np.asarray(params[k], np.float64)
        for k in params
        if k.split(".", 1)[0] == p
    }


def reference_stack(
    layer, params, x, mask=None, h0=None, c0=None, dy=None, dh_n=None, dc_n=None, rmask=None
):
    """Forward and backward of a whole (stacked, bidirectional) layer via the spec.

    Returns (y, h_n, c_n, grads) where grads maps 'x', 'h0', 'c0' and every
    parameter name to its gradient (float64).
    """
    L, D, H = layer.num_layers, layer.num_directions, layer.hidden_size
    x = np.asarray(x, np.float64)
    T, B, _ = x.shape
    h0 = np.zeros((L * D, B, H)) if h0 is None else np.asarray(h0, np.float64)
    if layer.cell == "lstm" and c0 is None:
        c0 = np.zeros_like(h0)
    h_n, c_n = np.zeros_like(h0), (np.zeros_like(h0) if layer.cell == "lstm" else None)
    backwards, inp = [], x
    for lyr in range(L):
        outs = []
        for d in range(D):
            k = lyr * D + d
            out, backward = reference_direction(
                layer.cell,
                _split(layer, params, lyr, d),
                inp,
                h0[k],
                c0[k] if c0 is not None else None,
                mask=mask,
                reverse=d == 1,
                rmask=None if rmask is None else rmask[k],
                activation=layer.activation,
                reset_after=layer.reset_after,
            )
            h_n[k] = out["h_n"]
            if "c_n" in out:
                c_n[k] = out["c_n"]
            outs.append(out["h_seq"])
            backwards.append(backward)
        inp = np.concatenate(outs, axis=2)
    y = inp
    dy = np.zeros_like(y) if dy is None else np.asarray(dy, np.float64)
    dh_n = np.zeros_like(h_n) if dh_n is None else np.asarray(dh_n, np.float64)
    if layer.cell == "lstm":
        dc_n = np.zeros_like(c_n) if dc_n is None else np.asarray(dc_n, np.float64)
    grads = {"h0": np.zeros_like(h0)}
    if layer.cell == "lstm":
        grads["c0"] = np.zeros_like(h0)
    d_out = dy
    for lyr in reversed(range(L)):
        d_in = 0
        for d in range(D):
            k = lyr * D + d
            g = backwards[k](
                d_out[:, :, d * H : (d + 1) * H],
                dh_n[k],
                dc_n[k] if dc_n is not None else None,
            )
            d_in = d_in + g.pop("x")
            grads["h0"][k] = g.pop("h0")
            if "c0" in g:
                grads["c0"][k] = g.pop("c0")
            for name, value in g.items():
                grads[f"{layer.prefix(lyr, d)}.{name}"] = value
        d_out = d_in
    grads["x"] = d_out
    return y, h_n, c_n, grads


def reference_case(case):
    """:func:`reference_stack` on a case from :func:`make_case` (with its upstream gradients)."""
    keys = ("x", "mask", "h0", "c0", "dy", "dh_n", "dc_n")
    return reference_stack(
        case["layer"], case["params"], *(case[k] for k in keys), case.get("rmask")
    )


def fast_stack(case, dtype=None):
    """Forward + backward through the Numba kernels for a case from :func:`make_case`."""
    layer, params = case["layer"], case["params"]
    y, h_n, c_n, cache = layer.forward(
        params, case["x"], case["mask"], case["h0"], case["c0"], rmask=case.get("rmask")
    )
    dx, grads, dh0, dc0 = layer.backward(params, cache, case["dy"], case["dh_n"], case["dc_n"])
    out = {name: grads[name] for name in grads}
    out.update(x=dx, h0=dh0)
    if dc0 is not None:
        out["c0"] = dc0
    return y, h_n, c_n, out


def numeric_gradient(f, array, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of ``array``
    (perturbed in place and restored)."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        saved = array[idx]
        array[idx] = saved + eps
        up = f()
        array[idx] = saved - eps
        down = f()
        array[idx] = saved
        grad[idx] = (up - down) / (2 * eps)
    return grad


def pytest_summary(stdout):
    """Counts from the closing summary line of a ``pytest -q`` run in a subprocess.

    ``"90 passed, 2 skipped in 3.10s"`` gives ``{"passed": 90, "skipped": 2}``; a run
    whose output has no such line gives ``{}``, which no assertion below accepts.
    """
    import re

    outcome = r"(\d+) (passed|failed|errors?|skipped|deselected|xfailed|xpassed)"
    for line in reversed(stdout.strip().splitlines()):
        found = re.findall(outcome, line)
        if found and re.search(r" in [\d.]+s", line):
            return {("error" if w.startswith("error") else w): int(n) for n, w in found}
    return {}


def fitted_weights(fitted):
    """The flat weights of a fitted estimator (its ``network_``), a Network, or an array."""
    network = getattr(fitted, "network_", fitted)
    return np.asarray(network.get_weights() if hasattr(network, "get_weights") else network)


def weights_digest(fitted):
    """SHA-256 of :func:`fitted_weights`' bytes: a fit's fingerprint, comparable across
    processes and with digests recorded in a test."""
    return hashlib.sha256(fitted_weights(fitted).tobytes()).hexdigest()


def assert_bit_identical(first, *others):
    """Assert that fits (estimators, networks or weight arrays) hold bit-identical weights.

    The same dtype, shape and bytes: a readable diff first, then the bytes, which
    also tell -0.0 from 0.0 and one NaN payload from another.
    """
    expected = fitted_weights(first)
    for other in others:
        actual = fitted_weights(other)
        np.testing.assert_array_equal(actual, expected, strict=True)
        assert actual.tobytes() == expected.tobytes(), "same values, different bits"


def network_forecast(model, **kwargs):
    """A fitted Forecaster's ``predict(**kwargs)`` from its networks alone.

    The forecast with ``anchor_weight_`` 1, restored afterwards. A quick test fit's
    blend often keeps none of its networks (weight 0), and its ``predict`` is then the
    simple forecast whatever the networks are: comparing this one compares them.
    """
    weight = model.anchor_weight_
    model.anchor_weight_ = 1.0
    try:
        return model.predict(**kwargs)
    finally:
        model.anchor_weight_ = weight


def run_cli(capsys, *argv):
    """Run the command line in process: its exit code, standard output and error."""
    from tsrnn.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err):
    """The message of a one-line 'tsrnn: error: ...' report."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsrnn: error: "), err
    return lines[0][len("tsrnn: error: ") :]


def allow_threads(monkeypatch, n):
    """Let a fit use ``n`` threads (tsrnn._threads), whatever the machine and environment.

    The cores, the thread variables and the BLAS limit found when training begins all
    cap the threads; tests of the helper thread set them here.
    """
    import tsrnn._threads as threads

    monkeypatch.setattr(threads, "default_thread_count", lambda: n)
    monkeypatch.setattr(threads, "_caller_blas_limit", lambda: None)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
