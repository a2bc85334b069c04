"""Print the versions pyproject.toml declares, for the CI jobs that test them.

``pins [EXTRA ...]``
    ``name==lowest`` for every runtime dependency and every requirement of the named
    optional groups, as pip constraints (without ``[extras]``, which constraints
    refuse). The minimum-versions job (.ci/min_versions.sh) installs exactly these, so
    the tested versions are read from pyproject.toml and cannot drift from it. A
    requirement that is not ``name>=X`` is an error: it makes no claim that a
    lowest-versions job could test.
``oldest-python``
    The ``requires-python`` lower bound (``3.10``).
``newest-python``
    The newest ``Programming Language :: Python :: 3.X`` classifier.

Usage: ``python3 .ci/declared_versions.py pins plot dask test > pins.txt`` (Python >= 3.11,
for tomllib; CI runs it with the host's python3).
"""

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# name, optional [extras], the lower bound; nothing else (no upper bound, no marker).
REQUIREMENT = re.compile(r"^([A-Za-z0-9._-]+)(\[[A-Za-z0-9._,-]+\])?>=([0-9][0-9A-Za-z.]*)$")
CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.[0-9]+)$")


def _project() -> dict:
    return tomllib.loads(PYPROJECT.read_text())["project"]


def lowest_pins(extras: list[str]) -> list[str]:
    """Return ``name==lowest`` for the dependencies and the given extras."""
    project = _project()
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise SystemExit(f"pyproject.toml has no optional group {unknown}: {list(optional)}")
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += optional[extra]
    pins = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement.replace(" ", ""))
        if match is None:
            raise SystemExit(
                f"pyproject.toml requirement {requirement!r} is not of the form 'name>=X': "
                "the minimum-versions job cannot pin it"
            )
        name, _, lowest = match.groups()
        pin = f"{name}=={lowest}"
        # The same package twice (an extra repeating a runtime dependency) must agree.
        if pins.setdefault(name.lower(), pin) != pin:
            raise SystemExit(
                f"pyproject.toml gives {name} two lower bounds: {pins[name.lower()]}, {pin}"
            )
    return list(pins.values())


def oldest_python() -> str:
    """Return the ``requires-python`` lower bound, e.g. ``3.10``."""
    requires = _project()["requires-python"].replace(" ", "")
    match = re.fullmatch(r">=(3\.[0-9]+)", requires)
    if match is None:
        raise SystemExit(f"requires-python {requires!r} is not of the form '>=3.X'")
    return match.group(1)


def newest_python() -> str:
    """Return the newest Python that the classifiers declare, e.g. ``3.13``."""
    versions = [
        match.group(1)
        for classifier in _project().get("classifiers", [])
        if (match := CLASSIFIER.match(classifier))
    ]
    if not versions:
        raise SystemExit("pyproject.toml declares no 'Programming Language :: Python :: 3.X'")
    return max(versions, key=lambda version: int(version.split(".")[1]))


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "pins":
        print("\n".join(lowest_pins(args)))
    elif command == "oldest-python" and not args:
        print(oldest_python())
    elif command == "newest-python" and not args:
        print(newest_python())
    else:
        raise SystemExit(__doc__)
