"""The package's import graph has no cycle (imports inside functions included)."""

import ast
from pathlib import Path

import tsrnn

PACKAGE = Path(tsrnn.__file__).parent

#: Cycles that remain, each with the reason it could not be removed yet. Empty: none.
KNOWN_CYCLES = []


def modules():
    """Dotted module name -> path, for every module of the package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imported(name, path, known):
    """The package modules that module ``name`` imports anywhere in its body.

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else
    ``a.b``; the packages an import passes through are not counted (their
    ``__init__`` runs first, but a package importing its own submodules is no cycle).
    """
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            candidates = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in candidates:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def import_graph():
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 30 and "tsrnn.persistence" in graph
    assert cycles(graph) == KNOWN_CYCLES


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_imports_inside_functions_count(tmp_path):
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "low.py"
    path.write_text("def f():\n    from pkg.high import thing\n    from . import other\n")
    known = {"pkg", "pkg.low", "pkg.high", "pkg.other"}
    assert imported("pkg.low", path, known) == {"pkg.high", "pkg.other"}


def test_the_persistence_modules_import_no_estimator():
    graph = import_graph()
    lower = [name for name in graph if name.startswith("tsrnn.modelfile")]
    upper = {
        "tsrnn",
        "tsrnn.estimators",
        "tsrnn.forecasting",
        "tsrnn.preprocessing",
        "tsrnn.windows",
        "tsrnn.persistence",
    }
    for name in lower:
        reached, todo = set(), [name]
        while todo:
            for target in graph[todo.pop()]:
                if target not in reached:
                    reached.add(target)
                    todo.append(target)
        assert not reached & upper, (name, sorted(reached & upper))
