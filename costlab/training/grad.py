"""Which tensors need a gradient: frozen patterns, requires_grad as captured, and the dataflow.

A layer's output needs a gradient when one of its inputs does or it has a trainable parameter
(autograd's rule). The graph input never does, so the first layer computes no input gradient, and
nothing upstream of only frozen layers computes any.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Sequence, Tuple

from ..graph import INPUT, Graph

_PARTS = re.compile(r"[.#]")


@dataclass(frozen=True)
class GradNeeds:
    """What one row's backward must compute.

    inputs: per input (aligned with the row's in_shapes), whether its gradient is needed;
    weight: whether the weight (non-bias parameter) gets a gradient; trainable: (parameter key,
    elements) of every trainable parameter the row reads; output: whether its output needs a gradient.
    """

    inputs: Tuple[bool, ...]
    weight: bool
    trainable: Tuple[Tuple[str, int], ...]
    output: bool

    @property
    def any_input(self) -> bool:
        return any(self.inputs)


def matches(name: str, patterns: Sequence[str]) -> bool:
    """True when a glob matches the layer name or one of its dotted prefixes ('layer1' matches 'layer1.0.conv1')."""
    if not patterns:
        return False
    cuts = [m.start() for m in _PARTS.finditer(name)] + [len(name)]
    candidates = {name[:c] for c in cuts if c > 0}
    return any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates)


def flow(graph: Graph) -> Dict[str, Tuple[str, ...]]:
    """Each node's input names (producers, or 'input'), for spec and captured graphs alike."""
    return {n.name: tuple(n.inputs) for n in graph.nodes}


def _params(node: Any, row: Any, frozen: bool) -> Tuple[Tuple[Tuple[str, int], ...], bool]:
    """Trainable (key, elements) and whether a weight is among them."""
    if frozen:
        return (), False
    if node.reads:  # captured: requires_grad as the model has it, every parameter the op reads
        live = tuple((p, n) for p, n, grad in node.reads if grad)
        return live, any(not p.rsplit(".", 1)[-1].endswith("bias") for p, _ in live)
    if node.recorded is not None or not row.params:
        return (), False
    weights = row.params - row.biases
    return ((row.name, row.params),), weights > 0


def _requires(source: str, requires: Dict[str, bool], trainable: set) -> bool:
    if source.startswith("@"):
        return source[1:] in trainable
    return requires.get(source, False)


def needs(graph: Graph, rows: Iterable[Any], frozen: Sequence[str] = ()) -> Dict[str, GradNeeds]:
    """GradNeeds per row name, propagated in graph order."""
    nodes = {n.name: n for n in graph.nodes}
    inputs_of = flow(graph)
    requires: Dict[str, bool] = {INPUT: False}
    result: Dict[str, GradNeeds] = {}
    for row in rows:
        node = nodes[row.name]
        trainable, weight = _params(node, row, matches(row.name, frozen))
        sources = inputs_of[row.name]
        live = {p for p, _ in trainable}
        per_input = tuple(_requires(s, requires, live) for s in sources[: len(row.in_shapes)])
        extra = any(requires.get(s, False) for s in sources[len(row.in_shapes):])
        if extra:
            per_input = tuple(True for _ in per_input)  # read through something costlab does not place: assume needed
        out = any(per_input) or extra or bool(trainable)
        requires[row.name] = out
        result[row.name] = GradNeeds(per_input, weight, trainable, out)
    return result
