"""Counting conventions: named recipes over the same per-layer rows.

A MAC is one multiply-accumulate. ``macs`` (the default) is torchvision's ``_ops`` metadata and
the GoogLeNet paper's "ops" column; ``flops`` is 2 x macs. Other tools' rules are added here as
recipes, never as separately stored numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional


@dataclass(frozen=True)
class Convention:
    """A name, the unit it counts, a one-line description, and the count of one row in a mode.

    ``per_mac``: when the count is always ``per_mac`` x the row's MACs (macs: 1, flops: 2), analyses
    multiply instead of calling ``count``; it must agree with ``count`` (a test checks it).
    """

    name: str
    unit: str
    description: str
    count: Callable[[Any, str], Any]  # (row, mode) -> count
    per_mac: int = 0


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


register_convention(Convention("macs", "MACs", "multiply-accumulates of conv, linear, matmul and attention (torchvision _ops, the paper)", lambda r, mode: r.macs, per_mac=1))
register_convention(Convention("flops", "FLOPs", "2 x macs: one multiply and one add per MAC", lambda r, mode: 2 * r.macs, per_mac=2))


@dataclass(frozen=True)
class Rule:
    """How another tool counts one row, as data: ``factor`` per MAC, per input element (the first
    input), per output element, nothing (``zero``, with the tool's reason), or ``fn(row, mode)``."""

    per: str  # "mac" | "input" | "output" | "zero" | "fn"
    factor: int = 1
    note: str = ""
    fn: Optional[Callable[[Any, str], Any]] = None

    def count(self, row: Any, mode: str) -> Any:
        """This rule's count for ``row`` in ``mode``."""
        if self.per == "mac":
            return self.factor * row.macs
        if self.per == "input":
            return self.factor * _elements(row)
        if self.per == "output":
            from .shapes import product

            return self.factor * product(row.out_shape)
        if self.per == "fn":
            return self.fn(row, mode)  # type: ignore[misc]
        return 0


def per_mac(factor: int = 1, note: str = "") -> Rule:
    """``factor`` per MAC (conv, linear, matmul: fvcore 1, FlopCounterMode 2)."""
    return Rule("mac", factor, note)


def per_input(factor: int, note: str = "") -> Rule:
    """``factor`` per element of the first input (fvcore's adaptive pooling: 1)."""
    return Rule("input", factor, note)


def per_output(factor: int, note: str = "") -> Rule:
    """``factor`` per output element (fvcore's bilinear upsampling: 4)."""
    return Rule("output", factor, note)


def zero(note: str) -> Rule:
    """The tool counts nothing for this op; ``note`` says why (no handler, or by design)."""
    return Rule("zero", 0, note)


def custom(fn: Callable[[Any, str], Any], note: str = "") -> Rule:
    """A rule that needs the layer's fields or the mode: ``fn(row, mode)``."""
    return Rule("fn", 1, note, fn)


def _elements(row: Any) -> Any:
    from .shapes import product

    return product(row.in_shapes[0]) if row.in_shapes else 0


def _rule_count(tool: str) -> Callable[[Any, str], Any]:
    def count(row: Any, mode: str) -> Any:
        from .registry import for_layer

        if row.layer is None:
            return 0
        return for_layer(row.layer).rules[tool].count(row, mode)

    return count


fvcore_count = _rule_count("fvcore")
fvcore_count.__doc__ = """fvcore's FlopCountAnalysis rules (fvcore/nn/flop_count.py, jit_handles.py), applied to one row.

Each op family states its rule where it is registered: conv (any rank, transposed over input
positions), linear, matmul, einsum: one per MAC; batch norm 2 per element in eval mode (1 without
affine), 5 (4) in training; layer, group and instance norm 5 (4) per element; adaptive average pool
2-D 1 per input element; upsample nearest 2-D 1 and bilinear 2-D 4 per output element; grid_sample 4
per output element; everything else 0 (fvcore has no handler: LSTM, embeddings, 3-D upsampling, ...).
fvcore cannot count scaled dot-product attention either: costlab keeps its MACs and `verify` explains it.
"""


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


register_convention(Convention("fvcore", "fvcore flops", "fvcore's rules: one per MAC, plus norms, adaptive pooling, upsampling, grid_sample (see README)", fvcore_count))
register_convention(Convention(
    "torch", "FLOPs (torch)",
    "torch.utils.flop_counter.FlopCounterMode: 2 per MAC of conv, matmul and attention, nothing else",
    _rule_count("torch"),
))


def _causal(row: Any, mode: str) -> Any:
    from .llm.phases import causal_macs

    return causal_macs(row)


register_convention(Convention(
    "causal", "MACs (causal)",
    "macs, but attention counts only the (query, key) pairs its causal or sliding-window mask keeps (L(L+1)/2, not L x L)",
    _causal,
))
