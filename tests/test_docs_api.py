"""The API reference (docs/api.rst) gives every public name of tsrnn a page."""

import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import api_coverage  # noqa: E402

API_SOURCE = (DOCS / "api.rst").read_text()


def test_every_public_name_has_a_page():
    assert api_coverage.undocumented(API_SOURCE) == []


def test_a_new_public_name_without_a_page_is_reported(monkeypatch):
    import tsrnn.datasets

    def load_new_data():
        """A loader that docs/api.rst does not list."""

    load_new_data.__module__ = "tsrnn.datasets"
    monkeypatch.setattr(tsrnn.datasets, "load_new_data", load_new_data, raising=False)
    assert api_coverage.undocumented(API_SOURCE) == ["tsrnn.datasets.load_new_data"]


def test_a_listed_name_that_is_not_public_is_refused():
    source = API_SOURCE + "\n.. currentmodule:: tsrnn\n\n.. autosummary::\n\n   NoSuchThing\n"
    with pytest.raises(ValueError, match=r"not public: \['tsrnn.NoSuchThing'\]"):
        api_coverage.undocumented(source)


def test_internal_modules_are_not_public():
    modules = api_coverage.public_modules()
    assert "tsrnn.forecasting" in modules and "tsrnn.datasets" in modules
    assert not set(modules) & set(api_coverage.INTERNAL)
    assert not [name for name in modules if "._" in name]


@pytest.mark.parametrize(
    ("target", "documented"),
    [
        ("tsrnn.layers.LSTM", "tsrnn.LSTM"),  # a public alias
        ("tsrnn.layers.base.Layer.forward", "tsrnn.layers.Layer.forward"),  # via its module
        ("tsrnn.estimators.classifier.SequenceClassifier.fit", "tsrnn.SequenceClassifier.fit"),
        ("tsrnn.LSTM", None),  # already the documented name
        ("tsrnn.kernels.cells.CellSpec", None),  # internal: no page
    ],
)
def test_aliases_resolve_to_the_documented_name(target, documented):
    assert api_coverage.Aliases(API_SOURCE).resolve(target) == documented
