"""How one model's cost compares with another's: a number (other / first) and the words for it.

Symbolic costs compare too when their ratio is a constant: 576000*H*W against 26880*H*W is
26880/576000 for every H and W (21.4x fewer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from .numbers import format_ratio, format_si, is_int

if TYPE_CHECKING:
    from fractions import Fraction


def exact_ratio(first: Any, other: Any) -> Optional[Fraction]:
    """``other / first`` exactly, or None when it is not a constant (it depends on H, W) or first is 0."""
    from fractions import Fraction

    if is_int(first) and is_int(other):
        return Fraction(other, first) if first else None
    if first == 0:
        return None
    import sympy

    value = sympy.nsimplify(sympy.simplify(sympy.sympify(other) / sympy.sympify(first)))
    if not value.is_Rational:
        return None
    return Fraction(int(value.p), int(value.q))


def ratio(first: Any, other: Any) -> Optional[float]:
    """``other / first`` as a float (None when it is not a constant, or first is 0)."""
    value = exact_ratio(first, other)
    return None if value is None else float(value)


def ratio_text(first: Any, other: Any, what: str) -> str:
    """'21.4x fewer MACs' / '1.50x more params' / 'same MACs' for other relative to first ('' when it varies)."""
    if first == other:
        return f"same {what}"
    if other == 0:
        return f"none (0 {what})"
    if first == 0:
        return f"+{format_si(other)} {what}"
    if is_int(first) and is_int(other):  # int / int is correctly rounded, as float(Fraction(other, first)) is
        if (first > 0) != (other > 0):
            return ""
        if abs(other) < abs(first):
            return f"{format_ratio(first / other)} fewer {what}"
        return f"{format_ratio(other / first)} more {what}"
    value = exact_ratio(first, other)
    if value is None or value <= 0:
        return ""
    if value < 1:
        return f"{format_ratio(float(1 / value))} fewer {what}"
    return f"{format_ratio(float(value))} more {what}"
