"""The network view's data: the layer DAG of a report (nodes = tree rows, edges = what each layer reads).

The browser lays it out with dagre (embedded in the report, see costlab/templates/vendor/); this module
only says which nodes and edges there are. Big graphs are drawn one node per block.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..graph import INPUT
from ..numbers import format_si, is_int
from .tree import TreeNode

MAX_LAYER_NODES = 600  # above this, one node per block (Inception-v4's 493 layers take ~1-3 s to lay out)
MAX_NODES = 1500  # above this, no drawing (dagre would take too long in the browser)


def _num(x: Any) -> float:
    return float(x) if is_int(x) else 0.0


def _label(name: str) -> str:
    """A node's short name: the last part of its name, with the one before when the last is a position
    ('features.5.branch3.0' -> 'branch3.0')."""
    parts = name.split(".")
    return ".".join(parts[-2:]) if parts[-1].isdigit() and len(parts) > 1 else parts[-1]


def network(analysis: Any, tree: Sequence[TreeNode], graph: Optional[Any] = None) -> Dict[str, Any]:
    """{"level": "layers"|"blocks", "nodes": [...], "edges": [[from, to], ...], "note": str} for the report's JS.

    A node's ``row`` is the tree row it links to; edges come from the graph's inputs, or follow the
    execution order where the graph records none (captured models)."""
    rows = analysis.rows
    leaf_of = {rows[n.index].name: n.order for n in tree if n.index is not None}
    top: Dict[int, int] = {}
    for n in tree:
        top[n.order] = n.order if n.parent is None else top[n.parent]
    inputs: Dict[str, Sequence[str]] = {}
    if graph is not None:
        inputs = {node.name: node.inputs for node in graph.nodes}
    recorded = any(inputs.get(r.name) for r in rows)
    note = "" if recorded else "The graph records no data flow for this model (captured models); drawn in execution order."
    edges: List[List[int]] = []
    names = [r.name for r in rows]
    for i, name in enumerate(names):
        target = leaf_of[name]
        sources = inputs.get(name, ()) if recorded else ((names[i - 1],) if i else (INPUT,))
        for src in sources:
            edges.append([-1 if src == INPUT else leaf_of.get(src, -2), target])
    edges = [e for e in edges if e[0] != -2]
    level = "layers"
    if len(leaf_of) > MAX_LAYER_NODES:
        level = "blocks"
        edges = [[e[0] if e[0] < 0 else top[e[0]], top[e[1]]] for e in edges]
        edges = [list(e) for e in dict.fromkeys((a, b) for a, b in edges if a != b)]
    chosen = [n for n in tree if (n.parent is None if level == "blocks" else n.index is not None)]
    if len(chosen) > MAX_NODES:
        return {"level": level, "nodes": [], "edges": [], "note": f"{len(chosen)} {level}: too many to draw; choose a smaller --depth."}
    nodes: List[Dict[str, Any]] = [{"id": -1, "row": None, "name": "input", "label": "input", "op": "input", "macs": 0, "params": 0, "activations": 0, "text": ""}]
    for n in chosen:
        op = rows[n.index].op if n.index is not None else f"{n.layers} layers"
        nodes.append({"id": n.order, "row": n.order, "name": n.key, "label": _label(n.key) if level == "layers" else n.key,
                      "op": op, "macs": _num(n.macs), "params": n.params, "activations": _num(n.activations),
                      "text": f"{format_si(n.macs, True)} MACs, {format_si(n.params, True)} params"})
    return {"level": level, "nodes": nodes, "edges": edges, "note": note}
