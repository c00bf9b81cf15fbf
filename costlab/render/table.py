"""Human tables (tabulate's formats, costlab/render/plaintable.py): per-layer analysis, totals, and side-by-side comparisons.

``fmt`` is 'table' (terminal) or 'markdown' (a pull-request comment).
"""

from __future__ import annotations

import re
from typing import Any, List, Sequence

from ..conventions import get_convention
from ..numbers import format_int, format_si, is_int
from ..ratios import ratio_text
from ..shapes import format_shape
from .plaintable import tabulate

TABLEFMT = {"table": "simple", "markdown": "github"}

# GitHub-flavoured Markdown: characters that could start emphasis, code, links, images or a table cell
# are backslash-escaped; HTML's are written as entities; line breaks would end the table row.
_MARKDOWN = {**{c: "\\" + c for c in "\\`*_[]|~"}, "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "}
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN)


def markdown_cell(text: Any) -> str:
    """``text`` shown literally in a Markdown table cell or line: no HTML, links, '|' or line breaks."""
    return str(text).translate(_MARKDOWN_TABLE)


def table_text(rows: Sequence[Sequence[Any]], headers: Sequence[Any], fmt: str) -> str:
    """A table as text: ``fmt`` 'table'/'simple' (terminal) or 'markdown'/'github' (every cell escaped)."""
    tablefmt = TABLEFMT.get(fmt, fmt)
    if tablefmt == "github":
        rows = [[markdown_cell(c) for c in row] for row in rows]
        headers = [markdown_cell(h) for h in headers]
    return tabulate(rows, headers=list(headers), tablefmt=tablefmt, disable_numparse=True)


def markdown_code(text: str) -> str:
    """``text`` in a fenced code block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}\n"


def share(part: Any, whole: Any) -> str:
    """'12.3%' of the total, or '' when not numeric."""
    if is_int(part) and is_int(whole) and whole:
        return f"{100 * part / whole:.1f}%"
    return ""


def header(analysis: Any) -> str:
    """One line stating what was analysed: model, input, batch, mode, convention."""
    return (
        f"{analysis.model}: input {format_shape(analysis.input)}, batch {analysis.batch}, "
        f"mode {analysis.mode}, convention {analysis.convention}"
    )


def shape_text(shape: Any, batch: Any) -> str:
    """A shape without its batch dimension when it has one (captured matmuls may not): 480x14x14."""
    if len(shape) > 1 and shape[0] == batch:
        return format_shape(shape[1:])
    return format_shape(shape)


def analysis_table(analysis: Any, fmt: str = "table", formulas: bool = True) -> str:
    """Per-layer table with shapes, cost, share, params and formula, and a totals row."""
    unit = get_convention(analysis.convention).unit
    total = analysis.total_cost()
    totals = analysis.total()
    rows = []
    for r in analysis.rows:
        cost = analysis.cost(r)
        row = [r.name, r.op, " ".join(shape_text(s, analysis.batch) for s in r.in_shapes), shape_text(r.out_shape, analysis.batch),
               format_si(cost), share(cost, total), format_si(r.params)]
        if formulas:
            row.append(r.formula)
        rows.append(row)
    shown = format_si(total) if is_int(total) or not formulas else "(formula)"  # a symbolic total is printed once
    total_row = ["total", "", "", "", shown, "100%" if is_int(total) else "", format_si(totals.params)]
    if formulas:
        total_row.append(f"{format_int(total)} {unit}; {format_int(totals.params)} params ({format_int(totals.biases)} biases)")
    rows.append(total_row)
    headers = ["layer", "op", "in", "out", unit, "share", "params"] + (["formula"] if formulas else [])
    body = table_text(rows, headers, fmt)
    title = header(analysis)
    return (f"**{markdown_cell(title)}**\n\n{body}\n" if fmt == "markdown" else f"{title}\n{body}\n")


def compare_table(analyses: Sequence[Any], fmt: str = "table") -> str:
    """Totals side by side, each model's ratio against the first."""
    unit = get_convention(analyses[0].convention).unit
    base = analyses[0]
    base_cost, base_params = base.total_cost(), base.total().params
    rows: List[List[str]] = []
    for a in analyses:
        t = a.total()
        cost = a.total_cost()
        rows.append([
            a.model, format_shape(a.input), format_si(cost), format_int(cost), format_si(t.params), format_int(t.params),
            "baseline" if a is base else ratio_text(base_cost, cost, unit),
            "baseline" if a is base else ratio_text(base_params, t.params, "params"),
        ])
    headers = ["model", "input", unit, f"exact {unit}", "params", "exact params", f"{unit} vs {base.model}", f"params vs {base.model}"]
    return table_text(rows, headers, fmt) + "\n"


def formulas_block(analysis: Any) -> str:
    """The arithmetic of every layer that costs something: 'name: formula'."""
    lines = [f"{analysis.model}:"]
    for r in analysis.rows:
        if r.macs != 0 or r.params:
            lines.append(f"  {r.name}: {r.formula}")
    if len(lines) == 1:
        lines.append("  (no layer with MACs or params)")
    return "\n".join(lines) + "\n"


def measure_lines(analyses: Sequence[Any], profiles: Sequence[Any]) -> str:
    """'bottleneck: 21.4x fewer MACs, 4.6x faster (0.412 ms vs 1.905 ms, cpu float32, batch 256)' per model."""
    base, base_time = analyses[0], profiles[0].forward
    p0 = profiles[0]
    lines = [f"measured on {p0.device_name} ({p0.device}, {p0.dtype}, batch {p0.batch}), median forward time:"]
    for a, p in zip(analyses, profiles):
        if a is base:
            lines.append(f"  {a.model}: {p.forward * 1e3:.3f} ms (baseline)")
            continue
        speed = base_time / p.forward
        faster = f"{speed:.1f}x faster" if speed >= 1 else f"{1 / speed:.1f}x slower"
        lines.append(f"  {a.model}: {ratio_text(base.total().macs, a.total().macs, 'MACs')}, {faster} "
                     f"({p.forward * 1e3:.3f} ms vs {base_time * 1e3:.3f} ms)")
    return "\n".join(lines) + "\n\n"
