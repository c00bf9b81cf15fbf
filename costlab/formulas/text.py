"""Formula text in the paper's style, built from the same numbers as the cost."""

from __future__ import annotations

from typing import Any, Iterable

from ..numbers import format_int, is_int
from ..shapes import Dim, Shape, factor_text, format_dim, product


def times(dims: Iterable[Dim]) -> str:
    """'14x14x48' (a flattened dimension prints its factors)."""
    return "x".join(factor_text(d) for d in dims)


def batch_prefix(batch: Dim) -> str:
    """'' for batch 1, else 'N x ' (e.g. '8 x ')."""
    return "" if (is_int(batch) and batch == 1) else f"{format_dim(batch)} x "


def paper_shape(shape: Shape) -> str:
    """A feature map without batch in the paper's HxWxC order: (N, 480, 14, 14) -> '14x14x480'."""
    dims = shape[1:]
    if len(dims) == 3:
        dims = (dims[1], dims[2], dims[0])
    return times(dims)


def equals(text: str, value: Any) -> str:
    """'text = 1,234' (no repetition when text already is the value)."""
    shown = format_int(value)
    return shown if text == shown else f"{text} = {shown}"


def no_macs(out_shape: Shape, what: str = "outputs") -> str:
    """Text for ops the macs convention counts as zero: their element count, for other conventions."""
    count = product(out_shape)
    if len(out_shape) < 2:
        return f"0 MACs ({format_int(count)} {what})"
    return f"0 MACs ({batch_prefix(out_shape[0])}{paper_shape(out_shape)} = {format_int(count)} {what})"
