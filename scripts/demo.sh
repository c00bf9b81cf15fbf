#!/usr/bin/env bash
# Install everything and run a real analysis with the built-in models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
set -x
.venv/bin/costlab compare naive bottleneck
.venv/bin/costlab compare fc-head gap-head
.venv/bin/costlab analyze googlenet --depth 1
