"""Tables for `costlab verify`: per-module checks against fvcore, many-model summaries, block diffs."""

from __future__ import annotations

from typing import Any, List, Sequence

from ..numbers import format_int, format_si
from .table import table_text


def verification_table(v: Any, all_rows: bool = False, fmt: str = "simple") -> str:
    """Per module: costlab MACs, costlab under fvcore's rules, fvcore, params both sides, status, note."""
    rows = []
    quiet = 0
    for u in v.units:
        if not all_rows and u.status == "exact" and not (u.macs or u.ours or u.fvcore or u.params):
            quiet += 1
            continue
        rows.append([u.name, format_si(u.macs), format_int(u.ours), format_int(u.fvcore), format_int(u.params),
                     format_int(u.torch_params), u.status, u.note])
    rows.append(["total", format_si(v.macs), format_int(v.ours), format_int(v.fvcore), format_int(v.params),
                 format_int(v.torch_params), "", ""])
    headers = ["module", "MACs", "costlab (fvcore rules)", "fvcore", "params", "PyTorch params", "status", "note"]
    lines = [f"{v.model}: costlab vs fvcore FlopCountAnalysis and PyTorch's parameters", table_text(rows, headers, fmt)]
    if quiet:
        lines.append(f"(+{quiet} modules with nothing to count on either side: exact; --all shows them)")
    lines.append(summary_line(v))
    if v.fvcore_unsupported:
        skipped = ", ".join(f"{op} x{n}" for op, n in sorted(v.fvcore_unsupported.items()))
        lines.append(f"ops fvcore lists as unsupported (it counts them as 0): {skipped}")
    if v.costlab_unsupported:
        lines.append(f"ops costlab has no formula for (counted as 0; --strict fails): {', '.join(v.costlab_unsupported)}")
    return "\n".join(lines) + "\n"


def summary_line(v: Any) -> str:
    """'143 exact, 0 explained, 0 mismatch; params 6,998,552 = 6,998,552'."""
    params = "=" if v.params == v.torch_params else "!="
    uncounted = f"{v.count('uncounted')} uncounted, " if v.count("uncounted") else ""
    return (f"{v.count('exact')} exact, {v.count('explained')} explained, {uncounted}{v.count('mismatch')} mismatch; "
            f"params costlab {format_int(v.params)} {params} PyTorch {format_int(v.torch_params)}")


def summary_table(results: Sequence[Any], fmt: str = "simple") -> str:
    """One line per verified model."""
    rows = [[v.model, format_int(v.macs), format_int(v.ours), format_int(v.fvcore), format_int(v.params), format_int(v.torch_params),
             v.count("exact"), v.count("explained"), v.count("mismatch"), "ok" if v.ok else "FAIL"] for v in results]
    headers = ["model", "MACs", "costlab (fvcore rules)", "fvcore", "params", "PyTorch params", "exact", "explained", "mismatch", ""]
    return table_text(rows, headers, fmt) + "\n"


def block_table(diffs: List[Any], a: str, b: str, fmt: str = "simple") -> str:
    """Block by block: MACs and params of A and B, the difference, and what causes it."""
    rows = []
    for d in diffs:
        rows.append([d.name_a or "-", d.name_b or "-", format_si(d.macs_a), format_si(d.macs_b), format_si(d.macs_b - d.macs_a),
                     format_si(d.params_a), format_si(d.params_b), format_si(d.params_b - d.params_a), d.reason])
    total = [sum(getattr(d, f) for d in diffs) for f in ("macs_a", "macs_b", "params_a", "params_b")]
    rows.append(["total", "", format_int(total[0]), format_int(total[1]), format_si(total[1] - total[0]),
                 format_int(total[2]), format_int(total[3]), format_si(total[3] - total[2]), ""])
    headers = [a, b, "MACs A", "MACs B", "B - A", "params A", "params B", "B - A", "what differs"]
    return f"{a} (A) vs {b} (B), block by block\n" + table_text(rows, headers, fmt) + "\n"
