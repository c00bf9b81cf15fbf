"""Cost against sequence length from one symbolic analysis in L: attention (QK^T and AV, quadratic in
L) against the MLP (linear in L), and the length where attention overtakes it.

Each point is exact: the per-group formulas are compiled with integer arithmetic (costlab.sweep's
evaluator) and a numeric analysis at both ends of the range checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from ..analysis import Row, analyze
from ..errors import CostlabError
from ..graph import Graph
from ..shapes import symbol
from .layers import _AttentionCore
from .phases import causal_macs, kv_bytes_per_token

# Rows of an MLP: inside a group called mlp (Llama, GPT-2, Mixtral), intermediate / output of a BERT
# layer, or T5's DenseReluDense.
MLP_GROUP = re.compile(r"(^|\.)(mlp|intermediate|DenseReluDense|block_sparse_moe)\.|^encoder\.layer\.\d+\.output\.dense$")


@dataclass(frozen=True)
class SeqPoint:
    """Cost of one prefill of ``length`` tokens: MACs in total, in attention (QK^T + AV) and in the MLPs,
    dense and causal (only the pairs the mask keeps); KV-cache bytes at fp16."""

    length: int
    macs: int
    causal_macs: int
    attention: int
    causal_attention: int
    mlp: int
    kv_cache_bytes: int


MAX_LENGTHS = 100_000  # sequence lengths in one sweep


def parse_lengths(text: str) -> List[int]:
    """'128:32768:*2' -> 128, 256, ..., 32768 (geometric); '128:1024:128' (arithmetic); '1,8,64' (a list).

    CostlabError naming what is wrong: a reversed range, a step or factor that never advances,
    lengths below 1, more than MAX_LENGTHS lengths.
    """
    try:
        if "," in text:
            values = [int(v) for v in text.split(",")]
        elif ":" in text:
            parts = text.split(":")
            if len(parts) > 3:
                raise ValueError
            a, b, step = int(parts[0]), int(parts[1]), (parts[2] if len(parts) == 3 else "1")
            if a > b:
                raise _lengths_error(text, f"the range is reversed (start {a} > stop {b}); write {b}:{a}:{step}")
            if a < 1:
                raise _lengths_error(text, "lengths must be positive")
            if step.startswith("*"):
                factor = int(step[1:])
                if factor < 2:
                    raise _lengths_error(text, "a geometric step multiplies by an integer of at least 2 (*2)")
                values = []
                while a <= b and len(values) <= MAX_LENGTHS:
                    values.append(a)
                    a *= factor
            else:
                if int(step) < 1:
                    raise _lengths_error(text, "the step must be a positive integer")
                if (b - a) // int(step) + 1 > MAX_LENGTHS:
                    raise _lengths_error(text, f"more than {MAX_LENGTHS:,} lengths")
                values = list(range(a, b + 1, int(step)))
        else:
            values = [int(text)]
    except ValueError:
        raise _lengths_error(text, "expected START:STOP:STEP, START:STOP:*FACTOR, a list or one length") from None
    if not values or min(values) < 1:
        raise _lengths_error(text, "lengths must be positive")
    if len(values) > MAX_LENGTHS:
        raise _lengths_error(text, f"more than {MAX_LENGTHS:,} lengths")
    return values


def _lengths_error(text: str, why: str) -> CostlabError:
    return CostlabError(f"--seq: {why}, got {text!r}")


def _is_attention(row: Row) -> bool:
    return isinstance(row.layer, _AttentionCore)


def _is_mlp(row: Row) -> bool:
    return bool(MLP_GROUP.search(row.name)) and row.macs != 0


def _series(rows: List[Row]) -> Dict[str, Any]:
    """The symbolic totals the sweep evaluates."""
    return {
        "macs": sum((r.macs for r in rows), 0),
        "causal_macs": sum((causal_macs(r) for r in rows), 0),
        "attention": sum((r.macs for r in rows if _is_attention(r)), 0),
        "causal_attention": sum((causal_macs(r) for r in rows if _is_attention(r)), 0),
        "mlp": sum((r.macs for r in rows if _is_mlp(r)), 0),
    }


def seq_sweep(graph: Graph, lengths: List[int], batch: int = 1) -> List[SeqPoint]:
    """Prefill cost of ``graph`` at every length, from one analysis with the length a symbol L."""
    from ..sweep import _compile

    if not any(isinstance(n.layer, _AttentionCore) for n in graph.nodes):
        raise CostlabError(f"{graph.name}: --seq sweeps need a transformer (attention_scores / attention_values layers)")
    length = symbol("L")
    series = _series(list(analyze(graph, (length,), batch).rows))
    compiled: Dict[str, Callable[[int], int]] = {k: _compile(v, length) for k, v in series.items()}
    kv = kv_bytes_per_token(graph, "float16") * batch
    for size in (min(lengths), max(lengths)):  # a numeric analysis at both ends checks the formulas (and the length limits)
        check = _series(list(analyze(graph, (size,), batch).rows))
        if any(compiled[k](size) != check[k] for k in series):
            raise CostlabError(f"{graph.name}: the symbolic formula disagrees with the numeric analysis at L={size} (a costlab bug)")
    return [SeqPoint(n, kv_cache_bytes=kv * n, **{k: f(n) for k, f in compiled.items()}) for n in lengths]


def crossover(graph: Graph, causal: bool = False, batch: int = 1, limit: int = 1 << 40) -> Optional[int]:
    """The smallest length L at which attention (QK^T + AV) costs more MACs than the MLPs, or None
    (no MLP, or not before ``limit``). The attention/MLP ratio grows with L, so a doubling search
    and a bisection find it exactly."""
    from ..sweep import _compile

    length = symbol("L")
    series = _series(list(analyze(graph, (length,), batch).rows))
    if series["mlp"] == 0:
        return None
    attention = _compile(series["causal_attention" if causal else "attention"], length)
    mlp = _compile(series["mlp"], length)
    high = 1
    while attention(high) <= mlp(high):
        high *= 2
        if high > limit:
            return None
    low = high // 2  # attention(low) <= mlp(low), or low == 0
    while high - low > 1:
        middle = (low + high) // 2
        if attention(middle) > mlp(middle):
            high = middle
        else:
            low = middle
    return high


def longest_input(graph: Graph) -> Optional[int]:
    """The most tokens a model can take (its smallest learned position table), or None (rotary, relative)."""
    from .layers import Positions

    sizes = [n.layer.max_positions for n in graph.nodes if isinstance(n.layer, Positions)]
    return min(sizes) if sizes else None
