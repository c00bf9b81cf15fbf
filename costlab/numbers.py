"""The one number formatter: SI strings for people (112.9M), exact integers for machines.

``format_si`` and ``parse_si`` are inverses up to the shown precision; budgets use ``parse_si``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

_SUFFIXES = (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3))
_SCALE = {"K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def is_int(value: Any) -> bool:
    """True for a plain integer (bool excluded)."""
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


@lru_cache(maxsize=4096)
def expr_text(value: Any) -> str:
    """str() of a sympy expression, cached: printing nested floors dominates symbolic analyses."""
    return str(value)


def format_int(value: Any) -> str:
    """Exact integer with thousands separators (112,896,000); symbolic values as their formula."""
    if is_int(value):
        return f"{value:,}"
    return expr_text(value)


def format_si(value: Any) -> str:
    """Short SI form: 112,896,000 -> '112.9M', 1,498,376,192 -> '1.5G', 999 -> '999'.

    Two decimals below 10 of a unit, one above, trailing zeros dropped. Symbolic values are
    returned as their formula text.
    """
    if not is_int(value):
        if isinstance(value, float):
            return format_si(round(value))
        return expr_text(value)
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude < 1000:
        return f"{sign}{magnitude}"
    units = [(s, sc) for s, sc in reversed(_SUFFIXES)]  # K, M, G, T
    index = max(i for i, (_, scale) in enumerate(units) if magnitude >= scale)
    scaled = magnitude / units[index][1]
    text = f"{scaled:.2f}" if scaled < 10 else f"{scaled:.1f}"
    if float(text) >= 1000 and index + 1 < len(units):  # 999.96M shows as 1G, not 1000M
        index += 1
        scaled = magnitude / units[index][1]
        text = f"{scaled:.2f}"
    return f"{sign}{text.rstrip('0').rstrip('.')}{units[index][0]}"


def parse_si(text: Any) -> int:
    """Parse '1.5G', '7M', '2.7K', '1_500_000' or an int into an exact integer.

    Raises ValueError with a readable message for anything else, or a value that is not a whole
    number (e.g. '1.5' or '0.0001K').
    """
    if is_int(text):
        return int(text)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected an integer or an SI string like '1.5G', got {text!r}")
    raw = text.strip().replace("_", "").replace(",", "")
    scale = 1
    if raw[-1] in _SCALE:
        scale = _SCALE[raw[-1]]
        raw = raw[:-1]
    try:
        number = Decimal(raw) * scale
    except InvalidOperation:
        raise ValueError(f"expected an integer or an SI string like '1.5G', got {text!r}") from None
    if number != number.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    return int(number)


def format_ratio(value: float) -> str:
    """A ratio as people write it: 21.4x, 1.03x."""
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"
