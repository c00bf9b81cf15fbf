"""Check every built-in transformer against its Hugging Face model built from the same config.json on
the meta device (nothing downloaded, no memory allocated): parameters module by module, and MACs module
by module against torch's FlopCounterMode for a prefill and a decode step with a KV cache.

    PYTHONPATH=.:tests python scripts/check_llm_configs.py [NAME ...] [--seq 128] [--context 100]

Needs torch and transformers (the dev extra). Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import sys

from costlab.analysis import analyze
from costlab.llm import builtin
from costlab.llm.phases import with_context
from llm_reference import flops_by_module, hf_model, params_by_module


def _subtree(rows, module):  # type: ignore[no-untyped-def]
    return sum(r.macs for r in rows if r.name == module or r.name.startswith(module + "."))


def check(name: str, seq: int, context: int) -> list:
    config = json.loads((builtin.CONFIG_DIR / f"{name}.json").read_text())
    model = hf_model(config)
    graph = builtin.load(name)
    problems = []
    rows = analyze(graph, (seq,)).rows
    ours = {r.name: r.params for r in rows if r.params}
    theirs = params_by_module(model)
    total = sum(p.numel() for p in model.parameters())
    if ours != theirs or sum(ours.values()) != total:
        problems.append(f"params: costlab {sum(ours.values()):,}, transformers {total:,}; "
                        f"differing modules: {sorted(set(ours.items()) ^ set(theirs.items()))[:4]}")
    print(f"{name}: {total:,} params (transformers, meta device) == costlab {sum(ours.values()):,}")
    if config["model_type"] == "mixtral":
        print(f"{name}: MoE routing is data-dependent: FlopCounterMode cannot run it on the meta device; MACs not checked")
        return problems
    phases = [("prefill", seq, 0)] + ([("decode", 1, context)] if config["model_type"] not in ("bert", "t5") else [])
    for phase, length, cached in phases:
        per_module, flops = flops_by_module(model, length, cached)
        rows = analyze(with_context(graph, cached), (length,)).rows
        macs = sum(r.macs for r in rows)
        bad = [m for m, f in per_module.items() if 2 * _subtree(rows, m) != f]
        if 2 * macs != flops or bad:
            problems.append(f"{phase}: costlab {2 * macs:,} FLOPs, FlopCounterMode {flops:,}; modules differing: {bad[:4]}")
        print(f"{name}: {phase} L={length} T={cached}: {macs:,} MACs; FlopCounterMode {flops:,} FLOPs / 2 = {flops // 2:,}; "
              f"{len(per_module)} modules {'all equal' if not bad else 'DIFFER'}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=builtin.names())
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--context", type=int, default=100)
    args = parser.parse_args()
    failed = False
    for name in args.names:
        for problem in check(name, args.seq, args.context):
            print(f"FAIL {name}: {problem}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
