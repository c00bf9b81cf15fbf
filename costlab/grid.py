"""Vectorized evaluation: one pass over a graph gives the cost of a whole grid of settings.

The grid has three axes, in this order: batch size N, square input resolution R (H = W = R) and
width multiplier w. Every dimension of every tensor is a Python int or an int64 numpy array that
broadcasts over (N, R, w): batch sizes have shape (nN, 1, 1), spatial sizes (1, nR, 1), channel
counts (1, 1, nw). Each op family has one array rule (costlab/gridrules.py: the same arithmetic as
its formula in costlab/formulas, checked point by point against ``analyze`` in the tests); a layer
type without one is refused by name, never counted as zero.

Channel counts follow ``costlab.sweep.widen`` exactly: which fields of which layers it scales is read
off ``widen`` itself (``width_plan``: each op family's registered ``widen`` rule, depthwise convs
following their input, the classifier keeping its outputs), each to ``max(1, round(c * w))`` (round
half to even, on the same float64 product). Results are exact integers: int64 while a bound computed
from the factors' maxima proves no value can reach 2**63, Python ints in object arrays otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import CostlabError, FieldError
from .graph import INPUT, Graph
from .gridrules import RULES, Context, Dim, Overflow, Shape, width_channels

FIELD_LIMIT = 2**31  # layer fields and axis values above this switch to exact object arrays
AXES = ("batch", "resolution", "width")

__all__ = ["Grid", "evaluate_grid", "supports", "width_channels", "width_plan", "AXES"]


@dataclass(frozen=True)
class Grid:
    """Totals over a grid: arrays of shape (len(batch), len(resolution), len(width)).

    macs and activations carry the batch; params do not. dtype int64, or object (Python ints)
    when values may exceed int64.
    """

    model: str
    batch: np.ndarray
    resolution: np.ndarray
    width: np.ndarray
    macs: np.ndarray
    params: np.ndarray
    activations: np.ndarray

    @property
    def shape(self) -> Tuple[int, int, int]:
        """(number of batch sizes, resolutions, widths)."""
        return (len(self.batch), len(self.resolution), len(self.width))

    @property
    def size(self) -> int:
        """Number of grid points."""
        return int(self.macs.size)

    def setting(self, index: Tuple[int, int, int]) -> Tuple[int, int, float]:
        """(batch, resolution, width) of one grid index."""
        n, r, w = index
        return int(self.batch[n]), int(self.resolution[r]), float(self.width[w])

    def columns(self) -> Dict[str, np.ndarray]:
        """Flat columns, one entry per point in C order (batch slowest, width fastest)."""
        b, r, w = np.meshgrid(self.batch, self.resolution, self.width, indexing="ij")
        return {"batch": b.ravel(), "resolution": r.ravel(), "width": w.ravel(),
                "macs": self.macs.ravel(), "params": self.params.ravel(), "activations": self.activations.ravel()}


# The factor widen is asked about: max(1, round(v x 1.618)) > v for every v >= 1, so every field it scales changes;
# the products' fractions are spread out, so a family rounding up or down instead is mostly caught here (the tests check it all).
WIDTH_PROBE = 1.618


def width_plan(graph: Graph) -> Dict[str, Tuple[str, ...]]:
    """Which layer fields a width multiplier scales: node name -> field names, read off ``costlab.sweep.widen``.

    The plan is what ``widen`` itself does at one probe factor (each op family's registered ``widen``
    rule: conv and transposed conv out_channels, and groups with them for a depthwise conv; hidden
    linear and bilinear out_features, the classifier kept; embedding_dim), so widen's refusals (grouped
    convs, attention heads) are raised here with its own message. Every field it changes must have
    become ``max(1, round(v x factor))``, the one rule the grid applies (``width_channels``); a family
    that scales a field otherwise is refused by name.
    """
    from .sweep import widen

    probe = widen(graph, WIDTH_PROBE)
    plan: Dict[str, Tuple[str, ...]] = {}
    for node, widened in zip(graph.nodes, probe.nodes):
        if widened.layer is node.layer:
            continue
        changed = tuple(f.name for f in fields(node.layer) if getattr(widened.layer, f.name) != getattr(node.layer, f.name))
        for name in changed:
            before, after = getattr(node.layer, name), getattr(widened.layer, name)
            if not (type(before) is int and type(after) is int and after == max(1, round(before * WIDTH_PROBE))):
                raise CostlabError(f"{graph.name}: layer '{node.name}': grid evaluation cannot follow how a width multiplier "
                                   f"scales field '{name}' of {type(node.layer).__name__} layers (analyze each setting instead)")
        if changed:
            plan[node.name] = changed
    return plan


# ----------------------------------------------------------------------------------------------


def _small_fields(graph: Graph) -> bool:
    """True when every integer in the layers' fields stays below FIELD_LIMIT (window arithmetic in int64)."""
    for node in graph.nodes:
        for f in fields(node.layer):
            value = getattr(node.layer, f.name)
            items = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= FIELD_LIMIT for v in items):
                return False
    return True


def supports(graph: Graph, mode: str = "infer") -> bool:
    """True when a grid can evaluate ``graph``: a spec or built-in graph (not captured) with a numeric input
    whose every layer counted in ``mode`` has an array rule."""
    if graph.batch is not None or not all(isinstance(d, int) for d in graph.input_shape):
        return False
    return all(n.recorded is None and type(n.layer) in RULES for n in graph.nodes if not (n.train_only and mode == "infer"))


