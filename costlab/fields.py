"""Parse one spec mapping into a layer dataclass, checking every field by its declared kind."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, Callable, Dict, Mapping, Tuple

from .errors import FieldError
from .layers import ACTIVATIONS
from .numbers import is_int


def _positive(value: Any, field: str) -> int:
    if not is_int(value) or value <= 0:
        raise FieldError(field, f"must be a positive integer, got {value!r}")
    return int(value)


def _non_negative(value: Any, field: str) -> int:
    if not is_int(value) or value < 0:
        raise FieldError(field, f"must be a non-negative integer, got {value!r}")
    return int(value)


def _pair_of(check: Callable[[Any, str], int]) -> Callable[[Any, str], Tuple[int, int]]:
    def parse(value: Any, field: str) -> Tuple[int, int]:
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise FieldError(field, f"must be one integer or a pair [h, w], got {list(value)!r}")
            return (check(value[0], field), check(value[1], field))
        v = check(value, field)
        return (v, v)

    return parse


def _pair_or_none(value: Any, field: str) -> Any:
    return None if value is None else _pair_of(_positive)(value, field)


def _padding(value: Any, field: str) -> Any:
    if isinstance(value, str):
        if value not in ("same", "valid"):
            raise FieldError(field, f"must be an integer, a pair, 'same' or 'valid', got {value!r}")
        return value
    return _pair_of(_non_negative)(value, field)


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(field, f"must be true or false, got {value!r}")
    return value


def _prob(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise FieldError(field, f"must be a probability in [0, 1), got {value!r}")
    return float(value)


def _activation(value: Any, field: str) -> str:
    if value not in ACTIVATIONS:
        raise FieldError(field, f"must be one of {', '.join(ACTIVATIONS)}, got {value!r}")
    return str(value)


PARSERS: Dict[str, Callable[[Any, str], Any]] = {
    "channels": _positive,
    "count": _positive,
    "pair": _pair_of(_positive),
    "pair_or_none": _pair_or_none,
    "pad_pair": _pair_of(_non_negative),
    "padding": _padding,
    "bool": _bool,
    "prob": _prob,
    "activation": _activation,
}


def parse_layer(cls: type, spec: Mapping[str, Any], ignore: Tuple[str, ...] = ()) -> Any:
    """Build ``cls`` from ``spec``; unknown keys, missing required fields and bad values raise FieldError."""
    declared = {f.name: f for f in fields(cls)}
    for key in spec:
        if key not in declared and key not in ignore:
            allowed = ", ".join(sorted(declared)) or "none"
            raise FieldError(str(key), f"unknown field for this layer type (its fields: {allowed})")
    values = {}
    for name, f in declared.items():
        if name in spec:
            values[name] = PARSERS[f.metadata["kind"]](spec[name], name)
        elif f.default is MISSING:
            raise FieldError(name, "is required")
    return cls(**values)


def describe_fields(cls: type) -> str:
    """'out_channels, kernel, stride=1, ...' for help texts."""
    parts = []
    for f in fields(cls):
        parts.append(f.name if f.default is MISSING else f"{f.name}={f.default!r}")
    return ", ".join(parts)
