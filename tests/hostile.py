"""Helpers for hostile-input tests: run the CLI and hold it to the error discipline.

The only acceptable outcomes: exit 0, or exit 1/2 with exactly one error line on stderr (click's own
usage errors print their 'Usage:'/'Try' hint lines around one 'Error:' line), never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[1]
CASES: Counter = Counter()  # generated and corpus cases run, by suite: printed in the terminal summary


def count(suite: str, n: int = 1) -> None:
    """Record ``n`` cases run by ``suite`` (shown at the end of the test session)."""
    CASES[suite] += n


def error_lines(stderr: str) -> list:
    """stderr's lines without click's usage hints."""
    lines = [line for line in stderr.split("\n") if line.strip()]  # "\n" only: names may hold other separators
    return [line for line in lines if not line.startswith(("Usage:", "Try '"))]


def check_outcome(code: int, stderr: str, exception: Optional[BaseException] = None, allowed: Iterable[int] = (0, 1, 2),
                  what: str = "") -> None:
    """Assert the error discipline for one run."""
    assert "Traceback" not in stderr, f"{what}: traceback\n{stderr}"
    if exception is not None and not isinstance(exception, SystemExit):
        raise AssertionError(f"{what}: {type(exception).__name__}: {exception}") from exception
    assert code in tuple(allowed), f"{what}: exit {code}, expected one of {tuple(allowed)}\n{stderr}"
    if code != 0:
        lines = error_lines(stderr)
        assert len(lines) == 1, f"{what}: exit {code} needs exactly one error line on stderr, got {lines!r}"


def invoke(*args: str, allowed: Iterable[int] = (0, 1, 2), cwd: Optional[Path] = None) -> Result:
    """Run the CLI in-process (click's CliRunner) and check the error discipline."""
    import os

    from costlab.cli import main

    runner = CliRunner()
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(main, list(args), catch_exceptions=True)
    finally:
        os.chdir(old)
    check_outcome(result.exit_code, result.stderr, result.exception, allowed, " ".join(args))
    return result


def run_process(args: Sequence[str], cwd: Optional[Path] = None, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh interpreter (for crashes a test process must survive: segfaults, signals)."""
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-c", "from costlab.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
