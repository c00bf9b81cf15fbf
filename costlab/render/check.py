"""Budget check results as a table, JSON, or GitHub workflow annotations."""

from __future__ import annotations

from typing import Any, List

from tabulate import tabulate

from ..numbers import format_int, format_si


def check_table(outcomes: List[Any]) -> str:
    """Every limit with its measured value, headroom and pass/fail, then a summary line."""
    rows = []
    for o in outcomes:
        where = o.block or "(total)"
        if o.limit.pattern:
            where = f"{o.block} ({o.limit.pattern})"
        share = f"{100 * o.measured / o.limit.maximum:.1f}%" if o.limit.maximum else ""
        rows.append([o.limit.model, where, o.limit.quantity, format_int(o.measured), format_si(o.limit.maximum),
                     share, format_si(o.headroom), "pass" if o.ok else "FAIL"])
    failed = sum(not o.ok for o in outcomes)
    table = tabulate(rows, ["model", "where", "limit", "measured", "budget", "used", "headroom", ""], disable_numparse=True)
    return f"{table}\n{len(outcomes)} limits, {failed} failed\n"


def check_json(outcomes: List[Any], config: str) -> str:
    """{"schema": "costlab.check/1", "config", "ok", "limits": [...]} with exact integers."""
    from ..budgets import outcome_dict
    from .data import dumps

    return dumps({"schema": "costlab.check/1", "config": config, "ok": all(o.ok for o in outcomes),
                  "limits": [outcome_dict(o) for o in outcomes]})


def github_annotations(outcomes: List[Any], config: str) -> str:
    """'::error file=pyproject.toml,line=12,title=costlab budget::...' for each failed limit."""
    lines = []
    where = _property(config)
    for o in outcomes:
        if not o.ok:
            message = o.describe().replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            lines.append(f"::error file={where},line={o.limit.line},title=costlab budget::{message}")
    failed = sum(not o.ok for o in outcomes)
    lines.append(f"costlab check: {len(outcomes)} limits, {failed} failed")
    return "\n".join(lines) + "\n"



def _property(text: str) -> str:
    """A workflow-command property value, escaped as GitHub's toolkit does (% CR LF : ,)."""
    for raw, escaped in (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C")):
        text = text.replace(raw, escaped)
    return text
