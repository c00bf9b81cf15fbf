"""Counting conventions: named recipes over the same per-layer rows.

A MAC is one multiply-accumulate. ``macs`` (the default) is torchvision's ``_ops`` metadata and
the GoogLeNet paper's "ops" column; ``flops`` is 2 x macs. Other tools' rules are added here as
recipes, never as separately stored numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict


@dataclass(frozen=True)
class Convention:
    """A name, the unit it counts, a one-line description, and the count of one row in a mode."""

    name: str
    unit: str
    description: str
    count: Callable[[Any, str], Any]  # (row, mode) -> count


CONVENTIONS: Dict[str, Convention] = {}


def register_convention(convention: Convention) -> Convention:
    """Add a convention; names are unique."""
    if convention.name in CONVENTIONS:
        raise RuntimeError(f"convention {convention.name!r} is registered twice")
    CONVENTIONS[convention.name] = convention
    return convention


def get_convention(name: str) -> Convention:
    """The convention called ``name`` (ValueError listing the known ones otherwise)."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(f"unknown convention {name!r} (known: {', '.join(CONVENTIONS)})") from None


register_convention(Convention("macs", "MACs", "multiply-accumulates of conv, linear, matmul and attention (torchvision _ops, the paper)", lambda r, mode: r.macs))
register_convention(Convention("flops", "FLOPs", "2 x macs: one multiply and one add per MAC", lambda r, mode: 2 * r.macs))


def _elements(row: Any) -> Any:
    from .shapes import product

    return product(row.in_shapes[0]) if row.in_shapes else 0


def fvcore_count(row: Any, mode: str) -> Any:
    """fvcore's FlopCountAnalysis rules (fvcore/nn/flop_count.py, jit_handles.py), applied to one row.

    conv, linear, matmul: one per MAC. batch norm: 2 per input element with affine (1 without) in
    eval mode, 5 (4) in training mode. layer and group norm: 5 (4) per element. adaptive average
    pool: 1 per input element. Everything else (pooling, activations, adds, softmax): 0.
    Scaled dot-product attention is counted in MACs although fvcore cannot count it (it lists
    aten::scaled_dot_product_attention as unsupported): `costlab verify` shows that difference.
    """
    op = row.op
    if op in ("conv2d", "linear", "matmul", "attention", "attention_scores", "attention_values", "unembedding", "experts"):
        return row.macs
    affine = getattr(row.layer, "affine", True)
    if op == "batchnorm":
        if mode == "infer":
            return _elements(row) * (2 if affine else 1)
        return _elements(row) * (5 if affine else 4)
    if op in ("layernorm", "groupnorm"):
        return _elements(row) * (5 if affine else 4)
    if op == "adaptive_avgpool":
        return _elements(row)
    if op == "einsum":
        return fvcore_einsum(row)
    return 0


def fvcore_einsum(row: Any) -> Any:
    """fvcore's einsum rule: two bmm-like equations exactly; any other from numpy's einsum_path report,
    which prints the FLOP count (2 per MAC when an index is summed) with 4 significant digits, halved."""
    import math

    equation = row.layer.equation.replace(" ", "")
    letters = list(dict.fromkeys(c for c in equation if c.isalpha()))
    normal = equation.translate({ord(c): 97 + i for i, c in enumerate(letters)})
    if normal in ("abc,abd->acd", "abc,adc->adb"):
        return row.macs
    inputs, output = normal.split("->")
    summed = set("".join(inputs.split(","))) - set(output)
    flops = row.macs * (2 if summed else 1)
    printed = float(f"{flops:.3e}")  # numpy: "Optimized FLOP count: %.3e"
    return math.floor(printed / 2)


register_convention(Convention("fvcore", "fvcore flops", "fvcore's rules: one per MAC, plus norms and adaptive pooling (see README)", fvcore_count))
register_convention(Convention(
    "torch", "FLOPs (torch)",
    "torch.utils.flop_counter.FlopCounterMode: 2 per MAC of conv, matmul and attention, nothing else",
    lambda r, mode: 2 * r.macs,
))


def _causal(row: Any, mode: str) -> Any:
    from .llm.phases import causal_macs

    return causal_macs(row)


register_convention(Convention(
    "causal", "MACs (causal)",
    "macs, but attention counts only the (query, key) pairs its causal or sliding-window mask keeps (L(L+1)/2, not L x L)",
    _causal,
))
