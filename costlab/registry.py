"""The one registry of layer types: op name -> (layer dataclass, cost formula).

Modelled on ``register_flop_formula`` in PyTorch's torch/utils/flop_counter.py: a decorator that
refuses duplicates, so each op has exactly one formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, Type

from .shapes import Shape

Formula = Callable[[Any, Tuple[Shape, ...]], "LayerCost"]


@dataclass(frozen=True)
class LayerCost:
    """What one layer costs for given input shapes.

    macs: multiply-accumulates; params: weights + biases (+ BN affine); biases: the bias part of
    params; the formula strings are built from the same numbers.
    """

    out_shape: Shape
    macs: Any
    params: int
    biases: int
    macs_formula: str
    params_formula: str = ""
    label: str = ""  # the row's op name when it is not the registered one (captured ops)


@dataclass(frozen=True)
class LayerType:
    """A registered op: its spec name, dataclass, formula, and how many inputs it takes."""

    op: str
    cls: type
    formula: Formula
    min_inputs: int
    max_inputs: Optional[int]
    doc: str
    internal: bool = False  # created by the torch bridge only; not accepted in spec files


_BY_OP: Dict[str, LayerType] = {}
_BY_CLASS: Dict[type, LayerType] = {}
_ALIASES: Dict[str, str] = {}


def register(
    op: str, cls: Type[Any], *, aliases: Tuple[str, ...] = (), inputs: Tuple[int, Optional[int]] = (1, 1), internal: bool = False
) -> Callable[[Formula], Formula]:
    """Register ``formula`` for layers of ``cls`` under the spec name ``op`` (and ``aliases``)."""

    def decorate(formula: Formula) -> Formula:
        for name in (op, *aliases):
            if name in _BY_OP or name in _ALIASES:
                raise RuntimeError(f"layer type {name!r} is registered twice")
        if cls in _BY_CLASS:
            raise RuntimeError(f"{cls.__name__} already has a formula")
        entry = LayerType(op, cls, formula, inputs[0], inputs[1], (cls.__doc__ or "").strip().splitlines()[0], internal)
        _BY_OP[op] = entry
        _BY_CLASS[cls] = entry
        for alias in aliases:
            _ALIASES[alias] = op
        return formula

    return decorate


def _ensure_loaded() -> None:
    from . import formulas  # noqa: F401  (registers every formula on import)


def lookup(op: str) -> Optional[LayerType]:
    """The layer type for a spec name or alias, or None."""
    _ensure_loaded()
    return _BY_OP.get(_ALIASES.get(op, op))


def for_layer(layer: Any) -> LayerType:
    """The layer type of a layer instance (KeyError if its class has no formula)."""
    _ensure_loaded()
    return _BY_CLASS[type(layer)]


def all_types() -> Iterator[LayerType]:
    """Every registered layer type, in registration order."""
    _ensure_loaded()
    return iter(_BY_OP.values())


def aliases_of(op: str) -> Tuple[str, ...]:
    """The other spec names of ``op``."""
    _ensure_loaded()
    return tuple(a for a, o in _ALIASES.items() if o == op)
