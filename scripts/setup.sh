#!/usr/bin/env bash
# Create .venv (inside the repo, git-ignored) and install costlab with its torch and dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[torch,dev]" 2>&1 \
    | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import costlab, torch, torchvision, fvcore" # fail loudly if the install is incomplete
