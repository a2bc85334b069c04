#!/usr/bin/env bash
# Newest-Python job: the test suite on the newest Python that pyproject.toml's
# classifiers declare, with the newest versions of every dependency.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
"$root/.ci/suite_in_venv.sh" "$(python3 "$root/.ci/declared_versions.py" newest-python)" \
    "$work" --upgrade
