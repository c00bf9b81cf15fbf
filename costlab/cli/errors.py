"""How the command line fails: exit codes, and the one-line error a user sees.

Exit codes (also in README "Exit codes"):

- ``0`` OK: the command did what was asked.
- ``1`` a check failed: a budget (``check``), a baseline's allowed growth (``baseline diff``), a
  verification mismatch or ``--strict`` coverage (``verify``).
- ``2`` bad usage or bad input: one line naming the file, the layer or key, and the field.
- ``3`` an internal error (a bug in costlab): one line saying so and how to report it; the traceback
  only with ``--debug`` or ``COSTLAB_DEBUG=1``.
- ``130`` interrupted (Ctrl-C), quietly.
"""

from __future__ import annotations

from typing import Any

import click

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class InputError(click.ClickException):
    """Bad input (a spec, a file, a value): one line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"costlab: error: {self.format_message()}", err=True)


class CheckFailed(SystemExit):
    """A check, budget or verification failed (its output is already printed): exit code 1."""

    def __init__(self) -> None:
        super().__init__(EXIT_CHECK_FAILED)
