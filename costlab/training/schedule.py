"""Memory over a training step (forward, then backward in reverse) and over an inference pass.

A row's output is a value (an in-place row's output is its input's value). In the forward a value is
freed after its last reader unless a row saved it for backward (then it lives until the earliest such
row's backward) or it is a model output (read by the loss). The backward of a row frees its saved
tensors and its output's gradient and allocates a gradient per input that needs one and, at the first
use, its parameters' gradients (``zero_grad(set_to_none=True)``, PyTorch's default, frees them between
steps). Parameters and optimizer state are resident throughout. Bytes are exact for the model; the
allocator's own overhead and kernels' scratch space are not modelled (the README states the measured ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..graph import INPUT, Graph
from ..roofline import DTYPE_BYTES
from ..shapes import product
from .memory import Saved, saved
from .step import TrainStep

PRECISIONS = ("pure", "mixed")
VIEWS = ("flatten", "identity")  # ops whose output is a view of their input's storage
GRAD_VIEWS = ("concat", "cat", "add", "flatten", "identity")  # ops whose input gradients are views of the output's


@dataclass(frozen=True)
class Point:
    """Live bytes after one event of the schedule ('forward'/'backward', row name)."""

    phase: str
    name: str
    bytes: Any


@dataclass(frozen=True)
class Memory:
    """Bytes of a training step; ``peak`` and where it happens; ``saved`` per row."""

    params: Any
    grads: Any
    master: Any  # fp32 master weights under mixed precision
    optimizer: Any
    saved_activations: Any  # unique bytes of every value and new tensor autograd keeps
    saved_params: Any  # parameter and buffer bytes autograd keeps references to (resident anyway)
    per_row: Dict[str, List[Saved]]
    timeline: Tuple[Point, ...]
    inference: Tuple[Point, ...]
    uncounted: Tuple[str, ...]  # rows whose op has no saved-tensor rule
    by_module: Dict[str, Tuple[Any, Any]]  # module ('' top level) -> (activation bytes, parameter/buffer bytes) saved, storages once

    @property
    def resident(self) -> Any:
        return self.params + self.master + self.optimizer

    @property
    def peak(self) -> Point:
        return _peak(self.timeline)

    @property
    def inference_peak(self) -> Point:
        return _peak(self.inference)


def _peak(points: Sequence[Point]) -> Point:
    best = points[0]
    for p in points[1:]:
        if p.bytes > best.bytes:
            best = p
    return best


def _values(graph: Graph, rows: Sequence[Any]) -> Tuple[Dict[str, str], Dict[str, Tuple[str, ...]]]:
    """Each row's value (in-place and view rows share their input's) and each row's input rows."""
    nodes = {n.name: n for n in graph.nodes}
    value: Dict[str, str] = {INPUT: INPUT}
    sources: Dict[str, Tuple[str, ...]] = {}
    for r in rows:
        node = nodes[r.name]
        sources[r.name] = tuple(node.inputs)
        first = node.inputs[0] if node.inputs else ""
        alias = node.inplace or r.op in VIEWS
        value[r.name] = value.get(first, first) if alias and first in value else r.name
    return value, sources


def _segments(indices: Sequence[int]) -> Dict[int, int]:
    """Checkpointed segments: each run of consecutive recomputed rows, keyed by its first row."""
    segment: Dict[int, int] = {}
    for i in indices:
        segment[i] = segment.get(i - 1, i)
    return segment


def _source(srcs: Tuple[str, ...], index: int) -> Optional[str]:
    if not srcs:
        return None
    return srcs[index] if index < len(srcs) else srcs[-1]


