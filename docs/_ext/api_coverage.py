"""The public API, and a check that the API reference gives every public name a page.

The public names are ``tsrnn.__all__`` plus the names of every public submodule:
``tsrnn.X`` whose name has no leading underscore and that is not in ``INTERNAL``.
A submodule's names are its ``__all__`` when it has one, else the classes and
functions it defines. An object reachable under several public names (``tsrnn.LSTM``
is ``tsrnn.layers.LSTM``) needs one page; cross-references to its other names are
resolved to that page by :class:`Aliases`.

Importable without Sphinx, so that ``tests/test_docs_api.py`` runs in the main suite.
"""

import importlib
import inspect
import pkgutil
import re

# Submodules of tsrnn that are not public API, and why.
INTERNAL = {
    "tsrnn.kernels": "compiled kernels and their NumPy reference, reached through layers",
    "tsrnn.modelfile": "the implementation of model files; tsrnn.persistence is its public face",
    "tsrnn.cli": "the `tsrnn` command, documented by `tsrnn --help`",
}


def public_modules():
    """The public modules: ``tsrnn`` and its public first-level submodules."""
    import tsrnn

    names = ["tsrnn"]
    for info in pkgutil.iter_modules(tsrnn.__path__, "tsrnn."):
        if not info.name.split(".")[-1].startswith("_") and info.name not in INTERNAL:
            names.append(info.name)
    return names


def module_names(module):
    """The public names of one module: its ``__all__``, else what it defines."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", None) == module.__name__
        ]
    return sorted(name for name in names if not name.startswith("_"))


def public_objects():
    """Map each public dotted name to its object."""
    found = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in module_names(module):
            found[f"{module_name}.{name}"] = getattr(module, name)
    return found


def documented_names(api_source):
    """The dotted names listed in the autosummary blocks of the API reference source."""
    names = []
    module = None
    in_autosummary = False
    for line in api_source.splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if current:
            module = current.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary:
            entry = line.strip()
            if not entry or entry.startswith(":"):
                continue
            if not line.startswith(" "):
                in_autosummary = False
                continue
            names.append(entry if entry.startswith("tsrnn") else f"{module}.{entry}")
    return names


def undocumented(api_source):
    """Public names whose object has no page in the API reference, sorted."""
    objects = public_objects()
    documented = documented_names(api_source)
    unknown = [name for name in documented if name not in objects]
    if unknown:
        raise ValueError(f"the API reference lists names that are not public: {unknown}")
    pages = {id(objects[name]) for name in documented}
    return sorted(name for name, obj in objects.items() if id(obj) not in pages)


def _lookup(dotted):
    """The object at a dotted path (module, then attributes), or None."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        return obj
    return None


class Aliases:
    """Resolve any path to a documented object to the name it is documented under.

    ``tsrnn.layers.base.Layer.forward`` becomes ``tsrnn.layers.Layer.forward``: the
    longest prefix of the path that names a documented object is replaced by the
    documented name.
    """

    def __init__(self, api_source):
        objects = public_objects()
        self.page_of = {id(objects[name]): name for name in documented_names(api_source)}
        self.documented = set(self.page_of.values())

    def resolve(self, target):
        """The documented name for ``target``, or None when there is none (or no change)."""
        parts = target.split(".")
        for split in range(len(parts), 0, -1):
            prefix = ".".join(parts[:split])
            if prefix in self.documented:
                return None  # already the documented name: nothing to redirect
            obj = _lookup(prefix)
            if obj is not None and id(obj) in self.page_of:
                return ".".join([self.page_of[id(obj)], *parts[split:]])
        return None
