#!/usr/bin/env bash
# Minimum-versions job: the test suite on the oldest Python that pyproject.toml declares
# (requires-python), with exactly the lowest versions it declares of every dependency
# and of the plot, dask and test extras (pins read from pyproject.toml by
# .ci/declared_versions.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
python3 "$root/.ci/declared_versions.py" pins plot dask test > "$work/lowest.txt"
echo "lowest declared versions:" $(cat "$work/lowest.txt")
# --constraint: the pins bind the packages that tsrnn[test] pulls in, and only those.
"$root/.ci/suite_in_venv.sh" "$(python3 "$root/.ci/declared_versions.py" oldest-python)" \
    "$work" --constraint "$work/lowest.txt"
