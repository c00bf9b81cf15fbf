"""Load model descriptions (YAML, TOML or JSON data; never code) into a ``Graph``.

A spec is a mapping with ``name``, ``description``, ``input`` (CxHxW) and ``layers``: a list of
layer mappings, each with a ``type`` and optional ``name``, ``input`` and ``train_only``. Besides the
registered layer types there are structural ones: ``sequence`` (``layers``), ``branches``
(``branches``, ``merge: concat|add``, ``then``), ``residual`` (``body``, ``shortcut``, ``then``)
and the Inception blocks (``inception``, ``inception_naive`` with ``numbers``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple, Union

from .blocks import BLOCKS
from .collector import collector_paused
from .errors import CostlabError, FieldError, SpecError
from .fields import PARSERS, LayerCache
from .graph import INPUT, Graph, GraphBuilder
from .registry import LayerType, lookup
from .shapes import Shape, parse_input

COMMON_KEYS = ("type", "name", "input", "train_only")
STRUCTURAL = {
    "sequence": ("layers",),
    "branches": ("branches", "merge", "then"),
    "residual": ("body", "shortcut", "then"),
}
TOP_KEYS = ("name", "description", "input", "layers")
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
# Merges need two inputs in a spec (captured models may record an add of a tensor and a constant).
SPEC_MIN_INPUTS = {"add": 2, "concat": 2}
_UNSEEN = object()  # a type name not looked up yet
# what a type name stands for: (registered type, fewest inputs, most inputs or None); None: a block
# or structural type; False: an unknown or internal type
Known = Union[Tuple[LayerType, int, Optional[int]], bool, None]
MAX_GROUP_DEPTH = 64  # groups inside groups (GoogLeNet nests 2); deeper specs are refused, not recursed into


class _Walker:
    """Turns nested spec data into builder nodes, naming children by their group's dotted path."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.builder = builder
        self.counters: Dict[str, Dict[str, int]] = {}
        self.depth = 0  # groups open around the current element
        self.types: Dict[str, Known] = {}  # type name -> what it stands for, looked up once
        self.names: Set[str] = set()  # layer names already checked against _NAME
        self.layers = LayerCache(ignore=COMMON_KEYS)  # identical layer mappings share one layer

    def error(self, message: str, layer: str, field: str = "") -> SpecError:
        return SpecError(message, source=self.builder.source, layer=layer, field=field)

    def sequence(self, items: Any, prefix: str, current: str, train_only: bool, owner: str, field: str) -> str:
        """Wire ``items`` one after another from ``current``; returns the last output name."""
        if not isinstance(items, list) or not items:
            raise self.error(f"must be a non-empty list of layers, got {type(items).__name__}", owner or "<top>", field)
        label = owner or "layers"
        for position, item in enumerate(items, 1):
            current = self.element(item, prefix, current, train_only, f"{label}[{position}]")
        return current

    def _type(self, kind: str) -> Known:
        """The registered type of ``kind`` with the fewest and most inputs it takes in a spec, None
        for a block or structural type, False for an unknown or internal one (see ``types``)."""
        found: Known = None
        if kind not in BLOCKS and kind not in STRUCTURAL:
            entry = lookup(kind)
            if entry is None or entry.internal:
                found = False
            else:
                found = (entry, max(entry.min_inputs, SPEC_MIN_INPUTS.get(entry.op, 0)), entry.max_inputs)
        self.types[kind] = found
        return found

    def _name(self, item: Mapping[str, Any], prefix: str, where: str) -> str:
        """The layer's full name: its own (checked) or one made from its type, after its group's."""
        kind = str(item.get("type"))
        name = item.get("name")
        if name is None:
            used = self.counters.setdefault(prefix, {})
            used[kind] = used.get(kind, 0) + 1
            name = kind if used[kind] == 1 else f"{kind}_{used[kind]}"
        elif type(name) is not str or name not in self.names:
            if not isinstance(name, str) or not _NAME.match(name):
                raise self.error(f"must be ASCII letters, digits, '_' or '-' (dots join groups), got {name!r}", where, "name")
            if type(name) is str:
                self.names.add(name)
        return f"{prefix}.{name}" if prefix else name

    @staticmethod
    def _place(item: Mapping[str, Any], prefix: str, where: str) -> str:
        """The layer's full name when it gives a valid one, else its position (``where``)."""
        named = item.get("name")
        if isinstance(named, str) and _NAME.match(named):
            return f"{prefix}.{named}" if prefix else named
        return where

    def element(self, item: Any, prefix: str, current: str, train_only: bool, where: str) -> str:
        """Add one layer or group; returns the name of its output."""
        if not isinstance(item, dict):
            raise self.error(f"must be a mapping with a 'type', got {type(item).__name__}", where)
        kind = item.get("type")
        if not isinstance(kind, str):
            problem = "is required (a layer type such as conv2d)" if kind is None else f"must be a string, got {kind!r}"
            raise self.error(problem, self._place(item, prefix, where), "type")
        known = self.types.get(kind, _UNSEEN)
        if known is _UNSEEN:
            known = self._type(kind)
        if known is False:
            # located by its own valid name or its position, never by a name made from the bad type
            raise self.error(f"unknown layer type {kind!r} (see 'costlab list --types')", self._place(item, prefix, where), "type")
        name = item.get("name")
        if type(name) is str and name in self.names:  # a name seen valid before
            full = f"{prefix}.{name}" if prefix else name
        else:
            full = self._name(item, prefix, where)
        flag = item.get("train_only", False)
        if flag is not False:
            if type(flag) is not bool:
                raise self.error(f"must be true or false, got {flag!r}", full, "train_only")
            train_only = True
        ref = item.get("input", current)
        inputs = (ref,) if type(ref) is str and ref else self._inputs(ref, full)
        if type(known) is tuple:
            entry, fewest, most = known
            if len(inputs) < fewest or (most is not None and len(inputs) > most):
                wanted = fewest if most == fewest else f"at least {fewest}"
                raise self.error(f"{kind} takes {wanted} input(s), got {len(inputs)}", full, "input")
            try:
                layer = self.layers.parse(entry.cls, item)
            except FieldError as e:
                raise self.error(e.message, full, e.field) from None
            return self.builder.add(full, layer, inputs, train_only)
        if kind in BLOCKS:
            expand, keys = BLOCKS[kind]
            self._check_keys(item, keys, full)
            try:
                if "bias" in item:
                    PARSERS["bool"](item["bias"], "bias")
                expanded = dict(expand(item), name=item.get("name"))
            except FieldError as e:
                raise self.error(e.message, full, e.field) from None
            return self._group(expanded, full, inputs, train_only, kind)
        self._check_keys(item, STRUCTURAL[kind], full)
        return self._group(item, full, inputs, train_only, kind)

    def _inputs(self, ref: Any, full: str) -> Tuple[str, ...]:
        """The names a layer's ``input`` field gives (one or a list)."""
        refs = ref if isinstance(ref, list) else [ref]
        if not refs or not all(isinstance(r, str) and r for r in refs):
            raise self.error(f"must be a layer name or a list of layer names, got {ref!r}", full, "input")
        return tuple(refs)

    def _check_keys(self, item: Mapping[str, Any], keys: tuple, full: str) -> None:
        for key in item:
            if key not in keys and key not in COMMON_KEYS:
                raise self.error(f"unknown field for {item['type']} (its fields: {', '.join(keys)})", full, str(key))

    def _group(self, item: Mapping[str, Any], full: str, inputs: Tuple[str, ...], train_only: bool, block: str) -> str:
        if len(inputs) != 1:
            raise self.error(f"a {block} block takes one input, got {len(inputs)}", full, "input")
        if self.depth >= MAX_GROUP_DEPTH:
            raise self.error(f"groups nest deeper than the limit of {MAX_GROUP_DEPTH} (costlab.spec.MAX_GROUP_DEPTH)", full, "type")
        start = inputs[0]
        kind = item["type"]
        self.depth += 1
        try:
            if kind == "sequence":
                out = self.sequence(item.get("layers"), full, start, train_only, full, "layers")
            elif kind == "branches":
                out = self._branches(item, full, start, train_only)
            else:
                out = self._residual(item, full, start, train_only)
        finally:
            self.depth -= 1
        self.builder.alias(full, out, block)
        return full

    def _merge(self, item: Mapping[str, Any], full: str, outs: List[str], train_only: bool, default: str) -> str:
        merge = item.get("merge", default)
        if merge not in ("concat", "add"):
            raise self.error(f"must be 'concat' or 'add', got {merge!r}", full, "merge")
        out = self.element({"type": merge, "name": merge, "input": outs}, full, outs[0], train_only, full)
        if "then" in item:
            out = self.sequence(item["then"], full, out, train_only, full, "then")
        return out

    def _branches(self, item: Mapping[str, Any], full: str, start: str, train_only: bool) -> str:
        branches = item.get("branches")
        if not isinstance(branches, list) or len(branches) < 2:
            raise self.error("must list at least two branches", full, "branches")
        outs = []
        for i, branch in enumerate(branches, 1):
            if isinstance(branch, list):
                branch = {"type": "sequence", "name": f"b{i}", "layers": branch}
            outs.append(self.element(branch, full, start, train_only, f"{full}.branches[{i}]"))
        return self._merge(item, full, outs, train_only, "concat")

    def _residual(self, item: Mapping[str, Any], full: str, start: str, train_only: bool) -> str:
        body = self.sequence(item.get("body"), full, start, train_only, full, "body")
        shortcut = start
        given = item.get("shortcut")
        if given is not None:  # a list of layers (group 'shortcut'), or one layer or named group
            spec = {"type": "sequence", "name": "shortcut", "layers": given} if isinstance(given, list) else given
            shortcut = self.element(spec, full, start, train_only, f"{full}.shortcut")
        return self._merge(dict(item, merge="add"), full, [shortcut, body], train_only, "add")


