"""The ``costlab`` command line (click): one module per command group.

- ``analyze.py``: list, analyze, compare
- ``verify.py``: verify
- ``charts.py``: chart, report
- ``profile.py``: profile
- ``budgets.py``: check, baseline save / diff
- ``sweep.py``: sweep (one axis, or a grid of resolutions x widths x batch sizes)
- ``batch.py``: batch (many sources x settings into one table, resumable, on Dask if asked)
- ``llm.py``: phases (transformers: prefill, decode, KV cache)
- ``options.py``: every shared option and parameter type, declared once
- ``errors.py``: exit codes (0 ok, 1 a check failed, 2 bad usage or input, 3 internal error)

Commands import their heavy dependencies (torch, sympy, matplotlib) only when they run.
"""

from __future__ import annotations

import gc
import warnings
from typing import Any, List, Optional, Sequence

import click

from .errors import EXIT_TERMINATED, one_line_usage, translate

# Each command's module is imported only when that command runs (start-up time is a feature):
# command name -> (module in costlab.cli, function name), in the order --help lists them.
COMMANDS = {
    "list": ("analyze", "list_command"), "analyze": ("analyze", "analyze"), "compare": ("analyze", "compare"),
    "verify": ("verify", "verify"), "chart": ("charts", "chart"), "report": ("charts", "report"), "profile": ("profile", "profile"),
    "check": ("budgets", "check"), "baseline": ("budgets", "baseline"), "sweep": ("sweep", "sweep"), "batch": ("batch", "batch"),
    "train": ("train", "train"),
    "phases": ("llm", "phases"),
}

# Library notices that say nothing about the user's model: torch's deprecation of torch.jit.script
# (fvcore and torchvision call it while verify traces) on every run.
QUIET_WARNINGS = (r"`torch\.jit\.script` is deprecated",)


class Group(click.Group):
    """Every error a command raises becomes one line and an exit code (cli/errors.py); never a traceback.
    Commands are loaded lazily from COMMANDS."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return list(COMMANDS) + [name for name in super().list_commands(ctx) if name not in COMMANDS]

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name in COMMANDS and name not in self.commands:
            import importlib

            module, attribute = COMMANDS[name]
            self.add_command(getattr(importlib.import_module(f"{__name__}.{module}"), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        previous = _terminate_as_exit()
        try:
            with warnings.catch_warnings():
                for message in QUIET_WARNINGS:
                    warnings.filterwarnings("ignore", message=message, category=FutureWarning)
                return super().invoke(ctx)
        except click.UsageError as e:
            raise one_line_usage(e) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except (Exception, KeyboardInterrupt) as e:  # every other exception becomes an exit code
            translate(ctx, e)
        finally:
            _restore(previous)

    def main(self, args: Optional[Sequence[str]] = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command line. With ``args=None`` in standalone mode (the ``costlab`` script, ``python -m
        costlab``) it is the process's own command line, which click ends with ``sys.exit``."""
        try:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        finally:
            if args is None and standalone_mode:
                # The process ends right after: with every object left frozen (never collected),
                # interpreter shutdown skips its full garbage collections, about a tenth of the
                # start-up time of a short command. atexit handlers, thread joins and flushes still run.
                gc.freeze()

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            raise one_line_usage(e) from None


def _terminate_as_exit() -> Any:
    """SIGTERM raises SystemExit(143), so cleanup (a temporary output file) runs as on Ctrl-C."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(EXIT_TERMINATED)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return None


def _restore(previous: Any) -> None:
    if previous is not None:
        import signal

        signal.signal(signal.SIGTERM, previous)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """costlab's installed version (or a note when it runs from a source tree that is not installed)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("costlab")
    except PackageNotFoundError:
        text = "unknown (not installed: running from a source tree)"
    click.echo(f"costlab, version {text}")
    ctx.exit()


@click.group("costlab", cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error (also: COSTLAB_DEBUG=1).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """costlab: what each layer of a CNN costs (MACs, params, activations), and why.

    Exit codes: 0 ok, 1 a check failed, 2 bad usage or input, 3 internal error.
    """
    ctx.meta["costlab.debug"] = debug


__all__ = ["main"]
