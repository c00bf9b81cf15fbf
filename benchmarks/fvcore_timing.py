"""fvcore's FlopCountAnalysis re-tracing torchvision's GoogLeNet at several input sizes: the per-point
baseline the sweep and grid benchmarks compare against."""

from __future__ import annotations

import time
import warnings
from typing import List, Optional, Sequence, Tuple


def fvcore_per_point(sizes: Sequence[int], points: int) -> Optional[Tuple[float, List[int]]]:
    """Mean seconds per traced point over ``points`` sizes spread across ``sizes`` (None without fvcore)."""
    try:
        import torch
        import torchvision
        from fvcore.nn import FlopCountAnalysis
    except ImportError as e:
        print(f"  fvcore / torchvision not installed ({e}): no fvcore ratio")
        return None
    warnings.filterwarnings("ignore")
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).eval()
    chosen = list(sizes[:: max(1, len(sizes) // points)][:points])
    start = time.perf_counter()
    with torch.no_grad():
        for s in chosen:
            counter = FlopCountAnalysis(model, torch.randn(1, 3, s, s))
            counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()
    return (time.perf_counter() - start) / len(chosen), chosen
