"""The layer graph: named layers wired into a DAG, with dotted names for grouping.

``GraphBuilder`` collects nodes whose inputs may name layers or groups defined anywhere;
``build()`` resolves the names, rejects unknown references and cycles, and returns a ``Graph``
whose nodes are in topological order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .errors import SpecError
from .shapes import Shape

INPUT = "input"


@dataclass(frozen=True)
class Node:
    """One layer: its dotted name, its description, the names it reads, and whether it is train-only.

    Captured nodes' inputs are aligned with their recorded input shapes ('@name' for a parameter, ''
    for a buffer or constant), followed by any other node they read."""

    name: str
    layer: Any
    inputs: Tuple[str, ...]
    train_only: bool = False
    recorded: Optional[Tuple[Shape, ...]] = None  # input shapes PyTorch reported (captured models)
    params: Optional["ParamCount"] = None  # parameters counted on the real module (captured models)
    reads: Tuple[Tuple[str, int, bool], ...] = ()  # captured: (parameter, elements, requires_grad) of every one it reads
    inplace: bool = False  # captured: the op overwrote its first input (relu_), so its output is no new tensor


@dataclass(frozen=True)
class ParamCount:
    """Parameters of a captured module: total, the bias part, and their arithmetic."""

    params: int
    biases: int
    text: str


@dataclass(frozen=True)
class Graph:
    """A model: nodes in topological order, its default input (CxHxW) and where it came from."""

    name: str
    nodes: Tuple[Node, ...]
    input_shape: Shape
    description: str = ""
    source: str = ""
    groups: Tuple[Tuple[str, str], ...] = ()  # (group name, block type), e.g. ("inception_3a", "inception")
    batch: Any = None  # captured graphs: the batch their shapes were recorded at
    inputs: str = ""  # captured graphs fed more than one CxHxW image: the --input text (e.g. 'input_ids:128:int64')
    assumptions: Tuple[str, ...] = ()  # captured graphs: what the capture assumed where values were needed

    def group_op(self, name: str) -> Optional[str]:
        """The block type of a group name ('inception'), or None."""
        return dict(self.groups).get(name)

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


_new, _set = object.__new__, object.__setattr__


def _spec_node(name: str, layer: Any, inputs: Tuple[str, ...], train_only: bool) -> Node:
    """``Node(name, layer, inputs, train_only)``, twice as fast for big specs: the generated
    ``__init__`` of a frozen dataclass sets all 8 fields through ``object.__setattr__``; the 4
    left out here read their defaults from the class, as dataclasses keep them there."""
    node = _new(Node)
    _set(node, "name", name)
    _set(node, "layer", layer)
    _set(node, "inputs", inputs)
    _set(node, "train_only", train_only)
    return node


@dataclass
class GraphBuilder:
    """Collects nodes and group aliases; names may be referenced before they are defined."""

    name: str
    source: str = ""
    nodes: List[Node] = field(default_factory=list)
    aliases: Dict[str, str] = field(default_factory=dict)  # group name -> its output node
    group_types: List[Tuple[str, str]] = field(default_factory=list)
    _names: Dict[str, Optional[int]] = field(default_factory=dict)  # every name claimed: a node's position, None for a group
    # What add() learnt, so build() can skip its checks in the common case: how many nodes it
    # added, and whether an input was neither an earlier node nor a group whose output is one
    # (a forward or unknown reference).
    _added: int = 0
    _forward: bool = False

    def add(self, name: str, layer: Any, inputs: Tuple[str, ...], train_only: bool = False) -> str:
        """Add a node and return its name; duplicate names are an error.

        An input naming a group already complete is stored as the group's output node (what
        build() would resolve it to: a group's output never changes)."""
        names = self._names
        if name in names or name == INPUT:
            self._claim(name)  # raises
        inputs = tuple(inputs)
        for ref in inputs:
            if names.get(ref) is None and ref != INPUT:  # not an earlier node
                inputs = self._earlier(inputs)
                break
        names[name] = len(self.nodes)
        self._added += 1
        self.nodes.append(_spec_node(name, layer, inputs, train_only))
        return name

    def _earlier(self, inputs: Tuple[str, ...]) -> Tuple[str, ...]:
        """``inputs`` with complete groups replaced by their output nodes; notes any other
        reference that is not an earlier node (build() then checks and orders everything)."""
        names = self._names
        resolved = list(inputs)
        for i, ref in enumerate(inputs):
            if names.get(ref) is None and ref != INPUT:
                target = self.resolve(ref) if ref in self.aliases else ref
                if names.get(target) is None:
                    self._forward = True
                else:
                    resolved[i] = target
        return tuple(resolved)

    def alias(self, group: str, output: str, block: str) -> None:
        """Let ``group`` stand for its output node ``output`` in references."""
        self._claim(group)
        self.aliases[group] = output
        self.group_types.append((group, block))

    def _claim(self, name: str) -> None:
        if name in self._names or name == INPUT:
            raise SpecError(f"the name '{name}' is used twice", source=self.source, layer=name, field="name")
        self._names[name] = None

    def resolve(self, ref: str) -> str:
        """A node name for a reference to a node or a group (groups may nest)."""
        seen = 0
        while ref in self.aliases and seen < 1000:
            ref, seen = self.aliases[ref], seen + 1
        return ref

    def build(self, input_shape: Shape, description: str = "") -> Graph:
        """Resolve references, check them, and order the nodes topologically.

        Nodes stay in definition order when every input is defined before its reader (the common
        case, and what Kahn's algorithm in definition order gives); otherwise they are sorted."""
        if self._forward or self._added != len(self.nodes):
            resolved, in_order = self._resolve_all()
        else:  # add() saw every input defined before its reader, and stored groups as their outputs
            resolved, in_order = self.nodes, True
        ordered = resolved if in_order else _topological(resolved, self.source)
        train_only = {n.name for n in resolved if n.train_only}
        if train_only:
            for node in ordered:
                if not node.train_only:
                    for ref in node.inputs:
                        if ref in train_only:
                            raise SpecError(
                                f"reads '{ref}', which only runs in training (mark this layer train_only too)",
                                source=self.source, layer=node.name, field="input",
                            )
        return Graph(self.name, tuple(ordered), input_shape, description, self.source, tuple(self.group_types))

    def _resolve_all(self) -> Tuple[List[Node], bool]:
        """Every node with its inputs resolved to node names (an unknown one is an error), and
        whether each reads only nodes defined before it."""
        index = {n.name: i for i, n in enumerate(self.nodes)}  # INPUT is never a node's name (claimed)
        aliases = self.aliases
        resolved: List[Node] = []
        in_order = True
        for i, node in enumerate(self.nodes):
            refs = node.inputs
            inputs = refs if aliases.keys().isdisjoint(refs) else tuple(self.resolve(r) for r in refs)
            for ref, target in zip(refs, inputs):
                at = index.get(target)
                if at is None:
                    if target != INPUT:
                        raise SpecError(f"refers to unknown layer '{ref}'", source=self.source, layer=node.name, field="input")
                elif at >= i:
                    in_order = False
            resolved.append(node if inputs == refs else Node(node.name, node.layer, inputs, node.train_only))
        return resolved, in_order


def _topological(nodes: List[Node], source: str) -> List[Node]:
    """Kahn's algorithm, stable in definition order; a cycle is an error naming one of its layers."""
    remaining = {n.name: sum(1 for r in n.inputs if r != INPUT) for n in nodes}
    readers: Dict[str, List[str]] = {}
    for n in nodes:
        for r in n.inputs:
            readers.setdefault(r, []).append(n.name)
    order = {n.name: i for i, n in enumerate(nodes)}
    by_name = {n.name: n for n in nodes}
    ready = [n.name for n in nodes if remaining[n.name] == 0]
    result: List[Node] = []
    heap = [(order[name], name) for name in ready]
    heapq.heapify(heap)
    while heap:
        _, name = heapq.heappop(heap)
        result.append(by_name[name])
        for reader in readers.get(name, ()):
            remaining[reader] -= 1
            if remaining[reader] == 0:
                heapq.heappush(heap, (order[reader], reader))
    if len(result) != len(nodes):
        stuck = [n.name for n in nodes if remaining[n.name] > 0]
        raise SpecError(
            f"is part of a cycle ({' -> '.join(stuck[:4])}{' ...' if len(stuck) > 4 else ''})",
            source=source, layer=stuck[0], field="input",
        )
    return result
