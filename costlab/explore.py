"""Answers over a grid of settings: the largest setting within a budget, and Pareto fronts.

Pure functions of a ``costlab.grid.Grid`` (or of plain columns); integers compared exactly.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .errors import CostlabError
from .grid import AXES, Grid
from .tables import plain

METRICS = ("macs", "params", "activations")


@dataclass(frozen=True)
class Largest:
    """For one axis: at each setting of the other two axes, the largest value of this axis whose
    metric stays within the budget (None where even the smallest does not)."""

    axis: str
    metric: str
    budget: int
    others: Tuple[str, str]
    rows: Tuple[Tuple[object, object, Optional[object], Optional[int]], ...]  # (other1, other2, largest, its metric)


def largest_within(grid: Grid, budget: int, axis: str, metric: str = "macs") -> Largest:
    """The largest ``axis`` value (batch, resolution or width) with ``metric`` <= ``budget``, per
    setting of the other axes. The metric need not be monotone: every value is checked."""
    if axis not in AXES:
        raise CostlabError(f"axis must be one of {', '.join(AXES)}, got {axis!r}")
    if metric not in METRICS:
        raise CostlabError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    values = getattr(grid, metric)
    position = AXES.index(axis)
    others = tuple(a for a in AXES if a != axis)
    moved = np.moveaxis(values, position, -1)  # (other1, other2, axis)
    within = moved <= budget
    axis_values = getattr(grid, axis)
    order = np.argsort(np.asarray(axis_values, dtype=np.float64), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))  # position of each value in ascending order
    best_rank = np.where(within, rank, -1).max(axis=-1)  # (other1, other2): -1 where nothing fits
    rows = []
    for i, first in enumerate(getattr(grid, others[0])):
        for j, second in enumerate(getattr(grid, others[1])):
            best = int(order[best_rank[i, j]]) if best_rank[i, j] >= 0 else None
            rows.append((plain(first), plain(second), None if best is None else plain(axis_values[best]),
                         None if best is None else int(moved[i, j, best])))
    return Largest(axis, metric, int(budget), (others[0], others[1]), tuple(rows))


def pareto_mask(objectives: Sequence[np.ndarray], maximize: Sequence[bool]) -> np.ndarray:
    """True for points no other point dominates: at least as good in every objective, better in one.

    Exact on integers (int64 or Python-int object arrays). Two or three objectives in
    O(n log n) (a sort and a staircase); more in O(n x front).
    """
    if len(objectives) < 2 or len(objectives) != len(maximize):
        raise CostlabError("a Pareto front needs two or more objectives, each minimized or maximized")
    flat = [np.asarray(o).ravel() for o in objectives]
    n = flat[0].size
    if n == 0:
        return np.zeros(0, dtype=bool)
    signed = [(-o if up else o) for o, up in zip(flat, maximize)]  # all minimized from here on
    keys = np.stack([np.asarray(s, dtype=object) if s.dtype == object else s for s in signed], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True) if keys.dtype != object else _unique_rows(keys)
    # unique rows come sorted lexicographically: any dominator of a row comes before it
    front = np.zeros(len(unique), dtype=bool)
    if unique.shape[1] == 2:
        best = None
        for i, (_, b) in enumerate(unique.tolist()):
            if best is None or b < best:
                front[i], best = True, b
    elif unique.shape[1] == 3:
        xs: List[object] = []  # staircase of front points: second objective ascending, third descending
        ys: List[object] = []
        for i, (_, b, c) in enumerate(unique.tolist()):
            k = bisect.bisect_right(xs, b)
            if k and ys[k - 1] <= c:
                continue  # dominated: an earlier point is no worse in all three (and differs)
            front[i] = True
            j = k
            while j < len(xs) and ys[j] >= c:
                j += 1
            xs[k:j] = [b]
            ys[k:j] = [c]
    else:
        kept: List[int] = []
        for i, row in enumerate(unique):
            if not any(all(unique[k] <= row) for k in kept):
                kept.append(i)
        front[kept] = True
    return front[np.asarray(inverse).ravel()]


def _unique_rows(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    rows = [tuple(r) for r in keys.tolist()]
    ordered = sorted(set(rows))
    index = {r: i for i, r in enumerate(ordered)}
    return np.array(ordered, dtype=object), np.array([index[r] for r in rows])


DEFAULT_FRONT = (("macs", True), ("params", False), ("activations", False))


def pareto_points(grid: Grid, objectives: Sequence[Tuple[str, bool]] = DEFAULT_FRONT,
                  budget: Optional[int] = None) -> Dict[str, np.ndarray]:
    """The grid's points on the Pareto front (columns as in ``Grid.columns``), within the MACs budget if given.

    The default front maximizes MACs (the compute a design spends) while minimizing params and
    activations (what it costs in memory): each remaining point is a best trade-off for its MACs.
    """
    columns = grid.columns()
    keep = np.ones(grid.size, dtype=bool) if budget is None else (columns["macs"] <= budget).astype(bool)
    chosen = {k: v[keep] for k, v in columns.items()}
    for name, _ in objectives:
        if name not in chosen:
            raise CostlabError(f"unknown objective {name!r} (known: {', '.join(chosen)})")
    mask = pareto_mask([chosen[name] for name, _ in objectives], [up for _, up in objectives])
    return {k: v[mask] for k, v in chosen.items()}


def parse_objectives(text: str) -> Tuple[Tuple[str, bool], ...]:
    """'max:macs,min:params,min:activations' -> (('macs', True), ('params', False), ...)."""
    out = []
    for part in text.split(","):
        sense, _, name = part.strip().partition(":")
        if sense not in ("min", "max") or name not in (*METRICS, *AXES):
            raise CostlabError(f"--pareto: expected min:NAME or max:NAME (NAME one of {', '.join((*METRICS, *AXES))}), got {part!r}")
        out.append((name, sense == "max"))
    if len(out) < 2:
        raise CostlabError("--pareto: give two or more objectives, e.g. max:macs,min:params")
    return tuple(out)


def merge_fronts(parts: Sequence[Mapping[str, np.ndarray]], objectives: Sequence[Tuple[str, bool]] = DEFAULT_FRONT) -> Dict[str, np.ndarray]:
    """The front of a union of fronts (each computed on one chunk of a grid) is the front of the whole."""
    keys = list(parts[0])
    joined = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    mask = pareto_mask([joined[name] for name, _ in objectives], [up for _, up in objectives])
    return {k: v[mask] for k, v in joined.items()}
