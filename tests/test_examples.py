"""Every example runs (in fast mode) so none rots."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(
    p for p in (Path(__file__).parents[1] / "examples").glob("*.py") if not p.name.startswith("_")
)


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = dict(os.environ, TSRNN_EXAMPLE_FAST="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(script.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.stdout.strip(), "the example printed nothing"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_has_a_gallery_title(script):
    # The documentation's gallery (sphinx-gallery) titles each page with the first line
    # of the docstring, underlined with '='; without it the -W docs build fails.
    docstring = ast.get_docstring(ast.parse(script.read_text()))
    assert docstring, f"{script.name} has no docstring"
    title, underline = docstring.splitlines()[:2]
    assert title.strip() and underline == "=" * len(title), f"{script.name}: {title!r}"
