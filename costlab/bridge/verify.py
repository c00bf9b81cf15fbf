"""costlab's numbers next to fvcore's, module by module, with every difference explained or flagged.

Units are the modules costlab has rows for (a spec layer, or a captured module's own ops); fvcore's
per-module counts and PyTorch's parameters are assigned to the nearest unit, so both sides
partition the same total.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..analysis import Analysis, analyze
from ..errors import CostlabError
from ..graph import Graph

FVCORE_SKIPS = {"attention": "aten::scaled_dot_product_attention"}  # costlab op -> the op fvcore lists as unsupported
FVCORE_EXTRAS = {
    "batchnorm": "batch norm (2 per element in eval, 5 in training)",
    "layernorm": "layer norm (5 per element)",
    "groupnorm": "group norm (5 per element)",
    "adaptive_avgpool": "adaptive average pooling (1 per input element)",
}


@dataclass(frozen=True)
class UnitCheck:
    """One module: costlab's MACs and fvcore-rule count, fvcore's count, params on both sides, the verdict."""

    name: str
    macs: int
    ours: int
    fvcore: int
    params: int
    torch_params: int
    status: str  # exact | explained | mismatch
    note: str


@dataclass(frozen=True)
class Verification:
    """The result of checking one model against fvcore."""

    model: str
    units: Tuple[UnitCheck, ...]
    macs: int
    ours: int
    fvcore: int
    params: int
    torch_params: int
    fvcore_unsupported: Dict[str, int]
    costlab_unsupported: Tuple[str, ...]

    def count(self, status: str) -> int:
        return sum(1 for u in self.units if u.status == status)

    @property
    def ok(self) -> bool:
        return self.count("mismatch") == 0 and self.params == self.torch_params


def _unit_of(name: str) -> str:
    return name.split("#", 1)[0]


def _nearest(name: str, units: set) -> str:
    while name not in units:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name


def fvcore_direct(model: nn.Module, x: torch.Tensor) -> Tuple[Dict[str, int], int, Dict[str, int]]:
    """fvcore's count of the ops run directly in each module (children excluded), its total, and what it skipped."""
    from fvcore.nn import FlopCountAnalysis

    counter = FlopCountAnalysis(model, x)
    counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    by_module = counter.by_module()
    direct = {}
    for name in by_module:
        children = [c for c in by_module if c and c != name and c.rsplit(".", 1)[0] == name]
        if name == "":
            children = [c for c in by_module if c and "." not in c]
        direct[name] = int(by_module[name]) - sum(int(by_module[c]) for c in children)
    return direct, int(counter.total()), dict(counter.unsupported_ops())


def used_parameters(model: nn.Module, x: torch.Tensor) -> set:
    """Names of the parameters the forward pass really uses: those that receive a gradient.

    Independent of costlab's capture: in eval mode GoogLeNet's auxiliary heads get none, while
    nn.MultiheadAttention's out_proj (never called as a module) does.
    """
    from torch.utils._pytree import tree_flatten

    params = dict(model.named_parameters())
    for p in params.values():
        p.requires_grad_(True)
    with torch.enable_grad():
        outputs = [t for t in tree_flatten(model(x))[0] if isinstance(t, torch.Tensor) and t.is_floating_point()]
        total = sum((t.sum() for t in outputs), torch.zeros(()))
        grads = torch.autograd.grad(total, list(params.values()), allow_unused=True)
    return {name for name, g in zip(params, grads) if g is not None}


