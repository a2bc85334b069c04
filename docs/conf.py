"""Sphinx configuration of the tsrnn documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (see README).
Code in the user guide is checked with ``-b doctest``. The example gallery runs
``examples/`` in their fast mode (``TSRNN_EXAMPLE_FAST=1``).
"""

import os
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE / "_ext")]

import api_coverage  # noqa: E402

import tsrnn  # noqa: E402

project = "tsrnn"
author = "the tsrnn developers"
copyright = "the tsrnn developers, BSD 3-Clause"
release = tsrnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "tsrnn_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# _generated/ holds pages included by others (the benchmark tables).
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# Warnings are errors in CI (-W); every unresolved reference to tsrnn's own objects is
# one. References to other libraries' objects (numpy, scikit-learn, ...) are not
# checked: the build runs offline, without intersphinx inventories.
nitpicky = True
# Internal modules (docs/_ext/api_coverage.py: INTERNAL) have no pages either.
nitpick_ignore_regex = [
    (r"py:.*", r"(?!tsrnn\b).*"),
    (r"py:.*", rf"({'|'.join(map(re.escape, api_coverage.INTERNAL))})\b.*"),
]
default_role = "py:obj"

autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_class_members_toctree = False

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"tsrnn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

doctest_global_setup = """
import os
os.environ["TSRNN_EXAMPLE_FAST"] = "1"
"""

# The gallery runs a copy of examples/, so that the plots the examples save next to
# themselves land in the build folder, not in the checkout.
GALLERY_SOURCE = HERE / "_build" / "examples-src"


def _copy_examples():
    GALLERY_SOURCE.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "examples").iterdir():
        if path.suffix == ".py" or path.name == "GALLERY_HEADER.rst":
            target = GALLERY_SOURCE / path.name
            # Unchanged files keep their time stamp, so the gallery does not rerun them.
            if not target.exists() or target.read_bytes() != path.read_bytes():
                shutil.copy2(path, target)


_copy_examples()
os.environ["TSRNN_EXAMPLE_FAST"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

sphinx_gallery_conf = {
    "examples_dirs": str(GALLERY_SOURCE),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/[^_][^/]*\.py$",
    "ignore_pattern": r"_common\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
}
