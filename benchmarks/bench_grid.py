"""Grids of settings for GoogLeNet, as ratios measured in one run (machines here are noisy: no absolute targets).

1. A resolution x width grid (default 1000 x 1000 = 10^6 points) in one vectorized pass on one core,
   against a numeric costlab analysis per point and fvcore re-tracing torchvision's googlenet per point.
   Targets: under 1 s; at least 10^5 x faster per point than fvcore.
2. A big grid (default 10^4 x 10^4 = 10^8 points) through Dask on a LocalCluster of 1, then 2 worker
   processes (chunks of 10^6 points, reduced chunk by chunk to the largest resolution within 1.5G
   MACs per width): the wall times and the scaling.

Usage: python benchmarks/bench_grid.py [--side 1000] [--dask-side 10000] [--skip-dask] [--fvcore-points 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: numpy's integer kernels are single-threaded anyway

from fvcore_timing import fvcore_per_point  # benchmarks/ is on the path when run as a script


def timed(fn, repeats: int = 3) -> tuple:
    """Median wall and CPU seconds of ``fn`` (after one warm-up call). On a shared machine the CPU
    time is the steadier of the two."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def grid_on_one_core(side: int, fvcore_points: int) -> None:
    import numpy as np

    from costlab import analyze, load_source
    from costlab.grid import evaluate_grid
    from costlab.sweep import widen

    graph = load_source("googlenet")
    sizes = list(range(128, 128 + side))
    widths = np.round(np.linspace(0.25, 2.0, side), 6).tolist()
    seconds, cpu = timed(lambda: evaluate_grid(graph, sizes, widths))
    grid = evaluate_grid(graph, sizes, widths)
    rng = random.Random(0)
    checks = [(rng.randrange(side), rng.randrange(side)) for _ in range(20)]
    start = time.perf_counter()
    for r, w in checks:
        total = analyze(widen(graph, widths[w]), (3, sizes[r], sizes[r])).total()
        assert (grid.macs[0, r, w], grid.params[0, r, w], grid.activations[0, r, w]) == (total.macs, total.params, total.activations)
    numeric = (time.perf_counter() - start) / len(checks)
    per_point = seconds / grid.size
    print(f"googlenet grid {side} resolutions x {side} widths = {grid.size:,} points ({grid.macs.dtype}), 20 random points "
          f"equal to numeric analyses:")
    print(f"  one vectorized pass:                  {seconds:8.3f} s wall, {cpu:.3f} s CPU (target < 1 s) "
          f"({per_point * 1e9:8.1f} ns per point)")
    print(f"  numeric analysis (widen + analyze):   {numeric * 1e3:8.3f} ms per point: {numeric / per_point:,.0f}x slower per point")
    measured = fvcore_per_point(sizes, fvcore_points)
    if measured is None:
        return
    fvcore, chosen = measured
    print(f"  fvcore re-tracing torchvision googlenet: {fvcore * 1e3:8.1f} ms per point at {chosen}: "
          f"{fvcore / per_point:,.0f}x slower per point (target >= 100,000x)")


def grid_on_dask(side: int) -> None:
    import numpy as np

    from costlab import load_source
    from costlab.cluster import dask_client
    from costlab.dgrid import grid_arrays, summarize

    graph = load_source("googlenet")
    sizes = list(range(64, 64 + side))
    widths = np.round(np.linspace(0.25, 2.0, side), 6).tolist()
    lazy = grid_arrays(graph, sizes, widths, [1], chunk=(1, 1000, 1000))
    results = {}
    for workers in (1, 2):
        with dask_client(workers=workers) as client:
            before = client.run(time.process_time)
            start = time.perf_counter()
            summary = summarize(lazy, 1_500_000_000, scheduler=client)
            results[workers] = (time.perf_counter() - start, summary)
            after = client.run(time.process_time)
        seconds = results[workers][0]
        cpu = sum(after[w] - before[w] for w in after)
        print(f"  {workers} worker{'s' if workers > 1 else ' '}: {seconds:8.1f} s wall, {cpu:8.1f} s CPU in the workers "
              f"({lazy.size / seconds / 1e6:6.1f} M points/s); {summary.within:,} settings within 1.5G MACs")
    one, two = results[1], results[2]
    assert np.array_equal(one[1].largest, two[1].largest) and one[1].within == two[1].within
    print(f"  scaling 1 -> 2 workers: {one[0] / two[0]:.2f}x in wall time (the same answers; {os.cpu_count()} CPU cores on "
          f"this machine, load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--dask-side", type=int, default=10_000)
    parser.add_argument("--fvcore-points", type=int, default=3)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    grid_on_one_core(args.side, args.fvcore_points)
    if not args.skip_dask:
        print(f"googlenet grid {args.dask_side:,} x {args.dask_side:,} = {args.dask_side ** 2:,} points on a Dask LocalCluster:")
        grid_on_dask(args.dask_side)


if __name__ == "__main__":
    main()
