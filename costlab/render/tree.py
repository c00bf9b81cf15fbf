"""The cost tree of a report: model -> block -> branch -> layer, with subtotals and shares per level.

Pure functions of an Analysis. Names are dotted paths (``inception_3a.b3.conv5x5``), so the tree
falls out of the names: a node at level k groups the rows whose names share their first k parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..analysis import _SEPARATOR  # the same rule as analysis.prefix: dotted groups, '#' before captured ops
from ..numbers import is_int

AUTO_BLOCKS = 40  # the automatic depth: the deepest level with at most this many blocks


@dataclass(frozen=True)
class TreeNode:
    """One row of the tree: a group (subtotal of its descendants) or a layer (``index``: its analysis row).

    ``level`` 0 is a block at the report's depth; ``order`` is the position in network order;
    shares are in % of the model's MACs and of the parent's MACs (None when symbolic or zero).
    """

    key: str
    level: int
    parent: Optional[int]
    order: int
    index: Optional[int]
    macs: Any
    params: int
    activations: Any
    share: Optional[float]
    share_of_parent: Optional[float]
    layers: int


class Names:
    """Prefixes of many names at many depths, each name split once (``analysis.prefix`` per call is slow
    for 10,000 rows): Names(['a.b.c'])(0, 2) == 'a.b'."""

    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        self.cuts = [[m.start() for m in _SEPARATOR.finditer(n) if m.start() > 0] for n in self.names]

    def __call__(self, i: int, depth: int) -> str:
        cuts = self.cuts[i]
        return self.names[i] if len(cuts) < depth else self.names[i][: cuts[depth - 1]]

    def depth(self, i: int) -> int:
        """How many parts name ``i`` has: 'inception_3a.b1.conv' has 3 ('#cat' counts as one)."""
        return len(self.cuts[i]) + 1


def block_count(analysis: Any, depth: int, names: Optional[Names] = None) -> int:
    """How many distinct blocks the rows form at ``depth``."""
    names = names or Names([r.name for r in analysis.rows])
    return len({names(i, depth) for i in range(len(names.names))})


def auto_depth(analysis: Any, max_blocks: int = AUTO_BLOCKS) -> int:
    """The deepest level with at most ``max_blocks`` blocks (at least 1): GoogLeNet 1, timm's
    inception_v4 2 (features.0 ... features.21), ViT 2 (blocks.0 ... blocks.11)."""
    names = Names([r.name for r in analysis.rows])
    deepest = max((names.depth(i) for i in range(len(names.names))), default=1)
    best = 1
    for depth in range(1, deepest + 1):
        if block_count(analysis, depth, names) > max_blocks:
            break
        best = depth
    return best


def tree_depth(analysis: Any, depth: int) -> int:
    """The tree's top level for blocks charted at ``depth``: the deepest level up to ``depth`` that still
    groups something (fewer blocks than rows), so a small model opens into branches instead of being flat."""
    rows, names = len(analysis.rows), Names([r.name for r in analysis.rows])
    for d in range(depth, 0, -1):
        if block_count(analysis, d, names) < rows:
            return d
    return 1


def _share(part: Any, whole: Any) -> Optional[float]:
    if is_int(part) and is_int(whole) and whole:
        return 100.0 * part / whole
    return None


def cost_tree(analysis: Any, depth: int = 1) -> List[TreeNode]:
    """The tree in network order (pre-order: a group before its children); the top level is the blocks
    at ``depth``, each opening into the next name part down to the layers."""
    rows = analysis.rows
    names = Names([r.name for r in rows])
    total = analysis.total().macs
    out: List[TreeNode] = []

    def build(members: List[int], level: int, parent: Optional[int], parent_macs: Any) -> None:
        groups: Dict[str, List[int]] = {}
        for i in members:
            groups.setdefault(names(i, depth + level), []).append(i)
        for key, idx in groups.items():
            macs = sum((rows[i].macs for i in idx), 0)
            params = sum(rows[i].params for i in idx)
            acts = sum((rows[i].activations for i in idx), 0)
            leaf = len(idx) == 1 and rows[idx[0]].name == key
            node = TreeNode(key, level, parent, len(out), idx[0] if leaf else None, macs, params, acts,
                            _share(macs, total), _share(macs, parent_macs), 1 if leaf else len(idx))
            out.append(node)
            if not leaf:
                build(idx, level + 1, node.order, macs)

    build(list(range(len(rows))), 0, None, total)
    return out


def blocks(analysis: Any, depth: int) -> List[Tuple[str, Any, int]]:
    """(block name, MACs, params) per block at ``depth``, in network order."""
    merged: Dict[str, List[Any]] = {}
    names = Names([r.name for r in analysis.rows])
    for i, r in enumerate(analysis.rows):
        merged.setdefault(names(i, depth), []).append(r)
    return [(k, sum((r.macs for r in rs), 0), sum(r.params for r in rs)) for k, rs in merged.items()]
