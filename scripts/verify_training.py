"""Training costs of full-size models against PyTorch: backward MACs vs FlopCounterMode (meta device, module
by module), saved-activation bytes vs saved_tensors_hooks (a real CPU forward, module by module), and the
training / inference peaks vs the live tensor bytes PyTorch allocates (CPU).

    python scripts/verify_training.py [--batch 2] [--skip-cpu]

Models: torchvision googlenet (train mode, aux heads), resnet50, vit_b_16, and resnet50 with its stem
and layer1-layer3 frozen (fine-tuning the last stage). Exit 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import sys
import time

import torchvision

from costlab.analysis import analyze
from costlab.bridge.capture import capture
from costlab.bridge.training import freeze, measured_peaks, per_module, saved_by_module, torch_flops
from costlab.training.schedule import plan
from costlab.training.step import train_step

MODELS = [
    ("googlenet", lambda: torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False), (3, 224, 224), ()),
    ("resnet50", lambda: torchvision.models.resnet50(weights=None), (3, 224, 224), ()),
    ("vit_b_16", lambda: torchvision.models.vit_b_16(weights=None), (3, 224, 224), ()),
    ("resnet50 (frozen to layer3)", lambda: torchvision.models.resnet50(weights=None), (3, 224, 224),
     ("conv1", "bn1", "layer1", "layer2", "layer3")),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--skip-cpu", action="store_true", help="only the FlopCounterMode check (meta device)")
    args = parser.parse_args()
    failed = 0
    for name, make, shape, frozen in MODELS:
        start = time.perf_counter()
        model = make()
        freeze(model, frozen)
        graph = capture(model, shape, args.batch, "train")
        step = train_step(graph, analyze(graph), frozen=frozen)
        fwd, bwd, total = torch_flops(model, shape, args.batch)
        theirs, ours = per_module(bwd), step.by_module()
        bad = [k for k in set(theirs) | set(ours) if ours.get(k, 0) * 2 != theirs.get(k, 0)]
        forward, backward = step.total("forward"), step.total("backward")
        print(f"{name}: forward {forward:,} MACs, backward {backward:,} (input grads {step.total('grad_input'):,}, weight grads "
              f"{step.total('grad_weight'):,}); FlopCounterMode backward {sum(bwd.values()):,} FLOPs = {sum(bwd.values()) // 2:,} MACs; "
              f"{len(theirs)} modules, {len(bad)} differ; step / (3 x forward) = {(forward + backward) / (3 * forward):.4f}")
        failed += bool(bad) or total != sum(fwd.values()) + sum(bwd.values())
        if not args.skip_cpu:
            memory = plan(graph, step)
            measured, whole = saved_by_module(model, shape, args.batch)
            mine = {k: v for k, v in memory.by_module.items() if v != (0, 0)}
            diff = [k for k in set(mine) | set(measured) if mine.get(k, (0, 0)) != measured.get(k, (0, 0))]
            infer, train = measured_peaks(model, shape, args.batch)
            print(f"  saved activations {memory.saved_activations:,} B (hooks {whole[0]:,}), saved params/buffers "
                  f"{memory.saved_params:,} (hooks {whole[1]:,}); {len(diff)} modules differ")
            print(f"  training peak {memory.peak.bytes:,} B at {memory.peak.phase} {memory.peak.name}; measured {train:,}: "
                  f"ratio {memory.peak.bytes / train:.4f}; inference peak (train-mode rows, no_grad) {memory.inference_peak.bytes:,}; "
                  f"measured {infer:,}: ratio {memory.inference_peak.bytes / infer:.4f}")
            failed += bool(diff) or (memory.saved_activations, memory.saved_params) != whole
        print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)
    print("all exact" if not failed else f"{failed} model(s) differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
