"""costlab check and costlab baseline: costs held to budgets and to a committed baseline."""

from __future__ import annotations

from typing import Any, Optional

import click

from .common import analyze_all
from .errors import CheckFailed
from .options import PERCENT, analysis_options, depth_option, format_option, output_option


@click.command()
@click.option("--config", type=click.Path(dir_okay=False), help="costlab.toml or pyproject.toml (default: found from here up).")
@format_option(["table", "json", "github"], help="github: workflow annotations (::error file=...,line=...::) for failed limits.")
def check(config: Optional[str], fmt: str) -> None:
    """Hold models to their budgets: exit 0 all pass, 1 a limit is exceeded, 2 a config error."""
    from pathlib import Path

    from ..budgets import find_config, run_checks
    from ..render.check import check_json, check_table, github_annotations

    path = Path(config) if config else find_config(Path.cwd())
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())  # annotations name files relative to the repository root
    outcomes = run_checks(path)
    shown = {"table": lambda: check_table(outcomes), "json": lambda: check_json(outcomes, str(path)),
             "github": lambda: github_annotations(outcomes, str(path))}[fmt]()
    click.echo(shown, nl=False)
    if not all(o.ok for o in outcomes):
        raise CheckFailed()


@click.group()
def baseline() -> None:
    """Save a model's costs, and review changes against them."""


@baseline.command("save")
@click.argument("source")
@output_option(required=True, help="Baseline file to write (JSON).")
@analysis_options(convention=False)
def baseline_save(source: str, output: str, input_shape: Any, batch: Any, mode: str) -> None:
    """Write SOURCE's analysis (costlab.analysis/1 JSON) as a baseline to commit."""
    from ..files import write_atomic
    from ..render.data import to_json

    (analysis,) = analyze_all([source], input_shape, batch, mode, "macs")
    write_atomic(output, to_json([analysis]))
    t = analysis.total()
    click.echo(f"saved {analysis.model}: {t.macs:,} MACs, {t.params:,} params -> {output}")


@baseline.command("diff")
@click.argument("baseline_file", type=click.Path(dir_okay=False))
@click.argument("source")
@click.option("--max-growth", type=PERCENT, default="0%", show_default=True, help="Allowed growth of total MACs and params (e.g. 2%).")
@depth_option(default=1, help="Compare blocks at this depth.")
def baseline_diff(baseline_file: str, source: str, max_growth: Any, depth: int) -> None:
    """Per-block and total changes of SOURCE against a saved baseline; exit 1 past --max-growth."""
    from pathlib import Path

    from ..baseline import diff, growth_failures, load_baseline, review_lines
    from ..shapes import format_shape

    doc = load_baseline(Path(baseline_file))
    shape = tuple(doc["input"])
    (analysis,) = analyze_all([source], shape, doc["batch"], doc["mode"], "macs")
    lines = review_lines(diff(doc, analysis, depth))
    t = analysis.total()
    click.echo(f"{source} vs baseline {baseline_file} ({doc['model']}, input {format_shape(shape)}, mode {doc['mode']}):")
    click.echo("\n".join(f"  {line}" for line in lines) if lines else "  no change")
    click.echo(f"  total: {doc['totals']['macs']:,} -> {int(t.macs):,} MACs; {doc['totals']['params']:,} -> {t.params:,} params")
    failures = growth_failures(doc, analysis, max_growth)
    for failure in failures:
        click.echo(f"FAIL: {failure}")
    if failures:
        raise CheckFailed()
