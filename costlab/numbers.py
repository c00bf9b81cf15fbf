"""The one number formatter: SI strings for people (112.9M), exact integers for machines.

``format_si`` and ``parse_si`` are inverses up to the shown precision; budgets use ``parse_si``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

_SUFFIXES = (("K", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12), ("P", 10**15), ("E", 10**18))
_SCALE = {**dict(_SUFFIXES), "k": 10**3}
MAX_SI = 10**30  # parse_si refuses larger magnitudes: no budget or multiplier is meant to be that big


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


def format_si(value: Any, keep_zeros: bool = False) -> str:
    """Short SI form: 112,896,000 -> '112.9M', 1,498,376,192 -> '1.5G', 999 -> '999'.

    Two decimals below 10 of a unit, one above, trailing zeros dropped unless ``keep_zeros`` (then
    numbers side by side show the same digits: '7.00M' beside '6.62M', for report columns and charts);
    units K, M, G, T, P, E, and scientific notation from 1000E (10^21) on ('3.15e+21'). Symbolic values
    are returned as their formula text.
    """
    if not is_int(value):
        if isinstance(value, float):
            return format_si(round(value), keep_zeros) if math.isfinite(value) else str(value)
        return expr_text(value)
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude < 1000:
        return f"{sign}{magnitude}"
    index = max(i for i, (_, scale) in enumerate(_SUFFIXES) if magnitude >= scale)
    text = _scaled(magnitude, _SUFFIXES[index][1])
    if float(text) >= 1000:  # 999.96M shows as 1G, not 1000M
        if index + 1 == len(_SUFFIXES):
            return sign + _scientific(magnitude)
        index += 1
        text = _scaled(magnitude, _SUFFIXES[index][1])
    return f"{sign}{text if keep_zeros else text.rstrip('0').rstrip('.')}{_SUFFIXES[index][0]}"


def _scaled(magnitude: int, scale: int) -> str:
    """magnitude / scale with 2 decimals below 10, else 1, rounded half to even: what formatting the exact
    quotient as a Decimal gives, in integers (no decimal module to import at start-up)."""
    places = 2 if magnitude < 10 * scale else 1
    units, rest = divmod(magnitude * 10**places, scale)
    if 2 * rest > scale or (2 * rest == scale and units % 2):
        units += 1
    whole, fraction = divmod(units, 10**places)
    return f"{whole}.{fraction:0{places}d}"


def _scientific(magnitude: int) -> str:
    """'3.15e+21': three significant digits, exact for any size of integer (no float overflow)."""
    from decimal import Decimal

    mantissa, _, exponent = f"{Decimal(magnitude):.2e}".partition("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


def parse_si(text: Any) -> int:
    """Parse '1.5G', '7M', '2.7K', '3P', '1_500_000', '3.15e+21' (format_si's forms) or an int.

    Raises ValueError with a readable message for anything else: not a whole number ('1.5',
    '0.0001K'), not finite ('infG', 'nan'), or larger in magnitude than ``MAX_SI`` ('1e400G').
    """
    if is_int(text):
        value = int(text)
    else:
        if not isinstance(text, str) or not text.strip() or len(text) > 100:
            raise ValueError(f"expected an integer or an SI string like '1.5G', got {text!r}")
        from decimal import Decimal, InvalidOperation

        raw = text.strip().replace("_", "").replace(",", "")
        scale = 1
        if raw and raw[-1] in _SCALE:
            scale = _SCALE[raw[-1]]
            raw = raw[:-1]
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"expected an integer or an SI string like '1.5G', got {text!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite number, got {text!r}")
        if number and number.adjusted() < -40:
            raise ValueError(f"{text!r} is not a whole number")
        if number.adjusted() > 40:  # far beyond MAX_SI: refused before a giant integer is built
            raise ValueError(f"{text!r} is out of range (at most {MAX_SI:.0e} in magnitude)")
        number *= scale
        if number != number.to_integral_value():
            raise ValueError(f"{text!r} is not a whole number")
        value = int(number)
    if abs(value) > MAX_SI:
        raise ValueError(f"{text!r} is out of range (at most {MAX_SI:.0e} in magnitude)")
    return value


def format_ratio(value: float) -> str:
    """A ratio as people write it: 21.4x, 1.03x."""
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


_BYTE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_bytes(text: Any) -> int:
    """'24GiB' -> 25,769,803,776; '80GB' -> 80,000,000,000; a plain integer is bytes (ValueError otherwise)."""
    if is_int(text):
        return int(text)
    raw = str(text).strip().replace("_", "").replace(",", "")
    digits = raw.rstrip("BbIiKkMmGgTt")
    unit = raw[len(digits):].upper() or "B"
    if unit not in _BYTE_UNITS:
        raise ValueError(f"expected a size like 24GiB, 80GB or 1048576, got {text!r}")
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(digits) * _BYTE_UNITS[unit]
    except InvalidOperation:
        raise ValueError(f"expected a size like 24GiB, 80GB or 1048576, got {text!r}") from None
    if number <= 0 or number != number.to_integral_value():
        raise ValueError(f"{text!r} is not a positive whole number of bytes")
    return int(number)


def format_bytes(value: Any) -> str:
    """Binary units for people: 25,769,803,776 -> '24 GiB', 1,536 -> '1.5 KiB'; symbolic values as formulas."""
    if not is_int(value):
        return format_si(value)
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            scaled = value / scale
            text = f"{scaled:.2f}" if abs(scaled) < 10 else f"{scaled:.1f}"
            return f"{text.rstrip('0').rstrip('.')} {unit}"
    return f"{value} B"
