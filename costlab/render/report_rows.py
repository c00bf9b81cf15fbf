"""The cost tree's table body as HTML, built directly (a template loop over 10,000 rows takes seconds).

Rows come out cost-first (siblings by MACs, largest first; ties in network order), the order the page
opens in; ``data-order`` keeps the network order for the page's "network order" button. Past
``limit`` shown rows the rest start hidden (the page offers to show them all).
"""

from __future__ import annotations

from html import escape
from typing import Any, Dict, List, Sequence

from ..numbers import is_int

SHOWN = 500  # rows shown at first, at most


def cost_first(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Pre-order with siblings sorted by MACs (descending), then network order."""
    kids: Dict[Any, List[Dict[str, Any]]] = {}
    for r in rows:
        kids.setdefault(r["parent"], []).append(r)
    numeric = all(is_int(r["macs_value"]) for r in rows)

    def key(r: Dict[str, Any]) -> Any:
        return (-r["macs_value"], r["order"]) if numeric else r["order"]

    out: List[Dict[str, Any]] = []
    stack = sorted(kids.get("", []), key=key)[::-1]  # a stack: the first to come out is the costliest
    while stack:
        r = stack.pop()
        out.append(r)
        stack.extend(sorted(kids.get(r["order"], []), key=key)[::-1])
    return out


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def table_body(model_id: str, rows: Sequence[Dict[str, Any]], timed: bool, verified: bool, limit: int = SHOWN) -> str:
    """The ``<tr>`` elements of one model's tree (attributes the page's script reads; every text escaped)."""
    parts = []
    shown = 0
    for r in cost_first(rows):
        hidden = r["hidden"] or shown >= limit
        shown += not hidden
        cls = ("group" if r["group"] else "layer") + (" zero" if r["zero"] else "")
        timing = ""
        if r.get("ms_value"):
            timing = f' data-ms="{r["ms_value"]}" data-tflops="{r["tflops"]}" data-roof="{r["roof"].rstrip("%")}"'
        if r["group"]:
            state = "true" if r["open"] else "false"
            head = (f'<button type="button" class="toggle" aria-expanded="{state}" '
                    f'aria-label="{"collapse" if r["open"] else "expand"} {_e(r["key"])}"></button>')
            op = f'{_e(r["op"])} ({r["layers"]})'
        else:
            head = '<span class="leaf"></span>'
            op = _e(r["op"]) + (f' <span class="meta">({_e(r["op_raw"])})</span>' if r["op_raw"] != r["op"] else "")
        cells = [
            f'<td class="name" style="padding-left: {0.5 + 1.2 * r["level"]:g}em" title="{_e(r["key"])}">{head}{_e(r["label"])}</td>',
            f'<td>{op}</td><td>{_e(r["ins"])}</td><td>{_e(r["out"])}</td>',
            f'<td class="num" title="{_e(r["macs"])}">{_e(r["macs_si"])}</td>',
            f'<td class="num" title="{_e(r["share_parent"])} of its parent">{r["share"]}</td>',
            f'<td class="num" title="{_e(r["params"])}">{_e(r["params_si"])}</td><td class="num">{_e(r["acts_si"])}</td>',
        ]
        if timed:
            cells.append(f'<td class="num">{r.get("ms", "")}</td><td class="num">{r.get("tflops", "")}</td><td class="num">{r.get("roof", "")}</td>')
        if verified:
            cells.append(f'<td class="status-{_e(r.get("status_class", r["status"]))}">{_e(r["status"])}</td>')
        cells.append(f'<td class="formula">{_e(r["formula"])}</td>')
        parts.append(
            f'<tr id="{model_id}-r{r["order"]}" class="{cls}" data-order="{r["order"]}" data-parent="{r["parent"]}" '
            f'data-level="{r["level"]}" data-name="{_e(r["key"])}" data-op="{_e(r["op"])}" data-index="{r["index"]}" '
            f'data-macs="{r["macs_value"]}" data-params="{r["params_value"]}" data-acts="{r["acts_value"]}" '
            f'data-share="{r["share_value"]}"{timing}{" hidden" if hidden else ""}>{"".join(cells)}</tr>')
    return "\n".join(parts)