def plan(graph: Graph, step: TrainStep, dtype: str = "float32", precision: str = "pure",
         params: Optional[int] = None) -> Memory:
    """The memory of one training step of ``step`` (and an inference pass of the same rows) at ``dtype``.

    ``precision='mixed'``: parameters and gradients at ``dtype`` plus fp32 master weights, optimizer
    state in fp32 (the ZeRO paper's 2 + 2 + 12 = 16 bytes per parameter for Adam at float16).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    size = DTYPE_BYTES[dtype]
    state_size = 4 if precision == "mixed" else size
    rows = [t.row for t in step.rows]
    total_params = step.analysis.total().params if params is None else params
    value, sources = _values(graph, rows)
    nodes = {n.name: n for n in graph.nodes}
    out_bytes = {r.name: product(r.out_shape) * size for r in rows}
    value_bytes: Dict[str, Any] = {INPUT: product((step.analysis.batch, *step.analysis.input)) * size}
    for r in rows:
        if value[r.name] == r.name:
            value_bytes[r.name] = out_bytes[r.name]
    per_row: Dict[str, List[Saved]] = {}
    uncounted: List[str] = []
    holders: Dict[str, int] = {}  # value -> index of the earliest row whose backward releases it
    new_bytes: Dict[int, Any] = {}
    saved_params: Any = 0
    by_module: Dict[str, Tuple[Dict[str, Any], List[Any], List[Any]]] = {}
    index = {r.name: i for i, r in enumerate(rows)}
    segment = _segments([i for i, t in enumerate(step.rows) if t.checkpointed])
    recomputed: Dict[int, Any] = {}  # segment -> bytes its recomputation materializes in the backward
    refree: Dict[int, Any] = {}  # row -> recomputed bytes freed after its backward
    seen: Dict[int, set] = {}
    for i, r in enumerate(rows):
        items = saved(r, step.needs[r.name], dtype)
        if items is None:
            uncounted.append(r.name)
            items = []
        per_row[r.name] = items
        inplace = nodes[r.name].inplace
        module = by_module.setdefault(r.name.split("#", 1)[0], ({}, [0], [0]))
        for s in items:
            source = _source(sources[r.name], s.index) if s.kind == "input" else None
            if i in segment and s.kind != "param" and not (source or "").startswith("@"):
                outside = s.kind == "input" and segment.get(index.get(source or "", -1)) != segment[i]
                if not outside:  # checkpointed: dropped in the forward, rebuilt when the backward reaches the segment
                    v = value[r.name] if s.kind == "output" else value.get(source or "", None)
                    fresh = s.kind == "new" or source == "" or inplace or v is None
                    if fresh or v not in seen.setdefault(segment[i], set()):
                        size_ = s.bytes if fresh or v is None else value_bytes.get(v, s.bytes)
                        seen[segment[i]].add(v)
                        recomputed[segment[i]] = recomputed.get(segment[i], 0) + size_
                        refree[i] = refree.get(i, 0) + size_
                    continue
            if s.kind == "param" or (source or "").startswith("@"):
                saved_params += s.bytes
                module[2][0] += s.bytes
            elif s.kind == "new" or source == "" or (s.kind == "input" and inplace):
                new_bytes[i] = new_bytes.get(i, 0) + s.bytes  # an in-place op saves a clone of the input it overwrites
                module[1][0] += s.bytes
            else:
                v = value[r.name] if s.kind == "output" else value.get(source or "", None)
                if v is None:
                    continue
                module[0][v] = value_bytes.get(v, s.bytes)  # a view (x[:, 0]) keeps its whole storage
                if v not in holders:
                    holders[v] = i
    saved_activations = sum((value_bytes.get(v, 0) for v in holders), 0) + sum(new_bytes.values(), 0)

    readers: Dict[str, int] = {}
    for i, r in enumerate(rows):
        for src in sources[r.name]:
            readers[value.get(src, src)] = i
    sinks = {value[r.name] for r in rows if value[r.name] not in readers and r.name == value[r.name]}
    optimizer = step.optimizer.states * step.trainable * state_size + (4 * len({k for t in step.needs.values() for k, _ in t.trainable}) if step.optimizer.step_tensor else 0)
    master = 4 * total_params if precision == "mixed" else 0
    resident = total_params * size + master + optimizer

    def forward(train: bool) -> List[Point]:
        live: Any = resident + value_bytes[INPUT]
        alive = {INPUT}
        points = []
        for i, r in enumerate(rows):
            v = value[r.name]
            if v not in alive:
                alive.add(v)
                live += value_bytes.get(v, 0)
            if train:
                live += new_bytes.get(i, 0)
            points.append(Point("forward", r.name, live))
            for u in list(alive):
                keep = u in sinks or readers.get(u, -1) > i or (train and u in holders)
                if not keep:
                    alive.remove(u)
                    live -= value_bytes.get(u, 0)
        return points

    inference = forward(False)
    timeline = forward(True)
    live = timeline[-1].bytes
    grads: Dict[str, Any] = {}
    for v in sinks:  # the loss's gradient for every model output; outputs nobody saved are freed
        grads[v] = value_bytes.get(v, 0)
        live += grads[v] - (0 if v in holders else value_bytes.get(v, 0))
    release: Dict[int, List[str]] = {}
    for v, i in holders.items():
        release.setdefault(i, []).append(v)
    grad_params: Any = 0
    last = {seg: max(i for i, g in segment.items() if g == seg) for seg in set(segment.values())}
    for i in range(len(rows) - 1, -1, -1):
        r, t = rows[i], step.rows[i]
        need = step.needs[r.name]
        if not need.output:
            continue
        targets = [src for src in dict.fromkeys(sources[r.name]) if step.needs.get(src) is not None and step.needs[src].output]
        if r.op in GRAD_VIEWS and targets:  # the input gradients are views of (or are) the output's gradient
            g = grads.pop(r.name, 0)
            owner = min(targets, key=index.__getitem__)  # the last one the backward reaches keeps the storage
            if owner in grads:
                live -= g  # accumulated into the gradient already there
            grads[owner] = grads.get(owner, 0) + (0 if owner in grads else g)
            for src in targets:
                grads.setdefault(src, 0)
        else:
            for src in targets:
                if src not in grads:
                    grads[src] = out_bytes.get(src, 0)
                    live += grads[src]
        if i in segment and last[segment[i]] == i:
            live += recomputed.get(segment[i], 0)
        if t.trainable:
            grad_params += t.trainable * size
            live += t.trainable * size
        points_bytes = live
        live -= grads.pop(r.name, 0) + new_bytes.get(i, 0) + refree.get(i, 0) + sum((value_bytes.get(v, 0) for v in release.get(i, [])), 0)
        timeline.append(Point("backward", r.name, points_bytes))
    modules = {m: (sum(vals.values(), 0) + new[0], par[0]) for m, (vals, new, par) in by_module.items()}
    return Memory(total_params * size, grad_params, master, optimizer, saved_activations, saved_params, per_row,
                  tuple(timeline), tuple(inference), tuple(uncounted), modules)
