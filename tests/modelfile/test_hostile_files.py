"""Crafted model files (checksums and seal recomputed, as an attacker can) are refused as
ModelFileError, quickly and with bounded memory, before anything of their declared
size is allocated or built."""

import io
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import tsrnn
from tests.modelfile.craft import BZIP2, DEFLATED, Raw, member, members_of, reseal
from tsrnn import ModelFileError, SequenceRegressor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_bytes():
    X = np.random.default_rng(0).normal(size=(8, 3, 1))
    est = SequenceRegressor(hidden_size=3, max_epochs=1, batch_size=4, random_state=0)
    return tsrnn.persistence.dumps(est.fit(X, X[:, -1, 0]))


@pytest.fixture
def members(model_bytes):
    return members_of(model_bytes)


def state_of(members):
    return json.loads(members["state.json"])


def with_state(members, state):
    return dict(members, **{"state.json": json.dumps(state).encode()})


def attributes(state):
    """The estimator's attributes as a dict of name -> [name, value] pairs (editable)."""
    return {pair[0]: pair for pair in state["attributes"]["__dict__"]}


def network_state(state):
    return attributes(state)["network_"][1]


def layer_config(state, index):
    pairs = network_state(state)["__network__"][index]["config"]["__dict__"]
    return {pair[0]: pair for pair in pairs}


def refused(tmp_path, data, match, seconds=1.0, max_bytes=32 << 20):
    """Load ``data``: it must be refused as ModelFileError matching ``match`` in under
    ``seconds`` of CPU time, allocating at most ``max_bytes`` on the way."""
    path = tmp_path / "crafted.tsrnn"
    path.write_bytes(data)
    tracemalloc.start()
    start = time.process_time()
    try:
        with pytest.raises(ModelFileError, match=match) as info:
            tsrnn.load(path)
        elapsed = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"refused only after {elapsed:.2f} s CPU"
    assert peak < max_bytes, f"allocated {peak / 2**20:.0f} MiB before refusing"
    return info.value


# --- 17.1: sizes are checked before anything is allocated or built -------------------------


