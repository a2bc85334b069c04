"""Fail unless a wheel holds exactly the packages of the source tree.

Usage: ``python .ci/wheel_packages.py WHEEL ROOT``. The source tree's packages are
the folders under ``tsrnn/`` with an ``__init__.py``, plus the top-level ``data/``
folder, which ships as ``tsrnn.data``.
"""

import sys
import zipfile
from pathlib import Path


def wheel_packages(wheel: str) -> set[str]:
    """Dotted names of the packages (folders with ``__init__.py``) inside a wheel."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    suffix = "/__init__.py"
    return {n[: -len(suffix)].replace("/", ".") for n in names if n.endswith(suffix)}


def source_packages(root: Path) -> set[str]:
    """Dotted names of the packages of the source tree."""
    found = {
        ".".join(p.parent.relative_to(root).parts)
        for p in (root / "tsrnn").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    return found | {"tsrnn.data"}


if __name__ == "__main__":
    wheel, root = sys.argv[1], Path(sys.argv[2])
    in_wheel, in_tree = wheel_packages(wheel), source_packages(root)
    if in_wheel != in_tree:
        print(f"missing from the wheel: {sorted(in_tree - in_wheel)}")
        print(f"only in the wheel: {sorted(in_wheel - in_tree)}")
        sys.exit(1)
    print(f"wheel packages match the source tree ({len(in_tree)}): {', '.join(sorted(in_tree))}")
