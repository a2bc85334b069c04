"""MaxPooling1D's padding in model files: saved, loaded, and absent from older files."""

import numpy as np

import tsrnn
from tests.layers.test_composite import _network_entry, _rewrite_state, _saved
from tsrnn import Conv1D, Dense, GlobalAveragePooling1D, MaxPooling1D, Network


def _network(padding):
    return Network(
        [
            Conv1D(3, 3, padding="causal", activation="linear"),
            MaxPooling1D(3, 1, padding=padding),
            GlobalAveragePooling1D(),
            Dense(1),
        ]
    ).build((6, 2), 0)


def test_model_files_keep_the_pooling_padding(tmp_path):
    net = _network("same")
    est, path, X = _saved(net, tmp_path)
    loaded = tsrnn.load(path)
    assert loaded.network_.layers[1].padding == "same"
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_files_without_the_pooling_padding_load_as_valid(tmp_path):
    # Files written before MaxPooling1D had a padding parameter hold no such entry;
    # their pooling was 'valid'.
    est, path, X = _saved(_network("valid"), tmp_path)

    def drop_padding(state):
        pooling = _network_entry(state)["__network__"][1]
        assert pooling["class"] == "MaxPooling1D"
        fields = pooling["config"]["__dict__"]
        assert ["padding", "valid"] in fields
        fields[:] = [pair for pair in fields if pair[0] != "padding"]

    _rewrite_state(path, drop_padding)
    loaded = tsrnn.load(path)
    assert loaded.network_.layers[1].padding == "valid"
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
