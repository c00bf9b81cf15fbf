"""Baselines: a committed analysis (JSON, costlab.analysis/1) and a review-style diff against it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .analysis import SCHEMA, Analysis, prefix
from .errors import CostlabError
from .numbers import MAX_SI, format_int, format_si, is_int
from .shapes import format_shape


@dataclass(frozen=True)
class Delta:
    """One block before and after (None when it is new or gone)."""

    name: str
    macs_before: Optional[int]
    macs_after: Optional[int]
    params_before: Optional[int]
    params_after: Optional[int]


MAX_GROWTH = Decimal(1000)  # --max-growth at most 100,000%: beyond that no growth limit means anything


def _count(value: Any) -> bool:
    """A non-negative exact integer within the SI range (not a bool, float, string or null)."""
    return is_int(value) and 0 <= value <= MAX_SI


def load_baseline(path: Path) -> Dict[str, Any]:
    """A baseline document, checked field by field: costlab.analysis/1 with exact, consistent integers."""
    from .dataload import load_file

    return check_baseline(load_file(path, "baseline", "json"), str(path))


def check_baseline(doc: Any, path: str) -> Dict[str, Any]:
    """``doc`` (parsed JSON from ``path``) checked field by field; raises CostlabError naming the field."""

    def bad(field: str, message: str) -> CostlabError:
        return CostlabError(f"{path}: field '{field}': {message}")

    if not isinstance(doc, dict):
        raise CostlabError(f"{path}: not a costlab baseline (a JSON object written by costlab baseline save), "
                           f"got a JSON {type(doc).__name__}")
    if doc.get("schema") != SCHEMA:
        raise bad("schema", f"not a costlab baseline (expected {SCHEMA!r}; write one with costlab baseline save)")
    for key in ("model", "input", "batch", "mode", "totals", "layers"):
        if key not in doc:
            raise bad(key, "missing (write the baseline with costlab baseline save)")
    positive = lambda v: is_int(v) and 0 < v <= MAX_SI  # noqa: E731
    if not isinstance(doc["model"], str):
        raise bad("model", f"expected a string, got {doc['model']!r}")
    if not isinstance(doc["input"], list) or not doc["input"] or not all(positive(d) for d in doc["input"]):
        raise bad("input", f"expected a list of positive integers (CxHxW), got {doc['input']!r}")
    if not positive(doc["batch"]):
        raise bad("batch", f"expected a positive integer, got {doc['batch']!r}")
    if doc["mode"] not in ("infer", "train"):
        raise bad("mode", f"expected 'infer' or 'train', got {doc['mode']!r}")
    layers = doc["layers"]
    if not isinstance(layers, list):
        raise bad("layers", f"expected a list of layers, got {type(layers).__name__}")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("name"), str):
            raise bad(f"layers[{i}]", "expected an object with a string 'name'")
        for key in ("macs", "params"):
            if not _count(layer.get(key)):
                raise bad(f"layers[{i}].{key}", f"expected a non-negative integer, got {layer.get(key)!r}")
    totals = doc["totals"]
    if not isinstance(totals, dict):
        raise bad("totals", f"expected an object with macs and params, got {totals!r}")
    for key in ("macs", "params"):
        value = totals.get(key)
        if not _count(value):
            raise bad(f"totals.{key}", f"expected a non-negative integer, got {value!r}")
        summed = sum(layer[key] for layer in layers)
        if value != summed:
            raise bad(f"totals.{key}", f"{value:,} is not the sum of the layers' {key} ({summed:,}); the file was edited")
    return doc


def save_text(analysis: Analysis) -> str:
    """The baseline document for ``analysis``; a symbolic analysis cannot be a baseline."""
    from .render.data import to_json

    totals = analysis.total()
    if not (is_int(totals.macs) and is_int(totals.params) and all(is_int(d) for d in analysis.input) and is_int(analysis.batch)):
        raise CostlabError(f"{analysis.model}: a baseline needs numbers; the input {format_shape(analysis.input)} "
                           f"(batch {analysis.batch}) makes costs formulas")
    return to_json([analysis])


def parse_growth(text: str) -> Decimal:
    """'2%' -> 0.02, '0' -> 0. Anything but 0 needs its % sign: a bare '5' could mean 5% or 500%."""
    raw = text.strip()
    number = raw[:-1] if raw.endswith("%") else raw
    try:
        value = Decimal(number)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not number.strip() or "%" in number:
        raise CostlabError(f"--max-growth: expected a percentage like 2%, got {text!r}")
    if not raw.endswith("%") and value != 0:
        raise CostlabError(f"--max-growth: write {text.strip()}% for a percentage (a bare {text.strip()!r} is ambiguous: "
                           f"{text.strip()}% or x{text.strip()}?)")
    value /= 100
    if value < 0:
        raise CostlabError("--max-growth: cannot be negative")
    if value > MAX_GROWTH:
        raise CostlabError(f"--max-growth: at most {MAX_GROWTH * 100:,}%, got {text!r}")
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
    before = _blocks([(layer["name"], layer["macs"], layer["params"]) for layer in baseline["layers"]], depth)
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
