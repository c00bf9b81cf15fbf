"""The ``costlab`` command line (click): one module per command group.

- ``analyze.py``: list, analyze, compare
- ``verify.py``: verify
- ``charts.py``: chart, report
- ``profile.py``: profile
- ``budgets.py``: check, baseline save / diff
- ``sweep.py``: sweep
- ``options.py``: every shared option and parameter type, declared once
- ``errors.py``: exit codes (0 ok, 1 a check failed, 2 bad usage or input, 3 internal error)

Commands import their heavy dependencies (torch, sympy, matplotlib) only when they run.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import CostlabError
from .analyze import analyze, compare, list_command
from .budgets import baseline, check
from .charts import chart, report
from .errors import InputError
from .profile import profile
from .sweep import sweep
from .verify import verify


class Group(click.Group):
    """Turns costlab's own errors into exit code 2 with one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CostlabError as e:
            raise InputError(str(e)) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costlab")
def main() -> None:
    """costlab: what each layer of a CNN costs (MACs, params, activations), and why."""


for _command in (list_command, analyze, compare, verify, chart, report, profile, check, baseline, sweep):
    main.add_command(_command)

__all__ = ["main"]
