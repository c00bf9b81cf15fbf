"""The models of issue 11 ("every model people bring, never a silent zero"), run again: costlab's MACs and
what it could not count, fvcore's total and FlopCounterMode's (halved: it counts 2 FLOPs per MAC).

Usage: PYTHONPATH=.:tests python scripts/coverage_table.py [--markdown]   (real forward passes: minutes)
"""

from __future__ import annotations

import sys
import warnings

warnings.filterwarnings("ignore")

ROWS = [  # (source, --input or None)
    ("torchvision:fcn_resnet50", None),
    ("torchvision:r3d_18", None),
    ("torchvision:s3d", None),
    ("torchvision:mc3_18", None),
    ("torchvision:swin3d_t", None),
    ("models_for_inputs:conv1d_audio", "1x16000"),
    ("models_for_inputs:transposed", "8x16x16"),
    ("torchvision:fasterrcnn_resnet50_fpn", None),
    ("torchvision:raft_small", "3x128x128,3x128x128"),
    ("models_for_inputs:bert", "input_ids:128:int64,attention_mask:128:int64"),
    ("models_for_inputs:bilinear", "6"),
]


def others(source: str, spec: object) -> tuple:
    """(fvcore total, FlopCounterMode total / 2) on the real model, CPU, seeded random weights."""
    import torch
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    from costlab.bridge.build import real_model
    from costlab.bridge.inputs import example_args

    torch.manual_seed(0)
    model, spec, _ = real_model(source, spec)
    model.eval()
    args, kwargs = example_args(spec, 1, "cpu")
    results = []
    try:
        if kwargs:
            from costlab.bridge.verify import _Positional

            fv = FlopCountAnalysis(_Positional(model, tuple(kwargs)), tuple(args) + tuple(kwargs.values()))
        else:
            fv = FlopCountAnalysis(model, tuple(args))
        fv.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        results.append(f"{int(fv.total()):,}")
    except Exception as e:
        results.append(f"fails: {type(e).__name__}")
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(*args, **kwargs)
        results.append(f"{counter.get_total_flops() // 2:,}")
    except Exception as e:
        results.append(f"fails: {type(e).__name__}")
    return tuple(results)


def main() -> int:
    from tabulate import tabulate

    from costlab import analyze, load_source
    from costlab.inputs import parse_inputs

    rows = []
    for source, text in ROWS:
        spec = parse_inputs(text) if text else None
        a = analyze(load_source(source, spec))
        missing = ", ".join(f"{u.op} x{u.count}" for u in a.uncounted) or "-"
        rows.append([source + (f" --input {text}" if text else ""), f"{a.total().macs:,}", missing, *others(source, spec)])
    headers = ["model", "costlab MACs", "not counted (listed; --strict exits 1)", "fvcore", "FlopCounterMode / 2"]
    print(tabulate(rows, headers, tablefmt="github" if "--markdown" in sys.argv else "simple", disable_numparse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
