"""Resolution sweeps from one symbolic formula: analyse once with H = W = R, evaluate at every R.

The formula is compiled to Python with exact integer arithmetic (floor(p/q) as p // q, fractions
where anything else is rational), so every point equals a numeric analysis at that size; a numeric
analysis at both ends of the range checks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, List, Optional

from .analysis import analyze
from .errors import CostlabError, SpecError
from .graph import Graph


@dataclass(frozen=True)
class Point:
    """Cost at one resolution (square input RxR)."""

    resolution: int
    macs: int
    params: int
    activations: int


def parse_range(text: str) -> List[int]:
    """'128:512:32' -> [128, 160, ..., 512] (inclusive); '224' -> [224]; '128,224,320' -> those."""
    try:
        if "," in text:
            values = [int(v) for v in text.split(",")]
        elif ":" in text:
            start, stop, *step = (int(v) for v in text.split(":"))
            values = list(range(start, stop + 1, step[0] if step else 1))
        else:
            values = [int(text)]
    except ValueError:
        raise CostlabError(f"--resolution: expected START:STOP:STEP, a list or one size, got {text!r}") from None
    if not values or min(values) < 1:
        raise CostlabError(f"--resolution: sizes must be positive, got {text!r}")
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
    """MACs, params and activations of ``graph`` at every square resolution in ``sizes``."""
    from .shapes import symbol

    if graph.batch is not None:
        raise CostlabError(f"{graph.name}: a captured PyTorch model has fixed shapes; sweep a spec file or built-in model")
    sizes = list(sizes)
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


def largest_within(points: List[Point], budget: int) -> Optional[Point]:
    """The largest resolution whose MACs stay within ``budget``."""
    within = [p for p in points if p.macs <= budget]
    return max(within, key=lambda p: p.resolution) if within else None