def test_bzip2_bomb_is_refused_under_a_2gb_address_space_limit(model_bytes, tmp_path):
    # 58 bzip2 blocks of zeros: 1.7 KB that inflate to 2.66 GB; the sizes in the zip
    # headers are honest, the member checksum cannot be (it would cost a full read).
    script = textwrap.dedent(
        f"""
        import resource, time
        from tests.modelfile.craft import bomb, members_of, reseal
        import tsrnn
        members = members_of({bytes(model_bytes)!r})
        for name in ("state.json", "arrays/0.npy"):
            data = members.pop(name)
            path = {str(tmp_path)!r} + "/bomb.tsrnn"
            with open(path, "wb") as f:
                f.write(reseal(members, raw={{name: bomb(58)}}))
            members[name] = data
            hard = resource.getrlimit(resource.RLIMIT_AS)[1]
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, hard))
            start = time.process_time()
            try:
                tsrnn.load(path)
                outcome = "loaded"
            except Exception as exc:
                outcome = type(exc).__name__ + ": " + str(exc)[:300]
            print(name, round(time.process_time() - start, 3), outcome, flush=True)
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2, proc.stdout
    for line in lines:
        name, seconds, outcome = line.split(" ", 2)
        assert outcome.startswith("ModelFileError"), line
        assert "declares 2662155630 bytes" in outcome or "compression method (12)" in outcome
        assert float(seconds) < 1.0, line


def test_bzip2_member_is_refused_without_inflating_it(members, tmp_path):
    data = members.pop("state.json")
    crafted = reseal(members, raw={"state.json": member(data, BZIP2)})
    refused(tmp_path, crafted, "unsupported compression method")


def test_deflate_bomb_is_capped_whatever_its_header_declares(members, tmp_path):
    del members["state.json"]
    honest = member(b"[" + bytes(80 << 20) + b"]", DEFLATED)
    crafted = reseal(members, raw={"state.json": honest})
    refused(tmp_path, crafted, "declares 83886082 bytes")
    lying = Raw(honest.compressed, DEFLATED, 1000, honest.crc, honest.digest)
    crafted = reseal(members, raw={"state.json": lying})
    refused(tmp_path, crafted, "Bad CRC-32|inflates past its declared 1000", max_bytes=4 << 20)


def test_huge_hidden_size_is_refused_before_the_network_is_built(members, tmp_path):
    state = state_of(members)
    attributes(state)["hidden_size"][1] = 3000
    layer_config(state, 0)["hidden_size"][1] = 3000
    crafted = reseal(with_state(members, state))
    refused(tmp_path, crafted, "do not match the saved network layout")


@pytest.mark.parametrize(
    "units, match",
    [
        (1e10, "invalid settings: units must be a positive integer"),
        (10**10, "units=10000000000 is out of range"),
        (10**7, "do not match the saved network layout"),
    ],
)
def test_huge_dense_units_are_refused(members, tmp_path, units, match):
    state = state_of(members)
    layer_config(state, 1)["units"][1] = units
    refused(tmp_path, reseal(with_state(members, state)), match)


@pytest.mark.parametrize("num_layers", [10**6, 1000])
def test_huge_num_layers_is_refused(members, tmp_path, num_layers):
    state = state_of(members)
    layer_config(state, 0)["num_layers"][1] = num_layers
    crafted = reseal(with_state(members, state))
    refused(tmp_path, crafted, "num_layers=1000000 is out of range|do not match")


def npy_header(shape, dtype="<f4"):
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    text = repr(header).encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


@pytest.mark.parametrize("name", ["arrays/2.npy", "arrays/0.npy"])  # weights, y_mean_
def test_npy_header_declaring_a_huge_shape_is_refused(members, tmp_path, name):
    members[name] = npy_header((10**12,)) + bytes(64)
    crafted = reseal(members)
    refused(tmp_path, crafted, r"shape \(1000000000000,\), expected|header declares")


def test_npy_member_whose_declared_size_lies_is_refused(members, tmp_path):
    data = members.pop("arrays/2.npy")
    real = member(data, name="arrays/2.npy")
    lying = Raw(real.compressed, real.method, 10**9, real.crc, real.digest)
    refused(tmp_path, reseal(members, raw={"arrays/2.npy": lying}), "declares 1000000000 bytes")


# --- 17.2: the state's schema is checked at load time --------------------------------------


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [900, 5000, 100_000])
def test_deeply_nested_json_is_refused_without_recursion_errors(members, tmp_path, depth):
    members["state.json"] = ('{"attributes": ' + nested(depth) + "}").encode()
    refused(tmp_path, reseal(members), f"state.json is nested {depth + 1} levels deep")
    manifest = members.pop("manifest.json")
    text = manifest[:-1] + b', "x": ' + nested(depth).encode() + b"}"
    refused(tmp_path, reseal(members, manifest=text, checksums=False), "levels deep")


@pytest.mark.parametrize("value", [5, "abc", [1, 2], None, {"a": 1}, {"__dict__": 5}])
def test_attributes_that_are_not_a_mapping_are_refused(members, tmp_path, value):
    members["state.json"] = json.dumps({"attributes": value}).encode()
    refused(tmp_path, reseal(members), "attributes must be a mapping|expected key-value pairs")


@pytest.mark.parametrize("value", [["SequenceRegressor"], {"a": 1}, 5, None])
def test_manifest_class_that_is_not_a_name_is_refused(members, tmp_path, value):
    manifest = json.loads(members.pop("manifest.json"))
    manifest["class"] = value
    refused(tmp_path, reseal(members, manifest=manifest), "class must be a name")


def test_missing_parameter_is_refused(members, tmp_path):
    state = state_of(members)
    pairs = state["attributes"]["__dict__"]
    state["attributes"]["__dict__"] = [p for p in pairs if p[0] != "hidden_size"]
    refused(tmp_path, reseal(with_state(members, state)), r"missing its parameter\(s\) \['hidden")


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("hidden_size", "abc", "invalid parameter: The 'hidden_size' parameter"),
        ("network_", 5, "'network_' has the wrong type"),
        ("n_features_in_", "two", "'n_features_in_' has the wrong type"),
        ("y_mean_", [1.0], "'y_mean_' has the wrong type"),
        ("loss_curve_", ["a"], "'loss_curve_' has the wrong type"),
    ],
)
def test_wrongly_typed_attribute_is_refused(members, tmp_path, name, value, match):
    state = state_of(members)
    attributes(state)[name][1] = value
    refused(tmp_path, reseal(with_state(members, state)), match)


@pytest.mark.parametrize("name", ["predict", "fit", "get_params", "__class__", "score"])
def test_attribute_shadowing_a_method_is_refused(members, tmp_path, name):
    state = state_of(members)
    state["attributes"]["__dict__"].append([name, "not callable"])
    refused(tmp_path, reseal(with_state(members, state)), "would replace a method")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(members, tmp_path, bad):
    weights = np.load(io.BytesIO(members["arrays/2.npy"]))
    weights[3] = bad
    buf = io.BytesIO()
    np.save(buf, weights)
    members["arrays/2.npy"] = buf.getvalue()
    refused(tmp_path, reseal(members), "weights contain NaN or infinity")


def test_unreferenced_member_is_refused(members, tmp_path):
    members["arrays/9.npy"] = members["arrays/0.npy"]
    refused(tmp_path, reseal(members), r"members \['arrays/9.npy'\] are not part")


def test_crafted_file_with_valid_edits_still_loads(members, tmp_path, model_bytes):
    # The crafting helpers themselves are faithful: an unedited rebuild loads and predicts.
    path = tmp_path / "rebuilt.tsrnn"
    path.write_bytes(reseal(members))
    original = tmp_path / "original.tsrnn"
    original.write_bytes(model_bytes)
    X = np.ones((2, 3, 1))
    np.testing.assert_array_equal(tsrnn.load(path).predict(X), tsrnn.load(original).predict(X))


@pytest.mark.parametrize("name", ["arrays/3.npy", "arrays/4.npy"])  # Adam's m and v
def test_optimizer_moments_unlike_the_weights_are_refused(members, tmp_path, name):
    # The update kernels index the moments like the weights without bounds checks.
    weights = np.load(io.BytesIO(members[name]))
    buf = io.BytesIO()
    np.save(buf, weights[:-1])
    members[name] = buf.getvalue()
    refused(tmp_path, reseal(members), r"optimizer's [mv] \(float32\[63\]\) does not match")
