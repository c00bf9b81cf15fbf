#!/usr/bin/env bash
# Install everything, then lint (ruff), type-check (mypy) and run the whole test suite.
# pytest's exit code 5 (no tests collected) is a failure. SKIP_LINT=1 skips ruff and mypy.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
if [ "${SKIP_LINT:-0}" != "1" ]; then
    .venv/bin/python -m ruff check costlab tests scripts benchmarks || exit 1
    .venv/bin/python -m mypy || exit 1
fi
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
    exit 1
fi
exit "$status"
