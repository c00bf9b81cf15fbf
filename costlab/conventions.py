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
    """A name, the unit it counts, a one-line description, and the per-row count."""

    name: str
    unit: str
    description: str
    count: Callable[[Any], Any]


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


register_convention(Convention("macs", "MACs", "multiply-accumulates of conv and linear layers (torchvision _ops, the paper)", lambda r: r.macs))
register_convention(Convention("flops", "FLOPs", "2 x macs: one multiply and one add per MAC", lambda r: 2 * r.macs))
