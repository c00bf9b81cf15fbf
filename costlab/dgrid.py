"""Grids too big for one evaluation: the same vectorized evaluation mapped over dask.array chunks.

``grid_arrays`` gives lazy (batch, resolution, width) arrays of MACs, params and activations, one
``evaluate_grid`` call per chunk; ``summarize`` reduces them chunk by chunk to the answers people
ask for (the largest resolution within a budget per batch and width, how many settings fit, the
Pareto front), so a 10^8-point grid never has to sit in memory. Whatever scheduler is active runs
it: threads in this process by default, or a dask.distributed Client (``costlab.cluster``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from .errors import CostlabError
from .explore import DEFAULT_FRONT, merge_fronts, pareto_points
from .graph import Graph
from .grid import Grid, evaluate_grid

METRIC_INDEX = {"macs": 0, "params": 1, "activations": 2}


def _block(graph: Graph, mode: str, batch: np.ndarray, resolution: np.ndarray, width: np.ndarray, square: bool) -> np.ndarray:
    grid = evaluate_grid(graph, resolution.tolist() if square else None, width.tolist(), batch.tolist(), mode)
    if grid.macs.dtype != np.int64:
        raise CostlabError(f"{graph.name}: values of this grid exceed int64; evaluate it without Dask (exact Python integers)")
    return np.stack([grid.macs, grid.params, grid.activations])


@dataclass(frozen=True)
class LazyGrid:
    """A grid as dask arrays of shape (batch, resolution, width), evaluated chunk by chunk on compute."""

    model: str
    batch: np.ndarray
    resolution: np.ndarray
    width: np.ndarray
    stacked: Any  # dask array (3, nB, nR, nW): macs, params, activations

    def __getattr__(self, name: str) -> Any:
        if name in METRIC_INDEX:
            return self.stacked[METRIC_INDEX[name]]
        raise AttributeError(name)

    @property
    def size(self) -> int:
        """Number of grid points."""
        return len(self.batch) * len(self.resolution) * len(self.width)


def grid_arrays(graph: Graph, resolution: Optional[Sequence[int]], width: Optional[Sequence[float]], batch: Sequence[int] = (1,),
                mode: str = "infer", chunk: Tuple[int, int, int] = (1, 1000, 1000)) -> LazyGrid:
    """Lazy MACs/params/activations over the grid, chunked as ``chunk`` (batch, resolution, width)."""
    import dask.array as da

    square = resolution is not None
    b = np.asarray(list(batch), dtype=np.int64)
    r = np.asarray(list(resolution) if resolution is not None else [graph.input_shape[1] if len(graph.input_shape) == 3 else 1],
                   dtype=np.int64)
    w = np.asarray([1.0] if width is None else list(width), dtype=np.float64)
    evaluate_grid(graph, r[:1].tolist() if square else None, w[:1].tolist() if width is not None else None, b[:1].tolist(), mode)  # fail early on bad input
    axes = [da.from_array(a, chunks=c) for a, c in zip((b, r, w), chunk)]

    def block(bb: np.ndarray, rr: np.ndarray, ww: np.ndarray) -> np.ndarray:
        return _block(graph, mode, bb.ravel(), rr.ravel(), ww.ravel(), square)

    stacked = da.map_blocks(block, axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :],
                            new_axis=[0], chunks=((3,), *(a.chunks[0] for a in axes)), dtype=np.int64,
                            meta=np.empty((0, 0, 0, 0), dtype=np.int64))
    return LazyGrid(graph.name, b, r, w, stacked)


@dataclass(frozen=True)
class Summary:
    """What a big grid comes down to.

    largest: (nB, nW) array of the largest resolution whose MACs stay within the budget (0: none);
    within: how many settings fit; front: the Pareto front's columns (as ``Grid.columns``);
    macs_min, macs_max: the range over the grid.
    """

    points: int
    budget: Optional[int]
    largest: Optional[np.ndarray]
    within: Optional[int]
    macs_min: int
    macs_max: int
    front: Optional[Dict[str, np.ndarray]]


def _chunk_front(block: np.ndarray, b: np.ndarray, r: np.ndarray, w: np.ndarray, budget: Optional[int],
                 objectives: Sequence[Tuple[str, bool]]) -> Dict[str, np.ndarray]:
    grid = Grid("", b, r, w, block[0], block[1], block[2])
    return pareto_points(grid, objectives, budget)


def summarize(lazy: LazyGrid, budget: Optional[int] = None, front: bool = False,
              objectives: Sequence[Tuple[str, bool]] = DEFAULT_FRONT, scheduler: Any = None) -> Summary:
    """Reduce a lazy grid chunk by chunk (nothing of grid size is gathered)."""
    import dask
    import dask.array as da

    macs = lazy.macs
    work: Dict[str, Any] = {"min": macs.min(), "max": macs.max()}
    if budget is not None:
        fits = macs <= budget
        sizes = da.from_array(lazy.resolution, chunks=macs.chunks[1])[None, :, None]
        work["largest"] = da.where(fits, sizes, 0).max(axis=1)
        work["within"] = fits.sum()
    if front:
        blocks = lazy.stacked.to_delayed()  # (1, nb, nr, nw) delayed blocks
        chunks = lazy.stacked.chunks[1:]
        starts = [np.concatenate([[0], np.cumsum(c)]) for c in chunks]
        parts = []
        for index in np.ndindex(*blocks.shape[1:]):
            axes = [values[s[i]:s[i + 1]] for values, s, i in zip((lazy.batch, lazy.resolution, lazy.width), starts, index)]
            parts.append(dask.delayed(_chunk_front)(blocks[(0, index[0], index[1], index[2])], *axes, budget, tuple(objectives)))
        work["front"] = dask.delayed(merge_fronts)(parts, tuple(objectives))
    kwargs = {"scheduler": scheduler} if scheduler is not None else {}
    (done,) = dask.compute(work, **kwargs)
    return Summary(lazy.size, budget, done.get("largest"), None if "within" not in done else int(done["within"]),
                   int(done["min"]), int(done["max"]), done.get("front"))
