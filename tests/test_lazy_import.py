"""``import tsrnn`` and ``tsrnn --help`` stay light: public names load on first use."""

import json
import subprocess
import sys

import pytest

import tsrnn

HEAVY = ("numba", "sklearn", "pandas", "scipy")


def modules_loaded_by(code):
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(list(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_tsrnn_loads_nothing_heavy():
    loaded = modules_loaded_by("import tsrnn; tsrnn.__version__")
    assert [m for m in HEAVY + ("numpy", "tsrnn.layers") if m in loaded] == []


def test_help_loads_nothing_heavy():
    code = "import contextlib, io\nfrom tsrnn.cli import main\n"
    code += "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
    code += "    main(['forecast', '--help'])"
    assert [m for m in HEAVY if m in modules_loaded_by(code)] == []


@pytest.mark.parametrize("name", tsrnn.__all__)
def test_every_public_name_resolves(name):
    value = getattr(tsrnn, name)
    assert name in dir(tsrnn)
    assert name == "__version__" or value.__name__ == name


def test_submodules_remain_attributes_and_typos_raise():
    assert tsrnn.datasets.load_airline().size == 144
    with pytest.raises(AttributeError, match="module 'tsrnn' has no attribute 'LTSM'"):
        _ = tsrnn.LTSM
