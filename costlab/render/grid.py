"""Grids of settings as text: every point (small grids, CSV, JSON), budget answers and Pareto fronts."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from ..numbers import format_int, format_si

HEADERS = {"batch": "batch", "resolution": "input", "width": "width", "macs": "MACs", "params": "params", "activations": "activations"}


def _table(rows: List[List[str]], headers: List[str], fmt: str) -> str:
    from .plaintable import tabulate

    return tabulate(rows, headers, tablefmt="github" if fmt == "markdown" else "simple", disable_numparse=True) + "\n"


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name == "resolution":
        return f"{int(value)}x{int(value)}"
    if name == "width":
        return f"{float(value):g}"
    if name == "batch":
        return str(int(value))
    return f"{format_si(int(value))} ({format_int(int(value))})"


def axis_text(values: np.ndarray, name: str) -> str:
    """'224..512 (10 values)' or '224' for one value."""
    shown = [_cell(name, v) if name != "resolution" else str(int(v)) for v in (values[0], values[-1])]
    return shown[0] if len(values) == 1 else f"{shown[0]}..{shown[1]} ({len(values):,} values)"


def points_text(columns: Dict[str, np.ndarray], fmt: str, model: str, limit: Optional[int] = None) -> str:
    """Every point (or the first ``limit``) as a table, Markdown, CSV or JSON (costlab.grid/1)."""
    names = list(columns)
    count = len(columns[names[0]])
    if fmt == "csv":
        from ..tables import to_csv_text

        return "".join(to_csv_text(columns))
    if fmt == "json":
        from ..tables import json_rows
        from .data import dumps

        return dumps({"schema": "costlab.grid/1", "model": model, "points": json_rows(columns)})
    shown = count if limit is None else min(limit, count)
    rows = [[_cell(n, columns[n][i]) for n in names] for i in range(shown)]
    text = _table(rows, [HEADERS.get(n, n) for n in names], fmt)
    if shown < count:
        text += f"... {count - shown:,} more points (write them all with --table FILE.csv or FILE.parquet)\n"
    return text


def largest_text(answer: Any, fmt: str, limit: int = 40) -> str:
    """The largest setting of one axis within the budget, per setting of the other two."""
    headers = [HEADERS[answer.others[0]], HEADERS[answer.others[1]], f"largest {HEADERS[answer.axis]}", answer.metric if answer.metric != "macs" else "MACs"]
    rows = [[_cell(answer.others[0], a), _cell(answer.others[1], b), _cell(answer.axis, best), _cell("macs", value)]
            for a, b, best, value in answer.rows[:limit]]
    title = f"largest {answer.axis} within {format_si(answer.budget)} {'MACs' if answer.metric == 'macs' else answer.metric}:\n"
    more = f"... {len(answer.rows) - limit:,} more rows\n" if len(answer.rows) > limit else ""
    return title + _table(rows, headers, fmt) + more