def graph_from_data(data: Any, source: str, default_name: str = "model") -> Graph:
    """Build a graph from parsed spec data; every problem is a SpecError naming source, layer and field."""
    with collector_paused():
        return _graph_from_data(data, source, default_name)


def _graph_from_data(data: Any, source: str, default_name: str) -> Graph:
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a mapping with 'layers', got {type(data).__name__}", source=source)
    for key in data:
        if key not in TOP_KEYS:
            raise SpecError(f"unknown top-level field (allowed: {', '.join(TOP_KEYS)})", source=source, field=str(key))
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise SpecError(f"must be a non-empty string, got {name!r}", source=source, field="name")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError("must be a string", source=source, field="description")
    shape = input_shape_field(data.get("input"), source)
    builder = GraphBuilder(name, source)
    _Walker(builder).sequence(data.get("layers"), "", INPUT, False, "", "layers")
    return builder.build(shape, description)


def input_shape_field(value: Any, source: str) -> Shape:
    """The spec's default input: 'CxHxW', a list of ints, or one int for a 1-D input (784)."""
    if value is None:
        raise SpecError("is required (e.g. input: 3x224x224)", source=source, field="input")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value,)
    try:
        if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            return tuple(value)
        if isinstance(value, str):
            return parse_input(value)
    except ValueError as e:
        raise SpecError(str(e), source=source, field="input") from None
    raise SpecError(f"must be a shape like 3x224x224, got {value!r}", source=source, field="input")


def read_data(path: Path) -> Any:
    """Parse a .yaml/.yml, .toml or .json spec as data, within the loader's limits (no code runs)."""
    from .dataload import load_file

    return load_file(path, "spec")


def load_spec(path: Path, name: Optional[str] = None) -> Graph:
    """Load and check a spec file."""
    with collector_paused():
        return graph_from_data(read_data(path), str(path), name or path.stem)


__all__ = ["load_spec", "graph_from_data", "read_data", "CostlabError"]
