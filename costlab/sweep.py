"""Resolution sweeps from one symbolic formula: analyse once with H = W = R, evaluate at every R.

The formula is compiled to Python with exact integer arithmetic (floor(p/q) as p // q, fractions
where anything else is rational), so every point equals a numeric analysis at that size; a numeric
analysis at both ends of the range checks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Callable, Iterable, List, Optional

from .analysis import analyze
from .errors import CostlabError, SpecError
from .graph import Graph


@dataclass(frozen=True)
class Point:
    """Cost at one resolution (square input RxR) and width multiplier."""

    resolution: int
    macs: int
    params: int
    activations: int
    width: float = 1.0


MAX_POINTS = 2_000_000  # points in one sweep (a 1M-point resolution sweep takes seconds)
MAX_WIDTH = 100.0  # width multipliers above this are refused (channel counts would be absurd)
MAX_WIDTH_POINTS = 1_000  # each width point is a full numeric analysis


def _sizes_error(text: str, why: str, option: str = "--resolution") -> CostlabError:
    return CostlabError(f"{option}: {why}, got {text!r}")


def parse_range(text: str) -> List[int]:
    """'128:512:32' -> [128, 160, ..., 512] (inclusive); '224' -> [224]; '128,224,320' -> those."""
    try:
        if "," in text:
            values = [int(v) for v in text.split(",")]
        elif ":" in text:
            start, stop, *step_ = (int(v) for v in text.split(":"))
            if len(step_) > 1:
                raise ValueError
            step = step_[0] if step_ else 1
            if step < 1:
                raise _sizes_error(text, "the step must be a positive integer")
            if start > stop:
                raise _sizes_error(text, f"the range is reversed (start {start} > stop {stop}); write {stop}:{start}:{step}")
            if min(start, stop) < 1:
                raise _sizes_error(text, "sizes must be positive")
            if (stop - start) // step + 1 > MAX_POINTS:
                raise _sizes_error(text, f"more than {MAX_POINTS:,} points (costlab.sweep.MAX_POINTS)")
            values = list(range(start, stop + 1, step))
        else:
            values = [int(text)]
    except ValueError:
        raise _sizes_error(text, "expected START:STOP:STEP, a list or one size") from None
    if not values or min(values) < 1:
        raise _sizes_error(text, "sizes must be positive")
    if len(values) > MAX_POINTS:
        raise _sizes_error(text, f"more than {MAX_POINTS:,} points (costlab.sweep.MAX_POINTS)")
    return values


def _compile(expr: Any, symbol: Any) -> Callable[[int], int]:
    """An exact evaluator of a sympy expression in one integer symbol."""
    import sympy
    from sympy.printing.pycode import PythonCodePrinter

    class Exact(PythonCodePrinter):
        def _print_Rational(self, e: Any) -> str:
            return f"Fraction({e.p}, {e.q})"

        def _print_Half(self, e: Any) -> str:
            return "Fraction(1, 2)"

        def _split(self, e: Any) -> Any:
            num, den = sympy.fraction(sympy.together(e.args[0]))
            return (self._print(sympy.expand(num)), int(den)) if den.is_Integer else (None, None)

        def _print_floor(self, e: Any) -> str:  # floor(p/q) == p // q for integers: no fractions at run time
            num, den = self._split(e)
            return f"(({num}) // {den})" if num is not None else f"floor({self._print(e.args[0])})"

        def _print_ceiling(self, e: Any) -> str:
            num, den = self._split(e)
            return f"(-((-({num})) // {den}))" if num is not None else f"ceil({self._print(e.args[0])})"

    if not isinstance(expr, sympy.Basic):
        return lambda r: int(expr)
    fn = sympy.lambdify(symbol, expr, modules=[{"floor": math.floor, "ceil": math.ceil, "Fraction": Fraction}], printer=Exact)
    return lambda r: int(fn(r))


def resolution_sweep(graph: Graph, sizes: Iterable[int], batch: int = 1, mode: str = "infer",
                     progress: Optional[Callable[[Iterable[int]], Iterable[int]]] = None) -> List[Point]:
    """MACs, params and activations of ``graph`` at every square resolution in ``sizes``.

    One vectorized pass (``costlab.grid``) when every layer has an array rule; otherwise one symbolic
    analysis in R, compiled to exact integer arithmetic and checked against numeric analyses at both ends.
    """
    from .shapes import symbol

    if graph.batch is not None:
        raise CostlabError(f"{graph.name}: a captured PyTorch model has fixed shapes; sweep a spec file or built-in model")
    _numeric_batch(batch)
    sizes = list(sizes)
    if len(graph.input_shape) == 3 and _on_grid(graph, mode):
        return _grid_points(graph, sizes, None, batch, mode)
    r = symbol("R")
    channels = graph.input_shape[0]
    try:
        symbolic = analyze(graph, (channels, r, r), batch, mode).total()
    except SpecError as e:
        raise CostlabError(f"{graph.name} cannot be swept symbolically: {e}") from None
    macs_at, acts_at = _compile(symbolic.macs, r), _compile(symbolic.activations, r)
    for size in (min(sizes), max(sizes)):  # raises a SpecError naming the layer when a size is too small
        check = analyze(graph, (channels, size, size), batch, mode).total()
        if (macs_at(size), acts_at(size), symbolic.params) != (check.macs, check.activations, check.params):
            raise CostlabError(f"{graph.name}: the symbolic formula disagrees with the numeric analysis at {size} (a costlab bug)")
    iterate = progress(sizes) if progress else sizes
    return [Point(s, macs_at(s), int(symbolic.params), acts_at(s)) for s in iterate]


def _on_grid(graph: Graph, mode: str) -> bool:
    from .grid import supports

    return supports(graph, mode)


def _grid_points(graph: Graph, sizes: Optional[List[int]], factors: Optional[List[float]], batch: int, mode: str) -> List[Point]:
    """The points of a one-axis sweep (resolutions, or widths at one resolution) from one grid pass."""
    from .grid import evaluate_grid

    grid = evaluate_grid(graph, sizes, factors, [batch], mode)
    macs, params, acts = (a[0].tolist() for a in (grid.macs, grid.params, grid.activations))  # Python ints
    return [Point(int(size), int(macs[r][w]), int(params[r][w]), int(acts[r][w]), float(factor))
            for r, size in enumerate(grid.resolution.tolist()) for w, factor in enumerate(grid.width.tolist())]


def _numeric_batch(batch: Any) -> None:
    from .numbers import is_int

    if not is_int(batch):
        raise CostlabError(f"--batch: a sweep needs a number, got {batch} (a name makes every point a formula)")


def largest_within(points: List[Point], budget: int, by: str = "resolution") -> Optional[Point]:
    """The largest resolution (or width) whose MACs stay within ``budget``."""
    within = [p for p in points if p.macs <= budget]
    return max(within, key=lambda p: p.resolution if by == "resolution" else p.width) if within else None


def widen(graph: Graph, factor: float) -> Graph:
    """The graph with every layer that has a width scaled by ``factor``, as its op family says
    (``widen`` in its registration: conv and transposed conv output channels, linear and recurrent
    widths, embedding sizes; rounded, at least 1). A classifier (a linear layer no weighted layer
    follows) keeps its outputs; depthwise convs follow their input; other grouped convs are refused."""
    from dataclasses import replace

    from .errors import FieldError
    from .registry import for_layer

    def scales(layer: object) -> bool:
        return callable(for_layer(layer).widen)

    readers: dict = {}
    for node in graph.nodes:
        for ref in node.inputs:
            readers.setdefault(ref, []).append(node)
    feeds_weighted: dict = {}
    for node in reversed(graph.nodes):
        feeds_weighted[node.name] = any(scales(r.layer) or feeds_weighted.get(r.name, False) for r in readers.get(node.name, []))
    rows = analyze(graph).rows  # input channels of each layer before widening (depthwise convs follow them)
    in_channels = {r.name: r.in_shapes[0][1] for r in rows if r.in_shapes and len(r.in_shapes[0]) > 1}
    nodes = []
    for node in graph.nodes:
        layer = node.layer
        rule = for_layer(layer).widen
        if callable(rule):
            try:
                layer = rule(layer, factor, in_channels.get(node.name), not feeds_weighted[node.name])
            except FieldError as e:
                raise CostlabError(f"{graph.source or graph.name}: layer '{node.name}': field '{e.field}': {e.message}") from None
        nodes.append(replace(node, layer=layer))
    return replace(graph, nodes=tuple(nodes), name=f"{graph.name} x{factor:g}")


def width_sweep(graph: Graph, factors: Iterable[float], resolution: Optional[int] = None, batch: int = 1,
                mode: str = "infer") -> List[Point]:
    """Cost at each width multiplier: one vectorized pass (``costlab.grid``) when every layer has an array
    rule, else a numeric analysis of the widened graph per point."""
    _numeric_batch(batch)
    shape = graph.input_shape if resolution is None else (graph.input_shape[0], resolution, resolution)
    factors = list(factors)
    if _on_grid(graph, mode) and (resolution is None or len(graph.input_shape) == 3):
        points = _grid_points(graph, None if resolution is None else [resolution], factors, batch, mode)
        return [replace(p, resolution=shape[-1]) for p in points]  # the input's last size, as for any input rank
    points = []
    for factor in factors:
        t = analyze(widen(graph, factor), shape, batch, mode).total()
        points.append(Point(shape[-1], int(t.macs), t.params, int(t.activations), factor))
    return points


def parse_factors(text: str) -> List[float]:
    """'0.5:2:0.25' -> [0.5, 0.75, ..., 2.0]; '0.5,1,2' -> those. Finite, positive, at most MAX_WIDTH."""
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if not all(math.isfinite(v) for v in (start, stop, step)):
                raise _sizes_error(text, "multipliers must be finite numbers", "--width")
            if step <= 0:
                raise _sizes_error(text, "the step must be positive", "--width")
            if start > stop:
                raise _sizes_error(text, f"the range is reversed (start {start:g} > stop {stop:g})", "--width")
            count = math.floor((stop - start) / step + 1e-9) + 1  # never past STOP (0.5:1:0.3 is 0.5, 0.8)
            if count > MAX_WIDTH_POINTS:
                raise _sizes_error(text, f"more than {MAX_WIDTH_POINTS:,} points (costlab.sweep.MAX_WIDTH_POINTS)", "--width")
            values = [round(start + i * step, 6) for i in range(count)]
        else:
            values = [float(v) for v in text.split(",")]
    except ValueError:
        raise _sizes_error(text, "expected START:STOP:STEP or a comma list", "--width") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise _sizes_error(text, "multipliers must be finite numbers", "--width")
    if len(values) > MAX_WIDTH_POINTS:
        raise _sizes_error(text, f"more than {MAX_WIDTH_POINTS:,} points (costlab.sweep.MAX_WIDTH_POINTS)", "--width")
    if min(values) <= 0:
        raise _sizes_error(text, "multipliers must be positive", "--width")
    if max(values) > MAX_WIDTH:
        raise _sizes_error(text, f"multipliers must be at most {MAX_WIDTH:g}", "--width")
    return values
