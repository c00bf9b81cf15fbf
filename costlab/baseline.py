"""Baselines: a committed analysis (JSON, costlab.analysis/1) and a review-style diff against it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .analysis import SCHEMA, Analysis, prefix
from .errors import CostlabError
from .numbers import format_int, format_si


@dataclass(frozen=True)
class Delta:
    """One block before and after (None when it is new or gone)."""

    name: str
    macs_before: Optional[int]
    macs_after: Optional[int]
    params_before: Optional[int]
    params_after: Optional[int]


def load_baseline(path: Path) -> Dict[str, Any]:
    """A baseline document, checked to be costlab.analysis/1 with exact integers."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CostlabError(f"{path}: cannot read the baseline: {e}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise CostlabError(f"{path}: field 'schema': not a costlab baseline (expected {SCHEMA!r}; write one with costlab baseline save)")
    for key in ("model", "input", "batch", "mode", "totals", "layers"):
        if key not in doc:
            raise CostlabError(f"{path}: field '{key}': missing")
    positive = lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0  # noqa: E731
    if not isinstance(doc["input"], list) or not doc["input"] or not all(positive(d) for d in doc["input"]):
        raise CostlabError(f"{path}: field 'input': expected a list of positive integers (CxHxW), got {doc['input']!r}")
    if not positive(doc["batch"]) or doc["mode"] not in ("infer", "train"):
        raise CostlabError(f"{path}: field 'batch' or 'mode': expected a positive integer and infer or train")
    for i, layer in enumerate(doc["layers"]):
        if not isinstance(layer, dict) or not isinstance(layer.get("name"), str) or not all(
            isinstance(layer.get(k), int) and not isinstance(layer.get(k), bool) for k in ("macs", "params")
        ):
            raise CostlabError(f"{path}: layers[{i}]: needs a name and integer macs and params")
    return doc


def parse_growth(text: str) -> Decimal:
    """'2%' -> 0.02, '0' -> 0."""
    try:
        value = Decimal(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except InvalidOperation:
        raise CostlabError(f"--max-growth: expected a percentage like 2%, got {text!r}") from None
    if value < 0:
        raise CostlabError("--max-growth: cannot be negative")
    return value


def _blocks(layers: List[Tuple[str, int, int]], depth: int) -> Dict[str, Tuple[int, int]]:
    out: Dict[str, Tuple[int, int]] = {}
    for name, macs, params in layers:
        key = prefix(name, depth)
        m, p = out.get(key, (0, 0))
        out[key] = (m + macs, p + params)
    return out


def diff(baseline: Dict[str, Any], analysis: Analysis, depth: int = 1) -> List[Delta]:
    """Per-block deltas, in the current model's order, removed blocks last."""
    before = _blocks([(l["name"], l["macs"], l["params"]) for l in baseline["layers"]], depth)
    after = _blocks([(r.name, int(r.macs), r.params) for r in analysis.rows], depth)
    deltas = [Delta(n, *(before[n][0] if n in before else None,), a[0], before[n][1] if n in before else None, a[1])
              for n, a in after.items()]
    deltas += [Delta(n, b[0], None, b[1], None) for n, b in before.items() if n not in after]
    return deltas


def _change(before: Optional[int], after: Optional[int], unit: str) -> str:
    b, a = before or 0, after or 0
    if a == b:
        return ""
    sign = "+" if a > b else "-"
    pct = f" ({sign}{abs(a - b) / b * 100:.1f}%)" if b else ""
    return f"{sign}{format_si(abs(a - b))} {unit}{pct}"


def review_lines(deltas: List[Delta]) -> List[str]:
    """'inception_4e: +12.3M MACs (+7.2%), +1.2K params (+0.5%)' for each block that changed."""
    lines = []
    for d in deltas:
        if d.macs_before is None:
            lines.append(f"{d.name}: new, {format_si(d.macs_after)} MACs, {format_si(d.params_after)} params")
        elif d.macs_after is None:
            lines.append(f"{d.name}: removed ({format_si(d.macs_before)} MACs, {format_si(d.params_before)} params)")
        else:
            parts = [p for p in (_change(d.macs_before, d.macs_after, "MACs"), _change(d.params_before, d.params_after, "params")) if p]
            if parts:
                lines.append(f"{d.name}: {', '.join(parts)}")
    return lines


def growth_failures(baseline: Dict[str, Any], analysis: Analysis, allowed: Decimal) -> List[str]:
    """Totals that grew by more than ``allowed`` (a fraction)."""
    totals = analysis.total()
    failures = []
    for key, now in (("macs", int(totals.macs)), ("params", totals.params)):
        was = baseline["totals"][key]
        if now > was * (1 + allowed):
            growth = f"{(now - was) / was * 100:.2f}%" if was else "from 0"
            failures.append(f"total {key} grew {growth}: {format_int(was)} -> {format_int(now)} (allowed {allowed * 100:g}%)")
    return failures
