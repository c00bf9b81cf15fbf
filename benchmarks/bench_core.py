"""Speed of the symbolic core, as ratios measured in one run (machines here are noisy: no absolute targets).

1. analyze(googlenet) in-process vs fvcore's FlopCountAnalysis on torchvision's googlenet
   (same 3x224x224 input; fvcore traces the real module). Target: >= 1000x faster.
2. Wall time of `costlab compare naive bottleneck` vs a bare `python -c pass`. Target: <= 3x.

Run: python benchmarks/bench_core.py [--repeats N] [--only analyze|startup]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

CHECKOUT = Path(__file__).resolve().parents[1]


def median_seconds(fn: Callable[[], object], repeats: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median time of ``fn`` over ``repeats`` calls (one warm-up call first): wall time, or the
    process's CPU time with ``clock=time.process_time`` (steadier on a shared machine)."""
    fn()
    times: List[float] = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def bench_analyze(repeats: int) -> None:
    from costlab import analyze, load_source

    graph = load_source("googlenet")
    ours = median_seconds(lambda: analyze(graph).total(), repeats * 20)
    ours_cpu = median_seconds(lambda: analyze(graph).total(), repeats * 20, time.process_time)
    print(f"costlab analyze(googlenet):            {ours * 1e3:9.3f} ms wall, {ours_cpu * 1e3:9.3f} ms CPU (median of {repeats * 20})")
    try:
        import torch
        import torchvision
        from fvcore.nn import FlopCountAnalysis
    except ImportError as e:
        print(f"fvcore / torchvision not installed ({e}): install the torch extra for the ratio")
        return
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).eval()
    x = torch.randn(1, 3, 224, 224)

    def fvcore_total() -> int:
        counter = FlopCountAnalysis(model, x)
        counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return counter.total()

    torch.set_num_threads(1)  # one core each: CPU time then compares the same work
    with torch.no_grad():
        theirs = median_seconds(fvcore_total, repeats)
        theirs_cpu = median_seconds(fvcore_total, repeats, time.process_time)
    print(f"fvcore FlopCountAnalysis(googlenet):   {theirs * 1e3:9.3f} ms wall, {theirs_cpu * 1e3:9.3f} ms CPU (median of {repeats}, one thread)")
    print(f"ratio: costlab is {theirs / ours:,.0f}x faster in wall time, {theirs_cpu / ours_cpu:,.0f}x in CPU time (target >= 1000x)")


def bench_startup(repeats: int) -> None:
    """`costlab compare naive bottleneck` (``python -m costlab`` from this checkout) against `python -c pass`,
    interleaved, median of ``repeats``.

    Byte-code caching is on (PYTHONDONTWRITEBYTECODE unset) as in any installed package; the first
    run of each writes the caches and is not timed. Also prints the CPU time (user + system) of the
    processes, steadier than wall time on a shared machine, and the heavy modules the command imported.
    """
    import os
    import resource

    # The checkout this file lives in (not whichever costlab is installed), as `python -m costlab`
    # run in it (-m puts the working folder first on the path).
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CHECKOUT), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", "costlab"]
    runs = {"bare": [sys.executable, "-c", "pass"], "ours": [*command, "compare", "naive", "bottleneck"]}
    times: dict = {k: [] for k in runs}
    cpu: dict = {k: [] for k in runs}

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    for args in runs.values():
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env, cwd=CHECKOUT)
    for _ in range(repeats):
        for key, args in runs.items():
            start, start_cpu = time.perf_counter(), children_cpu()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env, cwd=CHECKOUT)
            times[key].append(time.perf_counter() - start)
            cpu[key].append(children_cpu() - start_cpu)
    bare, ours = statistics.median(times["bare"]), statistics.median(times["ours"])
    bare_cpu, ours_cpu = statistics.median(cpu["bare"]), statistics.median(cpu["ours"])
    probe = ("import sys\nfrom costlab.cli import main\ntry:\n    main(['compare', 'naive', 'bottleneck'])\nexcept SystemExit:\n    pass\n"
             "heavy = ('tabulate', 'sympy', 'numpy', 'jinja2', 'yaml', 'matplotlib', 'torch', 'dask')\n"
             "print(' '.join(m for m in heavy if m in sys.modules) or 'none')")
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=CHECKOUT).stdout.strip().splitlines()[-1]
    print(f"python -c pass:                        {bare * 1e3:9.1f} ms wall, {bare_cpu * 1e3:9.1f} ms CPU (median of {repeats})")
    print(f"costlab compare naive bottleneck:      {ours * 1e3:9.1f} ms wall, {ours_cpu * 1e3:9.1f} ms CPU (median of {repeats}); "
          f"heavy modules imported: {heavy}")
    print(f"ratio: {ours / bare:.2f}x a bare interpreter start in wall time (target <= 3x), {ours_cpu / bare_cpu:.2f}x in CPU time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--only", choices=("analyze", "startup"), help="Run one of the two parts.")
    args = parser.parse_args()
    sys.path.insert(0, str(CHECKOUT))  # both parts time the checkout this file lives in
    if args.only != "startup":
        bench_analyze(args.repeats)
    if args.only != "analyze":
        bench_startup(args.repeats)


if __name__ == "__main__":
    main()
