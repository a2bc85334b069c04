#!/usr/bin/env bash
# Fresh virtual environment, non-editable install of this checkout, then the README's
# main-job command, run outside the checkout so only the installed package is used.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(mktemp -d)/venv"
python -m venv "$venv"
"$venv/bin/python" -m pip install -q "$root[plot]"
cd "$(mktemp -d)"
PATH="$venv/bin:$PATH" tsrnn forecast --horizon 24 --plot forecast.png
test -s forecast.png
echo "main job: OK (fresh venv, installed package)"
