#!/usr/bin/env bash
# The test suite on another Python in a fresh venv: tsrnn installed from the checkout
# with its test extras, then the README test command's pytest part.
# Usage: .ci/suite_in_venv.sh PYTHON_VERSION WORKDIR [pip install arguments ...]
# (.ci/min_versions.sh and .ci/newest_python.sh pass their pins or --upgrade.)
#
# PyTorch is not installed: it is the cross-check reference of the tests, not a
# dependency, and this machine holds its CPU wheel only for the main job's Python
# (PyPI's wheels for other Pythons pull gigabytes of CUDA libraries). The torch and
# Keras-on-torch cross-checks run in the main job; here they are skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$1"
mkdir -p "$2"
work="$(cd "$2" && pwd)"  # absolute: the job later runs from the checkout's root
shift 2

find_python() {
    # python3.X on PATH (a pyenv shim there may name a version it cannot run, so each
    # candidate must run and report that version), else pyenv's newest patch release.
    local candidate
    local pyenv_pythons
    pyenv_pythons="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/python \
        2>/dev/null | sort -rV)"
    for candidate in "python$version" $pyenv_pythons; do
        if [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
            command -v "$candidate"
            return
        fi
    done
    echo "error: no Python $version interpreter (python$version on PATH, or" \
        "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version.*); install it, e.g." \
        "'pyenv install $version'" >&2
    exit 1
}

python="$(find_python)"
echo "=== install on $python ($(date -u +%H:%M:%S))"
mkdir -p "$work"
# Disk: CI machines have run out of it, so the venv and caches go when the job ends.
trap 'rm -rf "$work/venv" "$work/numba-cache" "$work/pytest" || true' EXIT
"$python" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
# --only-binary: a pin without a wheel for this Python must fail here, not turn into
# a source build of numpy or numba. Editable, as in the README's test command: the
# tests import tsrnn from the checkout (pytest's pythonpath), where the tsrnn.data
# package exists only through the install's mapping of data/ (setup.py). The wheel as
# users get it is checked by .ci/wheel_check.sh.
"$py" -m pip install -q --only-binary=:all: "$@" -e "$root[test]"
"$py" - <<'PY'
import importlib.metadata as metadata
import platform

names = ["numba", "llvmlite", "numpy", "scipy", "pandas", "xarray", "scikit-learn", "tqdm",
         "threadpoolctl", "matplotlib", "dask", "distributed", "pytest", "hypothesis", "keras"]
print("Python", platform.python_version(), "with",
      ", ".join(f"{name} {metadata.version(name)}" for name in names))
PY
pytest_command="$(python3 "$root/.ci/readme_commands.py" test | sed 's/^.*&& *//')"
# Its own numba cache and pytest temporary folder, so that two of these jobs (and the
# main job) can run at once on one checkout.
cd "$root"
echo "=== $pytest_command ($(date -u +%H:%M:%S))"
PATH="$work/venv/bin:$PATH" NUMBA_CACHE_DIR="$work/numba-cache" \
    bash -euo pipefail -c "$pytest_command -p no:cacheprovider --basetemp '$work/pytest' ${SUITE_SKIP:-}"
