"""The comparison part of an HTML report: a headline per model, totals, aligned per-block bars, block diffs."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..blockdiff import _key, compare_blocks
from ..numbers import format_int, is_int
from ..shapes import format_shape
from .svg import Bar, bar_chart, grouped_chart
from .table import ratio_text
from .tree import blocks


def _si(value: Any) -> str:
    from .report_model import si

    return si(value)


def headline(first: Any, other: Any) -> str:
    """'bottleneck: 21.4x fewer MACs, 21.4x fewer params' (against the first model)."""
    a, b = first.total(), other.total()
    return f"{other.model}: {ratio_text(a.macs, b.macs, 'MACs')}, {ratio_text(a.params, b.params, 'params')}"


def differences(analyses: Sequence[Any]) -> List[str]:
    """Warnings when the models were not analysed alike (input size, batch, mode, convention)."""
    out = []
    for what, get in (("inputs", lambda a: format_shape(a.input)), ("batch sizes", lambda a: str(a.batch)),
                      ("modes", lambda a: a.mode), ("conventions", lambda a: a.convention)):
        values = [get(a) for a in analyses]
        if len(set(values)) > 1:
            listed = ", ".join(f"{a.model} {v}" for a, v in zip(analyses, values))
            out.append(f"The {what} differ ({listed}): the costs are not for the same work.")
    return out


def aligned_blocks(analyses: Sequence[Any], depths: Sequence[int]) -> List[Tuple[str, List[Optional[Tuple[str, Any, int]]]]]:
    """Blocks matched across models by name (case, '_' and a max/avg prefix ignored, as verify --against
    does), in order of first appearance; each model's (block, MACs, params) or None where it has none."""
    order: Dict[str, List[Optional[Tuple[str, Any, int]]]] = {}
    labels: Dict[str, str] = {}
    for i, (a, depth) in enumerate(zip(analyses, depths)):
        for block in blocks(a, depth):
            k = _key(block[0])
            slot = order.setdefault(k, [None] * len(analyses))
            labels.setdefault(k, block[0])
            if slot[i] is None:
                slot[i] = block
    return [(labels[k], v) for k, v in order.items()]


def comparison_context(analyses: Sequence[Any], depths: Sequence[int]) -> Dict[str, Any]:
    """Headlines, the totals table, charts (totals, aligned blocks) and block diffs against the first model."""
    first = analyses[0]
    base = first.total()
    table = []
    for a in analyses:
        t = a.total()
        table.append({"model": a.model, "input": format_shape(a.input), "macs": format_int(t.macs), "macs_si": _si(t.macs),
                      "params": format_int(t.params), "params_si": _si(t.params),
                      "macs_ratio": "baseline" if a is first else ratio_text(base.macs, t.macs, "MACs"),
                      "params_ratio": "baseline" if a is first else ratio_text(base.params, t.params, "params")})
    charts = []
    if all(is_int(a.total().macs) for a in analyses):
        for what, get in (("MACs", lambda t: t.macs), ("params", lambda t: t.params)):
            bars = [Bar(a.model, get(a.total()), f"{_si(get(a.total()))} · {row[what.lower() + '_ratio']}",
                        f"{a.model}\nMACs {row['macs_si']}\nparams {row['params_si']}\n{row['macs_ratio']}", f"#model-{i}", "model")
                    for i, (a, row) in enumerate(zip(analyses, table))]
            charts.append(bar_chart(bars, f"total {what} per model (against {first.model})", f"cmp-{what.lower()}"))
        groups: List[Tuple[str, List[Optional[Bar]]]] = []
        for label, slots in aligned_blocks(analyses, depths):
            if sum(1 for s in slots if s is not None) < 2 or not any(s is not None and s[1] for s in slots):
                continue  # a block only one model has is in that model's own charts
            if re.search(r"[.#]\d+$", label):
                continue  # 'features.3' names a position, not a block: it matches nothing in another architecture
            aligned: List[Optional[Bar]] = [None if s is None else Bar(f"{a.model}: {s[0]}", s[1], f"{a.model} {_si(s[1])}",
                                               f"{s[0]} in {a.model}\nMACs {_si(s[1])}\nparams {_si(s[2])}", s[0], "block", f"m{i + 1}")
                    for i, (a, s) in enumerate(zip(analyses, slots))]
            groups.append((label, aligned))
        if groups:
            charts.append(grouped_chart(groups, [a.model for a in analyses],
                                        f"MACs per block, blocks that two or more models have (matched by name): {len(groups)}",
                                        "cmp-blocks"))
    diffs = []
    for a, depth in zip(analyses[1:], depths[1:]):
        rows = compare_blocks(first, a, min(depths[0], depth))
        if any(d.name_a and d.name_b for d in rows):
            diffs.append({"a": first.model, "b": a.model, "rows": [
                {"name_a": d.name_a or "-", "name_b": d.name_b or "-", "macs_a": _si(d.macs_a), "macs_b": _si(d.macs_b),
                 "macs_delta": _si(d.macs_b - d.macs_a), "params_a": _si(d.params_a), "params_b": _si(d.params_b),
                 "params_delta": _si(d.params_b - d.params_a), "reason": d.reason} for d in rows]})
    return {"headlines": [headline(first, a) for a in analyses[1:]], "table": table, "charts": charts, "diffs": diffs,
            "warnings": differences(analyses), "first": first.model}
