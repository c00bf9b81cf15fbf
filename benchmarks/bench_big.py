"""Big models: load and analyze JSON specs of 1k, 10k and 100k layers, each in its own process.

Prints wall and CPU seconds for loading (parse + graph) and for analyze(), the peak memory of the
process (VmHWM on Linux: ru_maxrss would also count this parent's memory when it started the child) and the peak Python allocation (tracemalloc, which slows the run: measured in a
second run), and the growth of loading and of analyze() from each size to the next. Targets: 100k
layers analysed in under 2 s, linear growth, peak memory under 300 MB. The child processes import
the costlab of this checkout (its root first on PYTHONPATH); the header names the one they used.

Usage: python benchmarks/bench_big.py [--layers 1000,10000,100000] [--format json|yaml]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_big_spec import big_spec

ROOT = Path(__file__).resolve().parent.parent
MEASURE = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
trace = sys.argv[2] == "trace"
if trace:
    tracemalloc.start()
import costlab
from costlab.analysis import analyze
from costlab.spec import load_spec
T, C = time.perf_counter, time.process_time
t0, c0 = T(), C()
graph = load_spec(Path(sys.argv[1]))
t1, c1 = T(), C()
analysis = analyze(graph)
t2, c2 = T(), C()
total = analysis.total().macs
try:  # this process's own peak: ru_maxrss also counts the parent's memory at the fork before exec
    with open("/proc/self/status") as status:
        rss_mb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"layers": len(graph.nodes), "load_s": t1 - t0, "load_cpu": c1 - c0, "analyze_s": t2 - t1, "analyze_cpu": c2 - c1,
       "rss_mb": rss_mb, "macs": total, "costlab": costlab.__file__}
if trace:
    out["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps(out))
"""


def measure(path: Path, trace: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), "trace" if trace else "plain"],
                         capture_output=True, text=True, check=True, env=env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if not Path(result["costlab"]).resolve().is_relative_to(ROOT):
        raise SystemExit(f"the measured process imported {result['costlab']}, not the costlab under {ROOT}")
    return result


def dump(spec: dict, fmt: str) -> str:
    """The spec as JSON, or as YAML in block style (as a person writes a big one)."""
    if fmt == "json":
        return json.dumps(spec)
    import yaml

    return yaml.safe_dump(spec, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="1000,10000,100000")
    parser.add_argument("--format", choices=("json", "yaml"), default="json", help="the spec files' format")
    args = parser.parse_args()
    counts = [int(v) for v in args.layers.split(",")]
    print(f"costlab from {ROOT / 'costlab'}, {args.format.upper()} specs")
    print(f"{'layers':>8} {'load s':>8} {'(CPU)':>7} {'analyze s':>10} {'(CPU)':>7} {'total CPU':>10} {'us/layer':>9} "
          f"{'peak RSS MB':>12} {'traced MB':>10}")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            path = Path(folder) / f"deep{count}.{args.format}"
            path.write_text(dump(big_spec(count), args.format), encoding="utf-8")
            r = measure(path, False)
            r["traced_mb"] = measure(path, True)["traced_mb"]
            cpu = r["load_cpu"] + r["analyze_cpu"]
            rows.append((r["layers"], r["load_cpu"], r["analyze_cpu"], cpu))
            print(f"{r['layers']:>8,} {r['load_s']:8.2f} {r['load_cpu']:7.2f} {r['analyze_s']:10.2f} {r['analyze_cpu']:7.2f} "
                  f"{cpu:10.2f} {cpu / r['layers'] * 1e6:9.1f} {r['rss_mb']:12.0f} {r['traced_mb']:10.0f}")
    # linear growth: the same CPU time per added layer (us) between every pair of sizes; the ratios
    # of CPU times stay under the ratio of layers while start-up costs (imports) weigh in
    for (small, *small_cpu), (large, *large_cpu) in itertools.pairwise(rows):
        ratio = [b / a if a else float("inf") for a, b in zip(small_cpu, large_cpu)]
        added = [(b - a) / (large - small) * 1e6 for a, b in zip(small_cpu, large_cpu)]
        print(f"growth {small:,} -> {large:,} layers ({large / small:.0f}x): CPU time load {ratio[0]:.1f}x, "
              f"analyze {ratio[1]:.1f}x, total {ratio[2]:.1f}x; per added layer: load {added[0]:.1f} us, "
              f"analyze {added[1]:.1f} us, total {added[2]:.1f} us")


if __name__ == "__main__":
    main()
