"""Read untrusted data files (specs, budget configs, baselines) with limits; never run code.

One loader for YAML, TOML and JSON. Every file gets the same limits, checked before the data can
hurt: its size (``MAX_BYTES``), how deep it nests (``MAX_DEPTH``: checked on YAML's event stream
*before* libyaml composes nodes, whose C recursion a 30,000-deep ``[[[...`` would overflow), and how
many nodes it holds once YAML aliases are expanded (``MAX_NODES``: a "billion laughs" file of a few
KB is refused instead of growing to gigabytes later). Recursive YAML aliases and duplicate mapping
keys (YAML, JSON and TOML) are refused by name. Errors are ``DataError``: one line naming the file,
the limit or the key.

A plain YAML document (no anchors, aliases, tags or merge keys: what specs are) is read in one pass
over libyaml's events, checking the limits as it builds the data; any other goes the full way.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .errors import SpecError

MAX_BYTES = 32 * 2**20  # 32 MiB: the largest built-in spec is ~60 KB
MAX_DEPTH = 200  # nesting levels of lists and mappings (a spec group costs two: a mapping and its list)
MAX_NODES = 1_000_000  # scalars, lists and mappings after alias expansion (GoogLeNet's spec: ~3,000)
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}


class DataError(SpecError):
    """A data file that cannot be read, parsed, or breaks a limit; names the file (and key)."""


def read_text(path: Path, what: str = "file") -> str:
    """The file's text (UTF-8), refusing files larger than ``MAX_BYTES``."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as e:
        raise DataError(f"cannot read the {what}: {e.strerror or e}", source=source) from None
    except ValueError:  # a NUL byte in the path
        raise DataError(f"cannot read the {what}: the path contains a NUL byte", source=repr(source)) from None
    if len(raw) > MAX_BYTES:
        raise DataError(f"larger than the limit of {MAX_BYTES:,} bytes (costlab.dataload.MAX_BYTES)", source=source)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})", source=source) from None


def load_file(path: Path, what: str = "file", fmt: Optional[str] = None) -> Any:
    """Parse a .yaml/.yml, .toml or .json file (or ``fmt``) as plain data, within the limits."""
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"unknown {what} format (use {', '.join(FORMATS)})", source=str(path))
    return loads(read_text(path, what), fmt, str(path))


def loads(text: str, fmt: str, source: str = "<data>") -> Any:
    """Parse ``text`` as ``fmt`` ('yaml', 'toml' or 'json') within the limits."""
    if len(text) > MAX_BYTES:
        raise DataError(f"larger than the limit of {MAX_BYTES:,} bytes (costlab.dataload.MAX_BYTES)", source=source)
    parse = {"yaml": _yaml, "toml": _toml, "json": _json}[fmt]
    try:
        return parse(text, source)
    except DataError:
        raise
    except RecursionError:
        raise _too_deep(source) from None
    except Exception as e:  # each parser has its own error type; all mean "not valid data"
        detail = " ".join(str(e).split())
        raise DataError(f"is not valid {fmt.upper()}: {detail}", source=source) from None


def _too_deep(source: str) -> DataError:
    return DataError(f"nests deeper than the limit of {MAX_DEPTH} levels (costlab.dataload.MAX_DEPTH)", source=source)


def _too_many(source: str) -> DataError:
    return DataError(f"holds more than the limit of {MAX_NODES:,} values after expanding aliases "
                     "(costlab.dataload.MAX_NODES)", source=source)


def _duplicate(source: str, key: Any, where: str = "") -> DataError:
    return DataError(f"duplicate key {key!r}{' in ' + where if where else ''} (each key may appear once)", source=source)


# --- YAML -------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _yaml_loader() -> Any:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: same rules, faster

    class Loader(base):  # type: ignore[misc, valid-type]
        """The safe loader, refusing duplicate keys (the last one would silently win)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: Dict[Any, None] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        mark = key_node.start_mark
                        raise _duplicate(self.source, key, f"the mapping at line {mark.line + 1}")
                    seen[key] = None
                except TypeError:
                    pass  # an unhashable key: the base constructor reports it
            return super().construct_mapping(node, deep)

    return Loader


def _yaml_limits(text: str, source: str) -> None:
    """Depth, expanded node count and recursive aliases, from libyaml's event stream (no recursion)."""
    import yaml
    from yaml import events as ev

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: Dict[str, int] = {}  # anchor -> nodes in its expanded subtree
    open_anchors: Dict[str, None] = {}
    stack: List[List[Any]] = []  # [expanded nodes so far, anchor] per open collection
    total = 0
    starts = (ev.SequenceStartEvent, ev.MappingStartEvent)
    ends = (ev.SequenceEndEvent, ev.MappingEndEvent)
    for event in yaml.parse(text, Loader=base):
        if isinstance(event, starts):
            if len(stack) >= MAX_DEPTH:
                raise _too_deep(source)
            if event.anchor:
                open_anchors[event.anchor] = None
                sizes.pop(event.anchor, None)
            stack.append([1, event.anchor])
            continue
        if isinstance(event, ev.ScalarEvent):
            count = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, ends):
            count, anchor = stack.pop()
            if anchor:
                open_anchors.pop(anchor, None)
                sizes[anchor] = count
        elif isinstance(event, ev.AliasEvent):
            if event.anchor in open_anchors:
                raise DataError(f"the alias *{event.anchor} refers to a node that contains it (a recursive alias)",
                                source=source)
            count = sizes.get(event.anchor or "", 1)  # an unknown anchor: the composer reports it
        else:
            continue
        if stack:
            stack[-1][0] += count
            if stack[-1][0] > MAX_NODES:
                raise _too_many(source)
        else:
            total += count
            if total > MAX_NODES:
                raise _too_many(source)


