"""Spec fields: how a layer dataclass declares its fields, and how spec mappings are parsed into them.

Each field carries a ``kind`` (how a spec file spells it and which values are valid) and a doc line.
Window fields (kernel, stride, padding, dilation, ...) are tuples of the layer's rank (``rank`` class
attribute: 1, 2 or 3); a spec may give one number for every axis or a list of ``rank`` numbers.
"""

from __future__ import annotations

from dataclasses import MISSING, field, fields
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

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


def parse_value(f: Any, value: Any, rank: int) -> Any:
    """One field's value from a spec, checked by its kind."""
    kind = f.metadata["kind"]
    if kind == "choice":
        return _choice(value, f.name, f.metadata["choices"])
    if kind in RANKED:
        return RANKED[kind](value, f.name, rank)
    return PARSERS[kind](value, f.name)


def parse_layer(cls: type, spec: Mapping[str, Any], ignore: Tuple[str, ...] = ()) -> Any:
    """Build ``cls`` from ``spec``; unknown keys, missing required fields and bad values raise FieldError."""
    declared = {f.name: f for f in fields(cls)}
    for key in spec:
        if key not in declared and key not in ignore:
            allowed = ", ".join(sorted(declared)) or "none"
            raise FieldError(str(key), f"unknown field for this layer type (its fields: {allowed})")
    rank = getattr(cls, "rank", 2)
    values = {}
    for name, f in declared.items():
        if name in spec:
            values[name] = parse_value(f, spec[name], rank)
        elif f.default is MISSING:
            raise FieldError(name, "is required")
    return cls(**values)


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
        for f in fields(self):  # type: ignore[arg-type]
            if f.metadata.get("kind") in RANKED:
                value = getattr(self, f.name)
                if isinstance(value, list):
                    value = tuple(value)
                object.__setattr__(self, f.name, expand(value, self.rank))
