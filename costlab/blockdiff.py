"""Compare two analyses block by block, and say what makes each block differ.

Blocks are the rows at a depth (default 1: GoogLeNet's Table 1 rows); blocks are matched by name,
ignoring case, '_' and a 'max'/'avg' prefix (paper 'inception_3a' = torchvision 'inception3a').
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .analysis import Analysis, prefix
from .numbers import format_si


@dataclass(frozen=True)
class BlockDiff:
    """One block in A and/or B: MACs and params on each side, and why they differ."""

    name_a: Optional[str]
    name_b: Optional[str]
    macs_a: Any
    macs_b: Any
    params_a: int
    params_b: int
    reason: str


def _key(name: str) -> str:
    return re.sub(r"^(max|avg)", "", re.sub(r"[^a-z0-9]", "", name.lower()))


def _blocks(analysis: Analysis, depth: int) -> Dict[str, List[Any]]:
    blocks: Dict[str, List[Any]] = {}
    for row in analysis.rows:
        blocks.setdefault(prefix(row.name, depth), []).append(row)
    return blocks


def _features(rows: List[Any]) -> Tuple[Counter, int, int, int]:
    """Weighted layers as their families describe them ('3x3 conv'), norms (count, params), biases."""
    from .registry import for_layer

    layers: Counter = Counter()
    norms = []
    for r in rows:
        if r.layer is None:
            continue
        entry = for_layer(r.layer)
        if entry.kind == "norm":
            norms.append(r)
        elif entry.kind == "weighted" and callable(entry.describe):
            layers[entry.describe(r.layer)] += 1
    biases = sum(r.biases for r in rows)
    return layers, len(norms), sum(r.params for r in norms), biases


def explain(rows_a: List[Any], rows_b: List[Any], a: str, b: str) -> str:
    """Why two blocks differ: weighted layers (kernel sizes, widths), normalization layers, biases."""
    (ka, na, npa, ba), (kb, nb, npb, bb) = _features(rows_a), _features(rows_b)
    reasons = []
    if ka != kb:
        only_a, only_b = ka - kb, kb - ka
        fmt = lambda c: ", ".join(f"{n} {k}" for k, n in sorted(c.items())) or "none"  # noqa: E731
        reasons.append(f"layers: {fmt(only_a)} in {a} vs {fmt(only_b)} in {b}")
    if na != nb:
        reasons.append(f"normalization layers: {na} in {a} ({format_si(npa)} params) vs {nb} in {b} ({format_si(npb)} params)")
    if ba != bb:
        reasons.append(f"biases: {format_si(ba)} in {a} vs {format_si(bb)} in {b}")
    return "; ".join(reasons)


def compare_blocks(a: Analysis, b: Analysis, depth: int = 1) -> List[BlockDiff]:
    """Blocks of A in order, each with its match in B (unmatched blocks of B follow their predecessor)."""
    blocks_a, blocks_b = _blocks(a, depth), _blocks(b, depth)
    by_key_b: Dict[Any, str] = {}
    for name in blocks_b:
        by_key_b.setdefault(_key(name), name)
    matched = set()
    diffs: List[BlockDiff] = []
    for name, rows in blocks_a.items():
        other = by_key_b.get(_key(name))
        if other is None or other in matched:
            diffs.append(_diff(name, None, rows, [], a, b))
            continue
        matched.add(other)
        diffs.append(_diff(name, other, rows, blocks_b[other], a, b))
    for name, rows in blocks_b.items():
        if name not in matched:
            diffs.append(_diff(None, name, [], rows, a, b))
    return diffs


def _diff(name_a: Optional[str], name_b: Optional[str], rows_a: List[Any], rows_b: List[Any], a: Analysis, b: Analysis) -> BlockDiff:
    macs_a, macs_b = sum((r.macs for r in rows_a), 0), sum((r.macs for r in rows_b), 0)
    params_a, params_b = sum(r.params for r in rows_a), sum(r.params for r in rows_b)
    if name_a is None or name_b is None:
        reason = f"only in {a.model if name_b is None else b.model}"
    elif macs_a == macs_b and params_a == params_b:
        reason = "same"
    else:
        reason = explain(rows_a, rows_b, a.model, b.model) or "different layer sizes"
    return BlockDiff(name_a, name_b, macs_a, macs_b, params_a, params_b, reason)
