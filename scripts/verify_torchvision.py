"""Every torchvision classification model: costlab's capture against the weights' metadata and fvcore.

For each model, at the input size of its default weights' transforms (weights=None, random init):
- params captured (inference; inception_v3 also training, where its auxiliary head runs) vs `num_params`
- costlab MACs vs the metadata's `_ops` (GMACs, 3 decimals)
- costlab under the fvcore convention vs fvcore's FlopCountAnalysis total, per module
  (explained: attention fvcore cannot count; mismatch: anything else)

Usage: python scripts/verify_torchvision.py [--fvcore] [--max-gmacs N] [NAME ...]
Without --fvcore only the metadata checks run (seconds); fvcore needs real weights and a real
forward pass (minutes for the largest models).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> int:
    import torchvision
    from tabulate import tabulate
    from tqdm import tqdm

    from costlab import analyze, load_source
    from costlab.bridge.verify import verify_reference

    parser = argparse.ArgumentParser(description="costlab vs torchvision metadata and fvcore, for every model")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--fvcore", action="store_true", help="also trace each model with fvcore")
    parser.add_argument("--max-gmacs", type=float, default=float("inf"), help="skip fvcore above this many GMACs")
    args = parser.parse_args()
    names = args.names or torchvision.models.list_models(module=torchvision.models)
    rows, failures = [], 0
    for name in tqdm(names, unit="model", file=sys.stderr, disable=not sys.stderr.isatty()):  # no bar in a CI log
        meta = torchvision.models.get_model_weights(name).DEFAULT.meta
        start = time.perf_counter()
        a = analyze(load_source(f"torchvision:{name}"))
        params = a.total().params
        if name == "inception_v3":
            params = analyze(load_source(f"torchvision:{name}", batch=2, mode="train"), mode="train").total().params
        seconds = time.perf_counter() - start
        ok_params, ok_ops = params == meta["num_params"], round(a.total().macs / 1e9, 3) == meta["_ops"]
        fv = ""
        if args.fvcore and meta["_ops"] <= args.max_gmacs:
            v = verify_reference(f"torchvision:{name}")
            fv = f"{v.count('exact')}/{v.count('explained')}/{v.count('mismatch')} {'ok' if v.ok else 'FAIL'}"
            failures += not v.ok
        failures += not (ok_params and ok_ops)
        rows.append([name, "x".join(map(str, a.input)), f"{a.total().macs:,}", meta["_ops"], "ok" if ok_ops else "FAIL",
                     f"{params:,}", "ok" if ok_params else "FAIL", f"{seconds:.2f}", fv])
    headers = ["model", "input", "costlab MACs", "_ops", "", "params", "", "capture s", "fvcore exact/explained/mismatch"]
    print(tabulate(rows, headers, disable_numparse=True))
    print(f"{len(rows)} models, {failures} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