def evaluate_grid(graph: Graph, resolution: Optional[Sequence[int]] = None, width: Optional[Sequence[float]] = None,
                  batch: Sequence[int] = (1,), mode: str = "infer", input_shape: Optional[Tuple[int, ...]] = None) -> Grid:
    """MACs, params and activations of ``graph`` at every (batch, resolution, width) of the grid.

    ``resolution=None`` keeps the input's own height and width (then ``Grid.resolution`` holds its
    height); ``width=None`` leaves channels as they are (``Grid.width`` is [1.0]). Each point equals
    ``analyze(widen(graph, w), (C, R, R), N, mode).total()``; a setting where that analysis would fail
    (a map smaller than a kernel, channels that no longer divide into groups) raises a SpecError
    naming the layer, the field and the first such setting.
    """
    from .analysis import MODES

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if graph.batch is not None or any(n.recorded is not None for n in graph.nodes):
        raise CostlabError(f"{graph.name}: a captured PyTorch model has fixed shapes; evaluate a grid of a spec file or built-in model")
    base = tuple(input_shape) if input_shape is not None else tuple(graph.input_shape)
    if not all(isinstance(d, int) for d in base):
        raise CostlabError(f"{graph.name}: a grid needs a numeric input shape, got {base}")
    if resolution is not None and len(base) != 3:
        raise CostlabError(f"{graph.name}: a resolution axis needs a CxHxW input, got {len(base)} dimension(s)")
    axes = _axes(batch, resolution if resolution is not None else [base[1] if len(base) == 3 else 1], width)
    plan = width_plan(graph) if width is not None else {}
    exact = not (_small_fields(graph) and all(int(np.max(np.abs(a))) < FIELD_LIMIT for a in axes[:2]) and max(base) < FIELD_LIMIT)
    while True:
        try:
            return _evaluate(graph, axes, plan, mode, base, resolution is not None, exact)
        except Overflow:
            exact = True
        except OverflowError:  # numpy refused a Python int beyond int64: redo with Python ints
            if exact:
                raise
            exact = True


def _axes(batch: Sequence[int], resolution: Sequence[int], width: Optional[Sequence[float]]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(list(batch), dtype=object)
    r = np.asarray(list(resolution), dtype=object)
    for name, values in (("batch", b), ("resolution", r)):
        if values.size == 0 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values):
            raise CostlabError(f"{name}: the grid needs positive integers, got {list(values)[:5]}")
    w = np.asarray([1.0] if width is None else list(width), dtype=np.float64)
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise CostlabError(f"width: multipliers must be finite and positive, got {list(w)[:5]}")
    small = lambda v: v.astype(np.int64) if all(abs(int(x)) < FIELD_LIMIT for x in v) else v  # noqa: E731
    return small(b), small(r), w


def _evaluate(graph: Graph, axes: Tuple[np.ndarray, np.ndarray, np.ndarray], plan: Dict[str, Tuple[str, ...]], mode: str,
              base: Tuple[int, ...], square: bool, exact: bool) -> Grid:
    ctx = Context(graph, *axes, exact_objects=exact)
    n_axis, r_axis = ctx.axes
    spatial = (r_axis, r_axis) if square else tuple(base[1:])
    shapes: Dict[str, Shape] = {INPUT: (n_axis, base[0], *spatial)}
    macs: Dim = 0
    params: Dim = 0
    bounds = [0, 0]
    outputs: Dict[Tuple[Any, ...], List[Any]] = {}  # activation terms by the identity of their dims
    for node in graph.nodes:
        if node.train_only and mode == "infer":
            continue
        fn = RULES.get(type(node.layer))
        if fn is None:
            raise CostlabError(f"{graph.source or graph.name}: layer '{node.name}': grid evaluation has no rule for "
                               f"{type(node.layer).__name__} layers (analyze each setting instead)")
        ctx.node = node.name
        layer = node.layer
        scaled = plan.get(node.name)
        if scaled:
            layer = _with_arrays(layer, {name: ctx.channels(getattr(layer, name)) for name in scaled})
        try:
            out, layer_macs, layer_params = fn(ctx, layer, tuple(shapes[r] for r in node.inputs))
        except FieldError as e:  # a formula helper's check on the layer alone (conv_padding): every setting fails
            ctx.fail(e.field, e.message)
        shapes[node.name] = out
        if not (isinstance(layer_macs, int) and layer_macs == 0):
            bounds[0] += ctx.bound(layer_macs)
            ctx.check(bounds[0])
            macs = macs + layer_macs
        if not (isinstance(layer_params, int) and layer_params == 0):
            bounds[1] += ctx.bound(layer_params)
            ctx.check(bounds[1])
            params = params + layer_params
        key = tuple(d if isinstance(d, int) else id(d) for d in out)
        outputs.setdefault(key, [out, 0])[1] += 1
    activations: Dim = 0
    bound = 0
    for out, count in outputs.values():
        bound += count * _product_bound(ctx, out)
        ctx.check(bound)
        activations = activations + ctx.mul(count, *out)
    full = (len(axes[0]), len(axes[1]), len(axes[2]))
    dtype = object if exact else np.int64

    def spread(value: Dim) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), full))

    resolution_values = axes[1] if square else np.asarray([base[1] if len(base) == 3 else 1])
    return Grid(graph.name, axes[0], resolution_values, axes[2], spread(macs), spread(params), spread(activations))


def _with_arrays(layer: Any, values: Dict[str, Any]) -> Any:
    """A copy of a (frozen) layer with the widened fields as arrays over the width axis (no __init__: its
    checks and per-axis expansion already ran on the original)."""
    copy = object.__new__(type(layer))
    copy.__dict__.update(layer.__dict__)
    copy.__dict__.update(values)
    return copy


def _product_bound(ctx: Context, dims: Shape) -> int:
    bound = 1
    for d in dims:
        bound *= ctx.bound(d)
    return bound
