"""How the command line fails: exit codes, and the one line a user sees instead of a traceback.

Exit codes (also in README "Exit codes"):

- ``0`` OK: the command did what was asked.
- ``1`` a check failed: a budget (``check``), a baseline's allowed growth (``baseline diff``), a
  verification mismatch or ``--strict`` coverage (``verify``).
- ``2`` bad usage or bad input: one line naming the file, the layer or key, and the field (also an
  output file that cannot be written, and a missing torch extra).
- ``3`` an internal error (a bug in costlab): one line saying so and how to report it; the traceback
  only with ``costlab --debug ...`` or ``COSTLAB_DEBUG=1``.
- ``130`` interrupted (Ctrl-C), quietly; ``143`` terminated (SIGTERM), after cleaning up.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, NoReturn, Optional

import click

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

TORCH_EXTRA = ("torch", "torchvision", "fvcore")
REPORT_HOW = ("this is a bug in costlab: please report it with the command line, and the traceback "
              "that `costlab --debug ...` (or COSTLAB_DEBUG=1) prints")


class InputError(click.ClickException):
    """Bad input (a spec, a file, a value): one line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"costlab: error: {self.format_message()}", err=True)


class CheckFailed(SystemExit):
    """A check, budget or verification failed (its output is already printed): exit code 1."""

    def __init__(self) -> None:
        super().__init__(EXIT_CHECK_FAILED)


def one_line_usage(error: click.UsageError) -> click.ClickException:
    """A usage error (bad option, missing argument) as one line that says where help is (a bare
    ``costlab`` or ``costlab baseline`` still prints its help)."""
    if isinstance(error, getattr(click.exceptions, "NoArgsIsHelpError", ())):
        return error
    where = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
    return InputError(f"{error.format_message()}{where}")


def debug_enabled(ctx: Optional[click.Context] = None) -> bool:
    """--debug on the command line, or COSTLAB_DEBUG set to anything but '', '0' or 'false'."""
    if ctx is not None and ctx.find_root().meta.get("costlab.debug"):
        return True
    return os.environ.get("COSTLAB_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def missing_extra(error: ImportError) -> Optional[str]:
    """The torch-extra module an ImportError is about, or None when it is about something else."""
    name = (error.name or "").split(".")[0]
    return name if name in TORCH_EXTRA else None


def torch_extra_error(command: str, error: ImportError) -> InputError:
    """One line: which command needs the torch extra, and how to install it."""
    return InputError(f"{command} needs the torch extra (pip install 'costlab[torch]'): {error}")


def os_error_line(error: OSError) -> str:
    """An OSError as one line naming the file: '/proc/version: Permission denied'."""
    name = error.filename if error.filename is not None else ""
    reason = error.strerror or str(error)
    return f"{name}: {reason}" if name else reason


def internal_error(ctx: Optional[click.Context], error: BaseException) -> NoReturn:
    """Exit 3 with one line (and the traceback under --debug / COSTLAB_DEBUG=1)."""
    if debug_enabled(ctx):
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    message = str(error).splitlines()[0] if str(error) else ""
    what = f"{type(error).__name__}: {message}" if message else type(error).__name__
    click.echo(f"costlab: internal error ({what}); {REPORT_HOW}", err=True)
    raise SystemExit(EXIT_INTERNAL)


def translate(ctx: click.Context, error: BaseException) -> NoReturn:
    """Map an exception that escaped a command to costlab's exit codes (see the module docstring)."""
    from ..errors import CostlabError

    command = ctx.invoked_subcommand or ctx.info_name or "costlab"
    if isinstance(error, CostlabError):
        raise InputError(str(error)) from None
    if isinstance(error, KeyboardInterrupt):
        raise SystemExit(EXIT_INTERRUPTED) from None
    if isinstance(error, ImportError) and missing_extra(error):
        raise torch_extra_error(command, error) from None
    if isinstance(error, RecursionError):
        raise InputError("the input nests too deeply to analyse (recursion limit reached)") from None
    if isinstance(error, OSError):
        if error.errno == errno.EPIPE:  # `costlab ... | head`: click ends quietly
            raise error
        raise InputError(os_error_line(error)) from None
    if isinstance(error, ValueError) and "null byte" in str(error):  # click.Path and os calls on "a\0b"
        raise InputError("a path argument contains a NUL byte") from None
    internal_error(ctx, error)
