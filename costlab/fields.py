"""Spec fields: how a layer dataclass declares its fields, and how spec mappings are parsed into them.

Each field carries a ``kind`` (how a spec file spells it and which values are valid) and a doc line.
Window fields (kernel, stride, padding, dilation, ...) are tuples of the layer's rank (``rank`` class
attribute: 1, 2 or 3); a spec may give one number for every axis or a list of ``rank`` numbers.
"""

from __future__ import annotations

from dataclasses import MISSING, field, fields
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .errors import FieldError
from .numbers import is_int
from .shapes import parse_dim

Ints = Tuple[int, ...]


def spec_field(kind: str, default: Any = MISSING, doc: str = "", choices: Tuple[str, ...] = ()) -> Any:
    """A dataclass field with its spec kind (see KINDS) and a doc line; ``choices`` for kind 'choice'."""
    return field(default=default, metadata={"kind": kind, "doc": doc, "choices": choices})


def _positive(value: Any, field: str) -> int:
    if not is_int(value) or value <= 0:
        raise FieldError(field, f"must be a positive integer, got {value!r}")
    return int(value)


def _non_negative(value: Any, field: str) -> int:
    if not is_int(value) or value < 0:
        raise FieldError(field, f"must be a non-negative integer, got {value!r}")
    return int(value)


def _positive_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value != value or value == float("inf"):
        raise FieldError(field, f"must be a positive number, got {value!r}")
    return value


def _tuple_of(check: Callable[[Any, str], Any]) -> Callable[[Any, str, Any], Tuple[Any, ...]]:
    """One value for every axis, or a list of exactly ``rank`` values (any length when rank is None:
    the layer takes its rank from its input, and one value stands for every axis)."""

    def parse(value: Any, field: str, rank: Any) -> Tuple[Any, ...]:
        if isinstance(value, (list, tuple)):
            if rank is None:
                if not value:
                    raise FieldError(field, "must be one number or a non-empty list")
                return tuple(check(v, field) for v in value)
            if len(value) != rank:
                shape = "[h, w]" if rank == 2 else "[d, h, w]" if rank == 3 else "[n]" if rank == 1 else f"{rank} numbers"
                raise FieldError(field, f"must be one number or a list {shape} ({rank}-d layer), got {list(value)!r}")
            return tuple(check(v, field) for v in value)
        return (check(value, field),) * (rank or 1)

    return parse


def expand(value: Any, rank: int) -> Any:
    """A scalar default or argument as a tuple of ``rank`` (tuples, strings and None unchanged)."""
    return (value,) * (rank or 1) if is_int(value) or isinstance(value, float) else value


def _or_none(parse: Callable[[Any, str, int], Any]) -> Callable[[Any, str, int], Any]:
    return lambda value, field, rank: None if value is None else parse(value, field, rank)


def _padding(value: Any, field: str, rank: int) -> Any:
    if isinstance(value, str):
        if value not in ("same", "valid"):
            raise FieldError(field, f"must be an integer, a list, 'same' or 'valid', got {value!r}")
        return value
    return _tuple_of(_non_negative)(value, field, rank)


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(field, f"must be true or false, got {value!r}")
    return value


