"""costlab check and costlab baseline: costs held to budgets and to a committed baseline."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import click

from .common import analyze_all, emit, report_coverage, write_output
from .errors import CheckFailed
from .options import PERCENT, analysis_options, depth_option, format_option, output_option, strict_option


@click.command()
@click.option("--config", type=click.Path(dir_okay=False), help="costlab.toml or pyproject.toml (default: found from here up).")
@format_option(["table", "json", "github"], help="github: workflow annotations (::error file=...,line=...::) for failed limits.")
@click.option("--allow-code", is_flag=True,
              help="Let budgets name Python code (package.module:factory); refused otherwise. See README 'Code references in config files'.")
@strict_option()
@output_option()
def check(config: Optional[str], fmt: str, allow_code: bool, strict: bool, output: Optional[str]) -> None:
    """Hold models to their budgets: exit 0 all pass, 1 a limit is exceeded, 2 a config error."""
    from pathlib import Path

    from ..budgets import find_config, run_checks
    from ..render.check import check_json, check_table, github_annotations

    path = Path(config) if config else find_config(Path.cwd())
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())  # annotations name files relative to the repository root
    analyses: List[Any] = []
    outcomes = run_checks(path, allow_code=allow_code, analyses=analyses)
    shown = {"table": lambda: check_table(outcomes), "json": lambda: check_json(outcomes, str(path)),
             "github": lambda: github_annotations(outcomes, str(path))}[fmt]()
    emit(shown, output)
    report_coverage(analyses, strict)
    if not all(o.ok for o in outcomes):
        raise CheckFailed()


@click.group()
def baseline() -> None:
    """Save a model's costs, and review changes against them."""


@baseline.command("save")
@click.argument("source")
@output_option(required=True, help="Baseline file to write (JSON).")
@analysis_options(convention=False, symbolic=False)
def baseline_save(source: str, output: str, input_shape: Any, batch: Any, mode: str) -> None:
    """Write SOURCE's analysis (costlab.analysis/1 JSON, in MACs) as a baseline to commit.

    A baseline holds exact numbers: --input and --batch take numbers.
    """
    from ..baseline import save_text

    (analysis,) = analyze_all([source], input_shape, batch, mode, "macs")
    write_output(output, save_text(analysis))
    t = analysis.total()
    click.echo(f"saved {analysis.model}: {t.macs:,} MACs, {t.params:,} params -> {output}")


def _delta_records(deltas: List[Any]) -> List[Dict[str, Any]]:
    from dataclasses import asdict

    return [asdict(d) for d in deltas]


@baseline.command("diff")
@click.argument("baseline_file", type=click.Path(dir_okay=False))
@click.argument("source")
@click.option("--max-growth", type=PERCENT, default="0%", show_default=True, help="Allowed growth of total MACs and params (e.g. 2%).")
@depth_option(default=1, help="Compare blocks at this depth.")
@format_option(["table", "json", "markdown"], help="json: costlab.baseline-diff/1 with every block before and after.")
@output_option()
def baseline_diff(baseline_file: str, source: str, max_growth: Any, depth: int, fmt: str, output: Optional[str]) -> None:
    """Per-block and total changes of SOURCE against a saved baseline; exit 1 past --max-growth.

    SOURCE is analysed at the baseline's input, batch and mode (so no --input/--batch/--mode here).
    """
    from pathlib import Path

    from ..baseline import diff, growth_failures, load_baseline, review_lines
    from ..shapes import format_shape

    doc = load_baseline(Path(baseline_file))
    shape = tuple(doc["input"])
    (analysis,) = analyze_all([source], shape, doc["batch"], doc["mode"], "macs")
    deltas = diff(doc, analysis, depth)
    t = analysis.total()
    failures = growth_failures(doc, analysis, max_growth)
    if fmt == "json":
        from ..document import value
        from ..render.records import document

        text = document("costlab.baseline-diff/1", baseline=baseline_file, model=source, input=list(doc["input"]),
                        batch=doc["batch"], mode=doc["mode"], ok=not failures,
                        totals={"macs_before": doc["totals"]["macs"], "macs_after": value(t.macs),
                                "params_before": doc["totals"]["params"], "params_after": t.params},
                        blocks=_delta_records(deltas), failures=failures)
    else:
        from ..render.table import markdown_cell

        lines = review_lines(deltas)
        bullet = "- " if fmt == "markdown" else "  "
        out = [f"{source} vs baseline {baseline_file} ({doc['model']}, input {format_shape(shape)}, mode {doc['mode']}):"]
        out += [f"{bullet}{line}" for line in lines] if lines else [f"{bullet}no change"]
        out.append(f"{bullet}total: {doc['totals']['macs']:,} -> {int(t.macs):,} MACs; "
                   f"{doc['totals']['params']:,} -> {t.params:,} params")
        out += [f"FAIL: {failure}" for failure in failures]
        if fmt == "markdown":  # names come from the user's files: shown as text, never as Markdown or HTML
            out = [line[:2] + markdown_cell(line[2:]) if line.startswith("- ") else markdown_cell(line) for line in out]
        text = "\n".join(out) + "\n"
    emit(text, output)
    if failures:
        raise CheckFailed()
