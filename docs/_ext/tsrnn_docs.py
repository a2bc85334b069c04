"""Sphinx extension: the API coverage check, aliases, and the benchmark tables.

- At build start, fail when a public name of tsrnn has no page in ``api.rst``
  (see :mod:`api_coverage`), and write ``_generated/benchmarks.md`` from
  ``benchmarks/results/*.json`` (see ``benchmarks/tables.py``).
- A reference to a public alias (``tsrnn.layers.LSTM``) resolves to the page of the
  name the object is documented under (``tsrnn.LSTM``).
"""

from pathlib import Path

import api_coverage
from sphinx.errors import ExtensionError


def _check_api(app):
    source = (Path(app.srcdir) / "api.rst").read_text()
    missing = api_coverage.undocumented(source)
    if missing:
        raise ExtensionError(
            "public names without a page in docs/api.rst (add them to an autosummary "
            f"block, or mark their module internal in docs/_ext/api_coverage.py): {missing}"
        )


def _write_benchmarks(app):
    from benchmarks.tables import markdown

    target = Path(app.srcdir) / "_generated" / "benchmarks.md"
    target.parent.mkdir(exist_ok=True)
    text = markdown()
    # Rewriting an unchanged file would make Sphinx re-read the page on every build.
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def _builder_inited(app):
    _check_api(app)
    _write_benchmarks(app)


def _resolve_alias(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    if not hasattr(app, "tsrnn_aliases"):
        app.tsrnn_aliases = api_coverage.Aliases((Path(app.srcdir) / "api.rst").read_text())
    target = node.get("reftarget", "")
    candidates = [target]
    module, cls = node.get("py:module"), node.get("py:class")
    # A short name in a docstring is relative to its class and module.
    if module and cls:
        candidates.append(f"{module}.{cls}.{target}")
    if module:
        candidates.append(f"{module}.{target}")
    for candidate in candidates:
        if not candidate.startswith("tsrnn"):
            continue
        documented = app.tsrnn_aliases.resolve(candidate)
        if documented is not None:
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], documented, node, contnode
            )
    return None


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing setters (set_fit_request, ...) are generated per
    # class; their docstrings point into scikit-learn's own documentation.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    """Register the extension's event handlers."""
    app.connect("builder-inited", _builder_inited)
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-skip-member", _skip_member)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