def _prob(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise FieldError(field, f"must be a probability in [0, 1), got {value!r}")
    return float(value)


def _int(value: Any, field: str) -> int:
    if not is_int(value):
        raise FieldError(field, f"must be an integer, got {value!r}")
    return int(value)


def _bool_or_none(value: Any, field: str) -> Optional[bool]:
    return None if value is None else _bool(value, field)


def _optional_count(value: Any, field: str) -> Optional[int]:
    return None if value is None else _positive(value, field)


def _tokens(value: Any, field: str) -> Any:
    """A token count: a non-negative integer, or a name (a symbol such as T)."""
    if isinstance(value, str):
        try:
            return parse_dim(value, field)
        except ValueError as e:
            raise FieldError(field, str(e)) from None
    return _non_negative(value, field)


# kind -> (parser(value, field) or parser(value, field, rank) when ranked, how a spec spells it)
PARSERS: Dict[str, Callable[[Any, str], Any]] = {
    "channels": _positive,
    "count": _positive,
    "index": _non_negative,
    "bool": _bool,
    "bool_or_none": _bool_or_none,
    "prob": _prob,
    "number": _positive_number,
    "int": lambda value, field: _int(value, field),
    "optional_count": _optional_count,
    "tokens": _tokens,
}
RANKED: Dict[str, Callable[[Any, str, int], Any]] = {
    "ints": _tuple_of(_positive),
    "ints_or_none": _or_none(_tuple_of(_positive)),
    "pad_ints": _tuple_of(_non_negative),
    "padding": _padding,
    "scale_or_none": _or_none(_tuple_of(_positive_number)),
}
KINDS: Dict[str, str] = {
    "channels": "positive integer",
    "count": "positive integer",
    "index": "non-negative integer",
    "bool": "true / false",
    "bool_or_none": "true / false / null",
    "prob": "number in [0, 1)",
    "number": "positive number",
    "int": "integer",
    "optional_count": "positive integer, or null: the default",
    "tokens": "non-negative integer, or a name (a symbol such as T)",
    "ints": "positive integer, or a list of one per axis",
    "ints_or_none": "positive integer or a list of one per axis; null: the default",
    "pad_ints": "non-negative integer, or a list of one per axis",
    "padding": "non-negative integer, a list of one per axis, 'same' or 'valid'",
    "scale_or_none": "positive number, or a list of one per axis; null: not used",
    "choice": "one of the listed words",
}


def _choice(value: Any, field: str, choices: Tuple[str, ...]) -> str:
    if value not in choices:
        raise FieldError(field, f"must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


class _Plan:
    """How to parse one layer class: its fields' parsers (value -> parsed value) in declaration order."""

    __slots__ = ("allowed", "declared", "parsers", "required")

    def __init__(self, cls: type) -> None:
        rank = getattr(cls, "rank", 2)
        declared = fields(cls)
        self.declared = {f.name: f for f in declared}
        self.allowed = ", ".join(sorted(self.declared)) or "none"
        self.parsers: Dict[str, Callable[[Any], Any]] = {f.name: _bound(f, rank) for f in declared}
        self.required = tuple(f.name for f in declared if f.default is MISSING)


def _bound(f: Any, rank: int) -> Callable[[Any], Any]:
    """The parser of one field's spec value, checked by its kind (kind, name and rank looked up once)."""
    kind, name = f.metadata.get("kind"), f.name
    if kind == "choice":
        choices = f.metadata["choices"]
        return lambda value: _choice(value, name, choices)
    if kind in RANKED:
        ranked = RANKED[kind]
        return lambda value: ranked(value, name, rank)
    if kind in PARSERS:
        plain = PARSERS[kind]
        return lambda value: plain(value, name)
    return lambda value: PARSERS[f.metadata["kind"]](value, name)  # no known kind: a KeyError when used (a costlab bug)


_PLANS: Dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def parse_layer(cls: type, spec: Mapping[str, Any], ignore: Tuple[str, ...] = ()) -> Any:
    """Build ``cls`` from ``spec``; unknown keys, missing required fields and bad values raise FieldError.

    The first problem in declaration order is reported: unknown keys, then each declared field in turn."""
    plan = _plan(cls)
    parsers = plan.parsers
    values = {}
    try:  # the common case: every key known and valid, parsed in the spec's order
        for key, value in spec.items():
            parse = parsers.get(key)
            if parse is not None:
                values[key] = parse(value)
            elif key not in ignore:
                raise _Unknown
    except (_Unknown, FieldError):
        values = _parse_in_order(plan, spec, ignore)
    for name in plan.required:
        if name not in values:
            raise FieldError(name, "is required")
    return cls(**values)


class _Unknown(Exception):
    """A key the layer does not declare (reported by ``_parse_in_order``)."""


def _parse_in_order(plan: _Plan, spec: Mapping[str, Any], ignore: Tuple[str, ...]) -> Dict[str, Any]:
    """The parsed values, or the first problem in declaration order (an unknown key before any value)."""
    declared = plan.declared
    for key in spec:
        if key not in declared and key not in ignore:
            raise FieldError(str(key), f"unknown field for this layer type (its fields: {plan.allowed})")
    values = {}
    for name, f in declared.items():
        if name in spec:
            values[name] = plan.parsers[name](spec[name])
        elif f.default is MISSING:
            raise FieldError(name, "is required")
    return values


class LayerCache:
    """Builds layers from spec mappings, sharing one frozen instance between identical mappings.

    A 100,000-layer spec repeats a few layer descriptions; each is parsed once. Only mappings whose
    values are exact ints, strings, booleans, None or lists of ints are keyed (by value *and* type,
    so ``1``, ``1.0`` and ``true`` never share an entry); anything else is parsed every time."""

    def __init__(self, ignore: Tuple[str, ...] = ()) -> None:
        self.ignore = ignore
        self.layers: Dict[Any, Any] = {}
        self.skips: Dict[type, Tuple[str, ...]] = {}  # class -> the ignored keys it does not declare

    def parse(self, cls: type, spec: Mapping[str, Any]) -> Any:
        """``parse_layer(cls, spec, ignore)``, shared with an identical earlier mapping when possible."""
        skip = self.skips.get(cls)
        if skip is None:
            skip = self.skips[cls] = tuple(k for k in self.ignore if k not in _plan(cls).declared)
        key = _key(cls, spec, skip)
        if key is None:
            return parse_layer(cls, spec, self.ignore)
        layer = self.layers.get(key)
        if layer is None:
            layer = self.layers[key] = parse_layer(cls, spec, self.ignore)
        return layer


_KEYED = frozenset((int, str, bool, type(None)))  # value types keyed as they are


def _key(cls: type, spec: Mapping[str, Any], skip: Tuple[str, ...]) -> Any:
    """A hashable key for ``spec``'s items but ``skip``, with the values' types; None when a value is not keyed."""
    parts: List[Any] = [cls]
    for key, value in spec.items():
        if key in skip:
            continue
        kind = type(value)
        if kind in _KEYED:
            parts.append((key, kind, value))
        elif kind is list and all(type(v) is int for v in value):
            parts.append((key, list, tuple(value)))
        else:
            return None
    return tuple(parts)


def default_text(f: Any) -> str:
    """A field's default as a spec would spell it ('' when required)."""
    if f.default is MISSING:
        return ""
    value = f.default
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and len(set(value)) == 1:
        return str(value[0])
    return str(value)


def describe_fields(cls: type) -> str:
    """'out_channels, kernel, stride=1, ...' for help texts."""
    parts = []
    for f in fields(cls):
        parts.append(f.name if f.default is MISSING else f"{f.name}={default_text(f)}")
    return ", ".join(parts)


class Ranked:
    """Mixin for layers with per-axis fields: ``rank`` axes; scalar values become tuples of ``rank``."""

    rank = 2

    def __post_init__(self) -> None:
        cls = type(self)
        names = _RANKED_FIELDS.get(cls)
        if names is None:
            names = _RANKED_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.metadata.get("kind") in RANKED)  # type: ignore[arg-type]
        rank = self.rank
        for name in names:
            value = getattr(self, name)
            if isinstance(value, tuple):
                continue  # what the spec parser makes; expand() keeps tuples as they are
            if isinstance(value, list):
                value = tuple(value)
            object.__setattr__(self, name, expand(value, rank))


_RANKED_FIELDS: Dict[type, Tuple[str, ...]] = {}  # layer class -> its per-axis fields
