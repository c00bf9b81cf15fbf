"""Capture-and-analyze of a big model on the meta device vs FlopCounterMode (meta) and fvcore (real tensors).

Each measurement runs in its own process and reports its wall time and the process's peak RSS, so the
three are measured in one run on the same machine. Targets: costlab no slower than FlopCounterMode,
and peak memory well under what the real weights need (vit_h_14: 632M params = 2.5 GB of float32).

Usage: python benchmarks/bench_capture.py [--model vit_h_14] [--skip-fvcore]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

PRELUDE = """
import json, resource, time, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from costlab.bridge.reference import construct, default_input, parse_reference
ref = parse_reference("torchvision:{model}")
shape = default_input(ref)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
"""

WORK = {
    "costlab capture + analyze (meta)": """
from costlab import analyze, load_source
total = analyze(load_source("torchvision:{model}")).total().macs
""",
    "FlopCounterMode (meta)": """
from torch.utils.flop_counter import FlopCounterMode
model = construct(ref, shape).eval()
with FlopCounterMode(display=False) as counter:
    model(torch.empty(1, *shape, device="meta"))
total = counter.get_total_flops() // 2
""",
    "fvcore FlopCountAnalysis (real tensors)": """
from fvcore.nn import FlopCountAnalysis
model = construct(ref, shape, device="cpu").eval()
with torch.no_grad():
    counter = FlopCountAnalysis(model, torch.randn(1, *shape))
    counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    total = counter.total()
""",
}

EPILOGUE = """
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_mb": peak / 1024, "work_mb": (peak - base) / 1024, "total": int(total)}}))
"""


def measure(label: str, model: str) -> dict:
    code = (PRELUDE + WORK[label] + EPILOGUE).format(model=model)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit_h_14")
    parser.add_argument("--skip-fvcore", action="store_true")
    args = parser.parse_args()
    results = {}
    for label in WORK:
        if args.skip_fvcore and label.startswith("fvcore"):
            continue
        results[label] = r = measure(label, args.model)
        print(f"{label:42s} {r['seconds']:8.2f} s   peak RSS {r['peak_mb']:8.0f} MB "
              f"(+{r['work_mb']:.0f} MB after imports)   count {r['total']:,}", flush=True)
    ours = results["costlab capture + analyze (meta)"]
    for label, r in results.items():
        if r is not ours:
            print(f"vs {label}: costlab {r['seconds'] / ours['seconds']:.2f}x faster, peak memory {r['peak_mb'] / ours['peak_mb']:.2f}x lower")


if __name__ == "__main__":
    main()