def check(analysis: Analysis, model: nn.Module, x: torch.Tensor) -> Verification:
    """Compare an fvcore-convention analysis of ``model`` with fvcore run on it, and params with PyTorch's."""
    if analysis.convention != "fvcore":
        raise ValueError("check() needs an analysis under the fvcore convention")
    units = {_unit_of(r.name) for r in analysis.rows} | {""}
    ours: Dict[str, List[Any]] = {u: [] for u in units}
    for row in analysis.rows:
        ours[_unit_of(row.name)].append(row)
    direct, fv_total, skipped = fvcore_direct(model, x)
    theirs: Counter = Counter()
    for name, count in direct.items():
        theirs[_nearest(name, units)] += count
    used = used_parameters(model, x)
    torch_params: Counter = Counter()
    for name, p in model.named_parameters():
        if name not in used:
            continue
        torch_params[_nearest(name.rsplit(".", 1)[0] if "." in name else "", units)] += p.numel()
    checks = []
    first_row: Dict[str, int] = {}
    for i, row in enumerate(analysis.rows):
        first_row.setdefault(_unit_of(row.name), i)
    for unit in sorted(units, key=lambda u: first_row.get(u, -1)):
        rows = ours[unit]
        if not rows and not theirs[unit] and not torch_params[unit]:
            continue
        cost = sum(int(r.cost) for r in rows)
        macs = sum(int(r.macs) for r in rows)
        params = sum(r.params for r in rows)
        checks.append(_verdict(unit or "(top level)", rows, macs, cost, int(theirs[unit]), params, int(torch_params[unit]), skipped))
    t = analysis.total()
    unsupported = tuple(r.name for r in analysis.rows if r.op == "unsupported")
    return Verification(analysis.model, tuple(checks), int(t.macs), int(analysis.total_cost()), fv_total, t.params,
                        int(sum(torch_params.values())), skipped, unsupported)


def _verdict(name: str, rows: List[Any], macs: int, ours: int, theirs: int, params: int, torch_params: int,
             skipped: Dict[str, int]) -> UnitCheck:
    notes = []
    extras = sorted({FVCORE_EXTRAS[r.op] for r in rows if r.op in FVCORE_EXTRAS and r.cost})
    if extras:
        notes.append("fvcore also counts " + ", ".join(extras))
    if ours == theirs:
        status = "exact"
    else:
        skipped_here = sum(int(r.cost) for r in rows if r.op in FVCORE_SKIPS and FVCORE_SKIPS[r.op] in skipped)
        if skipped_here and ours - skipped_here == theirs:
            status = "explained"
            notes.append(f"fvcore cannot count aten::scaled_dot_product_attention (it lists it as unsupported): {skipped_here:,}")
        else:
            status = "mismatch"
            notes.append(f"costlab {ours:,} vs fvcore {theirs:,}")
    if params != torch_params:
        status = "mismatch"
        notes.append(f"params: costlab {params:,} vs PyTorch {torch_params:,}")
    return UnitCheck(name, macs, ours, theirs, params, torch_params, status, "; ".join(notes))


def verify_source(source: str, input_shape: Optional[Tuple[int, ...]] = None, mode: str = "infer") -> Verification:
    """Build SOURCE as a real module (spec graphs through ``build``, Python references constructed with random
    weights and captured on meta), trace it with fvcore, and compare module by module."""
    from .build import real_model

    model, shape, graph = real_model(source, input_shape, 1, mode)
    analysis = analyze(graph, shape, 1, mode, "fvcore")
    model.train(mode == "train")
    return check(analysis, model, torch.randn(1, *shape))


def verify_graph(graph: Graph, input_shape: Optional[Tuple[int, ...]] = None, mode: str = "infer") -> Verification:
    """Build a spec graph as a real module, trace it with fvcore, compare layer by layer."""
    from .build import build

    shape = tuple(input_shape or graph.input_shape)
    if not all(isinstance(d, int) for d in shape):
        raise CostlabError(f"{graph.name}: verification needs a numeric --input")
    return check(analyze(graph, shape, 1, mode, "fvcore"), build(graph, shape, mode), torch.randn(1, *shape))


def verify_reference(text: str, input_shape: Optional[Tuple[int, ...]] = None, mode: str = "infer") -> Verification:
    """Construct the real model (random weights, CPU), capture it on meta, trace it with fvcore, compare."""
    return verify_source(text, input_shape, mode)
