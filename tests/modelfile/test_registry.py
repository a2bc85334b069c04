"""The allow-list of classes a model file may name stays complete and resolvable."""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import tsrnn
from tsrnn.modelfile import registry
from tsrnn.modelfile.io import ABSTRACT, SaveMixin

PACKAGE = Path(tsrnn.__file__).parent


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


@pytest.mark.parametrize("table", ["ESTIMATORS", "LAYERS", "OPTIMIZERS", "OBJECTS"], ids=str.lower)
def test_every_listed_path_resolves_to_a_class(table):
    for name, path in getattr(registry, table).items():
        cls = registry.resolve(path)
        assert inspect.isclass(cls) and registry.dotted_path(cls) == path
        if not name.startswith("__"):
            assert cls.__name__ == name


def import_every_module():
    """Import every tsrnn module outside the kernels, so that every class exists."""
    for info in pkgutil.walk_packages([str(PACKAGE)], "tsrnn."):
        if not info.name.startswith(("tsrnn.kernels", "tsrnn.__main__")):
            importlib.import_module(info.name)


def test_every_saveable_tsrnn_class_is_listed():
    import_every_module()
    saveable = {
        registry.dotted_path(cls)
        for cls in all_subclasses(SaveMixin)
        if cls.__module__.startswith("tsrnn.")
    }
    assert saveable - ABSTRACT == set(registry.ESTIMATORS.values())


def test_a_new_saveable_class_missing_from_the_list_fails_at_creation():
    with pytest.raises(TypeError, match=r"tsrnn\.fake\.Model inherits SaveMixin but is not in"):
        type("Model", (SaveMixin,), {"__module__": "tsrnn.fake"})
    # Subclasses outside tsrnn are the user's: allowed, but save refuses them clearly.
    user = type("MyScaler", (tsrnn.preprocessing.TimeSeriesScaler,), {"__module__": "mine"})
    with pytest.raises(TypeError, match="save supports tsrnn's estimators"):
        tsrnn.persistence.dumps(user())


def test_every_layer_class_is_listed():
    from tsrnn.layers.base import Layer

    import_every_module()
    concrete = {
        registry.dotted_path(cls)
        for cls in all_subclasses(Layer)
        # (layers that tests define for themselves are not tsrnn's)
        if not cls.__name__.startswith("_") and cls.__module__.startswith("tsrnn.")
    }
    assert concrete == set(registry.LAYERS.values())


def test_model_file_modules_never_check_types_by_name():
    for path in (PACKAGE / "modelfile").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "__name__"
                for side in [node.left, *node.comparators]
            ):
                pytest.fail(f"{path.name}:{node.lineno} compares a __name__")
