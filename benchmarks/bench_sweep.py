"""A 1000-point resolution sweep of googlenet, three ways, in one run.

1. costlab sweep (``resolution_sweep``): one vectorized grid pass over the graph (the first call also
   imports numpy; then the median of 5 calls); for reference, the older route: one symbolic analysis
   in R, compiled (sympy, a one-time derivation), evaluated at each point;
2. a numeric costlab analysis at every point;
3. fvcore tracing torchvision's googlenet at a handful of points (per-point time x 1000).
Target: the sweep at least 100x faster than re-analysis per point.

Usage: python benchmarks/bench_sweep.py [--points 1000] [--fvcore-points 3]
"""

from __future__ import annotations

import argparse
import time

from fvcore_timing import fvcore_per_point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--fvcore-points", type=int, default=3)
    args = parser.parse_args()
    from costlab import analyze, load_source
    from costlab.shapes import symbol
    from costlab.sweep import _compile, resolution_sweep

    graph = load_source("googlenet")
    sizes = list(range(64, 64 + args.points))

    start = time.perf_counter()
    points = resolution_sweep(graph, sizes)
    first_s = time.perf_counter() - start
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        resolution_sweep(graph, sizes)
        runs.append(time.perf_counter() - start)
    sweep_s = sorted(runs)[2]

    r = symbol("R")
    start = time.perf_counter()
    formula = _compile(analyze(graph, (3, r, r)).total().macs, r)
    derive_s = time.perf_counter() - start
    start = time.perf_counter()
    values = [formula(s) for s in sizes]
    eval_s = time.perf_counter() - start

    start = time.perf_counter()
    numeric = [analyze(graph, (3, s, s)).total().macs for s in sizes]
    numeric_s = time.perf_counter() - start
    assert numeric == values == [p.macs for p in points], "sweep and re-analysis disagree"

    print(f"{args.points}-point sweep of googlenet ({sizes[0]}..{sizes[-1]}), all {args.points} points equal:")
    print(f"  costlab sweep, one vectorized grid pass:                   {sweep_s * 1e3:9.1f} ms (first call, importing numpy: {first_s * 1e3:.1f} ms)")
    print(f"  older route: sympy derivation {derive_s * 1e3:.1f} ms, then the compiled formula: {eval_s * 1e3:.1f} ms")
    print(f"  numeric re-analysis at every point:                        {numeric_s * 1e3:9.1f} ms")
    print(f"  ratio: sweep {numeric_s / sweep_s:,.0f}x faster than re-analysis end to end ({numeric_s / first_s:,.0f}x counting the first call)")
    measured = fvcore_per_point(sizes, args.fvcore_points)
    if measured is None:
        return
    per_point, chosen = measured
    print(f"  fvcore on torchvision googlenet: {per_point * 1e3:.1f} ms per point at {chosen}; "
          f"x{args.points} = {per_point * args.points:.1f} s ({per_point * args.points / sweep_s:,.0f}x the costlab sweep)")


if __name__ == "__main__":
    main()
