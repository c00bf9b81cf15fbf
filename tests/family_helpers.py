"""Count a small real module three ways: costlab (captured on meta), FlopCounterMode (meta), fvcore (CPU)."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Dict, Tuple

import torch
from torch import nn

from costlab.analysis import analyze
from costlab.bridge.capture import capture


@dataclass
class Counts:
    macs: int
    params: int
    biases: int
    fvcore_rule: int  # costlab under --convention fvcore
    torch_rule: int  # costlab under --convention torch
    fvcore: int  # fvcore's FlopCountAnalysis on the CPU
    flop_counter: int  # FlopCounterMode on the meta device
    torch_params: int
    ops: Tuple[str, ...]  # costlab's row ops
    torch_by_module: Dict[str, int]
    costlab_by_module: Dict[str, int]


def torch_by_module(model: nn.Module, shape: Tuple[int, ...], batch: int = 1) -> Tuple[int, Dict[str, int]]:
    """FlopCounterMode's total and per-module counts (names without the root) on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    meta = copy.deepcopy(model).to("meta").eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        meta(torch.empty((batch, *shape), device="meta"))
    per = {k.split(".", 1)[1]: sum(v.values()) for k, v in counter.get_flop_counts().items() if "." in k}
    return counter.get_total_flops(), per


def count(model: nn.Module, shape: Tuple[int, ...], batch: int = 1, fvcore: bool = True) -> Counts:
    """All the counts of ``model`` on a (batch, *shape) input, in eval mode."""
    model = model.eval()
    graph = capture(model, shape, batch)
    a = {c: analyze(graph, convention=c) for c in ("macs", "fvcore", "torch")}
    total, per = torch_by_module(model, shape, batch)
    fv = 0
    if fvcore:
        from fvcore.nn import FlopCountAnalysis

        logging.disable(logging.WARNING)
        try:
            analysis = FlopCountAnalysis(model, torch.randn(batch, *shape)).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            fv = int(analysis.total())
        finally:
            logging.disable(logging.NOTSET)
    ours: Dict[str, int] = {}
    for row in a["torch"].rows:
        module = row.name.split("#")[0]
        ours[module] = ours.get(module, 0) + int(row.cost)
    t = a["macs"].total()
    return Counts(int(t.macs), t.params, t.biases, int(a["fvcore"].total_cost()), int(a["torch"].total_cost()), fv, int(total),
                  sum(p.numel() for p in model.parameters()), tuple(r.op for r in a["macs"].rows), per, ours)