_PLAIN_TAGS = frozenset("tag:yaml.org,2002:" + kind for kind in ("str", "int", "float", "bool", "null", "timestamp"))
_NOT_PLAIN = object()


def _plain_yaml(text: str) -> Any:
    """The data of a plain YAML document, or ``_NOT_PLAIN``; one pass over libyaml's events.

    Plain: one document of mappings, sequences and untagged scalars of the types above, with no
    anchor, alias, merge key, collection as a key or duplicate key, within the limits. The scalars
    are resolved and constructed by the loader's own resolver and constructors, so the data equals
    what the safe loader builds; anything else (and any error) is left to the full path, which
    then gives its usual data or error. Three times as fast: one parse, no composed nodes."""
    from yaml.constructor import SafeConstructor
    from yaml.events import (
        DocumentEndEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
        SequenceStartEvent, StreamEndEvent, StreamStartEvent,
    )
    from yaml.nodes import ScalarNode

    loader = _yaml_loader()(text)
    try:
        constructors = loader.yaml_constructors
        if loader.yaml_path_resolvers or constructors.get("tag:yaml.org,2002:str") is not SafeConstructor.construct_yaml_str:
            return _NOT_PLAIN
        resolve = loader.resolve
        plain_tags: Dict[str, str] = {}  # a plain scalar's text -> its resolved tag (the resolver is a function of it)
        stack: List[List[Any]] = []  # per open collection: [container, values in it, key waiting for its value]
        total, documents, data = 0, 0, None
        no_key = _NOT_PLAIN
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    return _NOT_PLAIN
                implicit = event.implicit
                if implicit[0]:
                    tag = plain_tags.get(event.value)
                    if tag is None:
                        tag = plain_tags[event.value] = resolve(ScalarNode, event.value, implicit)
                else:
                    tag = resolve(ScalarNode, event.value, implicit)
                if tag == "tag:yaml.org,2002:str":
                    value: Any = event.value
                elif tag in _PLAIN_TAGS:
                    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
                    value = constructors[tag](loader, node)
                else:
                    return _NOT_PLAIN
                count = 1
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                    return _NOT_PLAIN
                if stack and type(stack[-1][0]) is dict and stack[-1][2] is no_key:
                    return _NOT_PLAIN  # a collection as a key
                stack.append([{} if kind is MappingStartEvent else [], 1, no_key])
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                value, count, _ = stack.pop()
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    return _NOT_PLAIN
                continue
            elif kind is DocumentEndEvent or kind is StreamStartEvent or kind is StreamEndEvent:
                continue
            else:  # an alias
                return _NOT_PLAIN
            if not stack:
                total += count
                if total > MAX_NODES:
                    return _NOT_PLAIN
                data = value
                continue
            top = stack[-1]
            top[1] += count
            if top[1] > MAX_NODES:
                return _NOT_PLAIN
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[2] is no_key:  # a key
                if value in container:
                    return _NOT_PLAIN
                top[2] = value
            else:
                container[top[2]] = value
                top[2] = no_key
        return data
    except Exception:  # the full path reports it
        return _NOT_PLAIN
    finally:
        loader.dispose()


def _yaml(text: str, source: str) -> Any:
    data = _plain_yaml(text)
    if data is not _NOT_PLAIN:
        return data
    _yaml_limits(text, source)  # first: the limits make composing safe
    loader = _yaml_loader()(text)
    loader.source = source
    try:
        return loader.get_single_data()  # a safe loader: no code runs
    finally:
        loader.dispose()


# --- JSON and TOML -------------------------------------------------------------------------------------

def _json(text: str, source: str) -> Any:
    def pairs(items: List[Tuple[str, Any]]) -> Dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            seen: Dict[str, None] = {}
            for key, _ in items:
                if key in seen:
                    raise _duplicate(source, key)
                seen[key] = None
        return result

    data = json.loads(text, object_pairs_hook=pairs)
    _check_tree(data, source)
    return data


def _toml(text: str, source: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, from PyPI (a dependency there)
        import tomli as tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        detail = str(e)
        if "overwrite" in detail or "twice" in detail or "Duplicate" in detail:
            raise DataError(f"duplicate key: {detail}", source=source) from None
        raise
    _check_tree(data, source)
    return data


_CONTAINERS = (dict, list)


def _check_tree(data: Any, source: str) -> None:
    """Depth and node count of parsed data without aliases, walked iteratively."""
    if _within_limits(data):
        return
    _first_limit(data, source)


def _within_limits(data: Any) -> bool:
    """Whether ``data`` holds at most ``MAX_NODES`` values and nests at most ``MAX_DEPTH`` levels.

    Counts a container's values in one step and walks containers only, so scalars cost one type check."""
    if not isinstance(data, _CONTAINERS):
        return True
    count = 1
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        children = value.values() if isinstance(value, dict) else value
        count += len(children)
        if count > MAX_NODES:
            return False
        deeper = depth + 1
        for child in children:
            if isinstance(child, _CONTAINERS):
                stack.append((child, deeper))
    return True


def _first_limit(data: Any, source: str) -> None:
    """Raise for the first limit met walking ``data`` depth first, last child first."""
    stack = [(data, 1)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _too_many(source)
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _too_deep(source)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
