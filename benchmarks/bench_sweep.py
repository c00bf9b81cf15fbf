"""A 1000-point resolution sweep of googlenet, three ways, in one run.

1. costlab sweep: one symbolic analysis in R, then the compiled formula at each point
   (reported with and without the one-time derivation);
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
    sweep_s = time.perf_counter() - start

    r = symbol("R")
    formula = _compile(analyze(graph, (3, r, r)).total().macs, r)
    start = time.perf_counter()
    values = [formula(s) for s in sizes]
    eval_s = time.perf_counter() - start

    start = time.perf_counter()
    numeric = [analyze(graph, (3, s, s)).total().macs for s in sizes]
    numeric_s = time.perf_counter() - start
    assert numeric == values == [p.macs for p in points], "sweep and re-analysis disagree"

    print(f"{args.points}-point sweep of googlenet ({sizes[0]}..{sizes[-1]}), all {args.points} points equal:")
    print(f"  costlab sweep (symbolic derivation + checks + evaluation): {sweep_s * 1e3:9.1f} ms")
    print(f"  compiled formula evaluation only:                          {eval_s * 1e3:9.1f} ms")
    print(f"  numeric re-analysis at every point:                        {numeric_s * 1e3:9.1f} ms")
    print(f"  ratio: sweep {numeric_s / sweep_s:.1f}x faster end to end; formula evaluation {numeric_s / eval_s:,.0f}x faster per point")
    measured = fvcore_per_point(sizes, args.fvcore_points)
    if measured is None:
        return
    per_point, chosen = measured
    print(f"  fvcore on torchvision googlenet: {per_point * 1e3:.1f} ms per point at {chosen}; "
          f"x{args.points} = {per_point * args.points:.1f} s ({per_point * args.points / sweep_s:,.0f}x the costlab sweep)")


if __name__ == "__main__":
    main()
