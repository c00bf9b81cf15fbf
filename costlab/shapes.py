"""Tensor shapes whose dimensions are ints or sympy expressions.

A shape is a tuple ``(N, C, H, W)`` (or ``(N, F)`` after flatten), batch first. The all-integer
path never imports sympy: it is imported only when ``parse_input`` meets a name.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Tuple, Union

from .errors import FieldError
from .numbers import is_int

Dim = Union[int, Any]  # int, or a sympy expression when the input has names
Shape = Tuple[Dim, ...]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_symbolic(value: Any) -> bool:
    """True when ``value`` is a sympy expression rather than a plain int."""
    return not is_int(value)


def symbol(name: str) -> Any:
    """A positive integer sympy symbol (sizes are never negative or fractional)."""
    import sympy

    return sympy.Symbol(name, integer=True, positive=True)


def parse_dim(text: str, what: str = "dimension") -> Dim:
    """'224' -> 224, 'H' -> Symbol('H'); anything else is a ValueError."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        value = int(text)
        if value <= 0:
            raise ValueError(f"{what} must be positive, got {text}")
        return value
    if _NAME.match(text):
        return symbol(text)
    raise ValueError(f"{what} {text!r} is neither a positive integer nor a name like H")


def parse_input(text: str) -> Shape:
    """Parse an input shape without batch: '3x224x224' -> (3, 224, 224); '3xHxW' -> (3, H, W)."""
    parts = re.split(r"[x×*]", text.strip())  # names may not contain a lowercase x
    if not parts or any(not p.strip() for p in parts):
        raise ValueError(f"input shape {text!r} is not of the form CxHxW (e.g. 3x224x224)")
    return tuple(parse_dim(p, "input dimension") for p in parts)


def format_shape(shape: Iterable[Dim], sep: str = "x") -> str:
    """(480, 14, 14) -> '480x14x14'; symbolic dims are parenthesised when compound."""
    return sep.join(format_dim(d) for d in shape)


def format_dim(dim: Dim) -> str:
    """One dimension as text: 14, H, (floor(H/2) + 1)."""
    if is_int(dim):
        return str(dim)
    from .numbers import expr_text

    text = expr_text(dim)
    return text if _NAME.match(text) else f"({text})"


def product(dims: Iterable[Dim]) -> Dim:
    """Product of dimensions (1 for none); ints and sympy expressions alike."""
    return math.prod(dims)


def floordiv(a: Dim, b: int) -> Dim:
    """a // b for ints; sympy floor(a / b) otherwise."""
    if is_int(a):
        return a // b
    import sympy

    return sympy.floor(a / b)


def ceildiv(a: Dim, b: int) -> Dim:
    """ceil(a / b) for ints and expressions."""
    if is_int(a):
        return -(-a // b)
    import sympy

    return sympy.ceiling(a / b)


def window_out(size: Dim, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool, field: str) -> Dim:
    """Output length of a sliding window, exactly as PyTorch computes it (torch.nn.Conv2d/MaxPool2d).

    floor((size + 2*pad - dilation*(kernel-1) - 1) / stride) + 1, or ceil instead of floor with
    ``ceil_mode``, where the last window must start inside the input or left padding.
    """
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * pad
    if type(padded) is int and padded >= span:  # integer sizes (the common case), first
        if not ceil_mode:
            return (padded - span) // stride + 1
        ceiled = -(-(padded - span) // stride) + 1
        return ceiled - 1 if (ceiled - 1) * stride >= size + pad else ceiled
    if is_int(padded) and padded < span:
        raise FieldError(field, f"kernel {kernel} (span {span}) is larger than the padded input {size}+2*{pad}={padded}")
    if not ceil_mode:
        # floor(x / s) + 1 == floor((x + s) / s): one floor reads better in symbolic formulas
        return floordiv(padded - span, stride) + 1 if is_int(padded) else floordiv(padded - span + stride, stride)
    out = ceildiv(padded - span, stride) + 1 if is_int(padded) else ceildiv(padded - span + stride, stride)
    if is_int(out):
        if (out - 1) * stride >= size + pad:
            out -= 1
        return out
    if kernel <= pad + stride - 1:
        # PyTorch's "last window starts in the padding" correction could apply: no closed form.
        raise FieldError(field, "ceil_mode with a symbolic input is supported only when kernel > padding + stride - 1")
    return out


def is_positive(value: Dim) -> bool:
    """For ints: value > 0. Symbolic sizes are assumed positive (checked after substitution)."""
    return value > 0 if is_int(value) else True


class FlatDim(int):
    """An int that remembers the factors it was flattened from, so 50176 prints as 7x7x1024."""

    factors: Tuple[Dim, ...]

    def __new__(cls, factors: Tuple[Dim, ...]) -> "FlatDim":
        obj = super().__new__(cls, product(factors))
        obj.factors = tuple(factors)
        return obj

    def __repr__(self) -> str:
        return int.__repr__(self)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (FlatDim, (self.factors,))  # pickle rebuilds it from its factors, not from the int


def factor_text(dim: Dim) -> str:
    """A dimension in paper style: a flattened 7x7x1024 map prints as '7x7x1024'."""
    if type(dim) is int:  # the common case, first
        return str(dim)
    if isinstance(dim, FlatDim):
        factors = [f for f in dim.factors if f != 1] or [1]  # a pooled 1x1x1024 map prints as 1024
        return format_shape(factors)
    return format_dim(dim)


def same_dim(a: Dim, b: Dim) -> bool:
    """Exact equality of two dimensions; symbolic ones must simplify to the same expression."""
    if is_int(a) and is_int(b):
        return int(a) == int(b)
    if a == b:  # structurally identical expressions (the common case) need no simplification
        return True
    import sympy

    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0
