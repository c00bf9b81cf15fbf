"""Every torchvision model of every task module: costlab's capture against the weights' metadata, fvcore and
FlopCounterMode.

For each model (classification, segmentation, detection, video, optical_flow, quantization), at the input its
DEFAULT weights document (costlab's default input), built offline (weights=None, weights_backbone=None):
- params vs `num_params` and MACs vs `_ops` (GMACs, its decimals) for the model as built with weights=None;
- the same for the model the metadata describes, where that differs (RECIPES: the weights' architecture, built
  without downloading them, or the proposal count the metadata was measured at), with the cause;
- with --fvcore: costlab's fvcore convention against fvcore, module by module (costlab verify), and costlab's
  torch convention against FlopCounterMode's total, on real tensors (CPU, seeded random weights).

Usage: python scripts/verify_torchvision.py [--task T ...] [--fvcore] [--max-gmacs N] [--markdown] [NAME ...]
Without --fvcore only the capture runs (seconds per model); fvcore and FlopCounterMode need real forward passes.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from costlab.bridge.torchvision_recipes import RECIPES, TRAIN_MODE, UNREPRODUCED  # noqa: E402

TASKS = ("classification", "segmentation", "detection", "video", "optical_flow", "quantization")

def models_of(task: str) -> list:
    import torchvision.models as M

    module = M if task == "classification" else getattr(M, task)
    return [(task, name) for name in M.list_models(module=module)]


def measure(ref: str, name: str) -> tuple:
    """(analysis at the default input, params as the metadata counts them, seconds)."""
    from costlab import analyze, load_source

    start = time.perf_counter()
    a = analyze(load_source(ref))
    params = a.total().params
    if name in TRAIN_MODE:  # training-mode batch norm needs 2+ values per channel: batch 2 (params do not depend on it)
        params = analyze(load_source(ref, batch=2, mode="train"), mode="train").total().params
    return a, params, time.perf_counter() - start


def flop_counter_total(ref: str) -> int:
    """FlopCounterMode's total on the real model (CPU, seeded random weights) at costlab's default input."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from costlab.bridge.build import real_model
    from costlab.bridge.inputs import example_args

    torch.manual_seed(0)
    model, spec, _ = real_model(ref)
    args, kwargs = example_args(spec, 1, "cpu")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.eval()(*args, **kwargs)
    return int(counter.get_total_flops())


def main() -> int:
    import torchvision.models as M
    from tabulate import tabulate

    parser = argparse.ArgumentParser(description="costlab vs torchvision metadata, fvcore and FlopCounterMode, every task")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--task", action="append", choices=TASKS, help="only these task modules (default: all)")
    parser.add_argument("--fvcore", action="store_true", help="also compare with fvcore and FlopCounterMode (real forward passes)")
    parser.add_argument("--max-gmacs", type=float, default=float("inf"), help="skip fvcore/FlopCounterMode above this many GMACs")
    parser.add_argument("--markdown", action="store_true", help="print a GitHub table")
    args = parser.parse_args()
    chosen = [m for t in (args.task or TASKS) for m in models_of(t)]
    if args.names:
        chosen = [(t, n) for t, n in chosen if n in args.names]
    rows, failures = [], 0
    for task, name in chosen:
        meta = M.get_model_weights(name).DEFAULT.meta
        ref = f"torchvision:{name}"
        try:
            a, params, seconds = measure(ref, name)
        except Exception as e:  # reported as a failing row, the run goes on
            rows.append([task, name, "", "", meta["_ops"], "", meta["num_params"], "", "", "ERROR", f"{type(e).__name__}: {e}"[:160], "", ""])
            failures += 1
            continue
        macs = a.total().macs
        ops_ok, params_ok = round(macs / 1e9, 3) == meta["_ops"], params == meta["num_params"]
        status, cause = ("exact" if ops_ok and params_ok else "differs"), ""
        recipe_macs, recipe_params = "", ""
        if name in RECIPES:
            query, cause = RECIPES[name]
            b, b_params, _ = measure(f"{ref}?{query}", name)
            recipe_macs, recipe_params = f"{b.total().macs:,} ?{query}", f"{b_params:,}"
            if round(b.total().macs / 1e9, 3) == meta["_ops"] and b_params == meta["num_params"]:
                status = "exact" if ops_ok and params_ok else "reproduced"
            else:
                status = "not reproduced"
        elif not (ops_ok and params_ok):
            status = "not reproduced"
        if name in UNREPRODUCED:
            cause = (cause + "; " if cause else "") + UNREPRODUCED[name]
        if a.uncounted:
            cause = (cause + "; " if cause else "") + "not counted: " + ", ".join(u.op for u in a.uncounted)
        if status == "not reproduced" or a.uncounted:
            failures += 1
        checks = ""
        if args.fvcore and meta["_ops"] <= args.max_gmacs:
            checks = cross_check(ref, a)
        rows.append([task, name, "x".join(map(str, a.input)) + (f" ({a.inputs})" if a.inputs else ""), f"{macs:,}",
                     meta["_ops"], f"{params:,}", meta["num_params"], recipe_macs, recipe_params, status, cause, f"{seconds:.1f}",
                     checks])
    headers = ["task", "model", "input", "costlab MACs", "_ops (GMACs)", "costlab params", "num_params",
               "MACs as the metadata counts", "params so", "status", "cause", "capture s", "fvcore / FlopCounterMode"]
    print(tabulate(rows, headers, tablefmt="github" if args.markdown else "simple", disable_numparse=True))
    print(f"{len(rows)} models, {failures} not reproduced or with ops not counted")
    return 1 if failures else 0


def cross_check(ref: str, a: object) -> str:
    """'fvcore 143 exact/2 explained/0 mismatch; FlopCounterMode = costlab torch convention' (or the error)."""
    from costlab import analyze, load_source
    from costlab.bridge.verify import verify_source

    parts = []
    try:
        v = verify_source(ref)
        parts.append(f"fvcore {v.count('exact')}/{v.count('explained')}/{v.count('uncounted')}/{v.count('mismatch')}"
                     f" {'ok' if v.ok else 'FAIL'}")
    except Exception as e:
        parts.append(f"fvcore: {type(e).__name__}: {str(e)[:80]}")
    try:
        torch_total = flop_counter_total(ref)
        ours = int(analyze(load_source(ref), convention="torch").total_cost())
        parts.append(f"FlopCounterMode {torch_total:,} {'=' if torch_total == ours else '!='} costlab {ours:,}")
    except Exception as e:
        parts.append(f"FlopCounterMode: {type(e).__name__}: {str(e)[:80]}")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.path.insert(0, ".")
    sys.exit(main())
