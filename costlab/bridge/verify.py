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
# Fused kernels a frozen model in eval mode runs on the CPU (nn.TransformerEncoder's fast path): fvcore lists them
# as unsupported and counts 0, while costlab (on the meta device, where the fast path is never taken) counts the
# same computation op by op.
FVCORE_FUSED = ("aten::_transformer_encoder_layer_fwd", "aten::_native_multi_head_attention")
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
    status: str  # exact | explained | uncounted (an op without a costlab rule) | mismatch
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
    costlab_unsupported: Tuple[str, ...]  # 'aten.flip x1 in (top level)': ops costlab could not count

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


class _Positional(nn.Module):
    """Calls a model with keyword arguments from positional ones (fvcore's tracer passes positional inputs only)."""

    def __init__(self, inner: nn.Module, keywords: Tuple[str, ...]) -> None:
        super().__init__()
        self.inner, self.keywords = inner, keywords

    def forward(self, *args: Any) -> Any:
        split = len(args) - len(self.keywords)
        return self.inner(*args[:split], **dict(zip(self.keywords, args[split:])))


def fvcore_direct(model: nn.Module, args: Tuple[Any, ...], kwargs: Optional[Dict[str, Any]] = None
                  ) -> Tuple[Dict[str, int], int, Dict[str, int], Dict[str, Counter]]:
    """fvcore's count of the ops run directly in each module (children excluded), its total, what it skipped,
    and what it skipped directly in each module."""
    from fvcore.nn import FlopCountAnalysis

    kwargs = kwargs or {}
    traced, prefix = (model, "") if not kwargs else (_Positional(model, tuple(kwargs)), "inner")
    counter = FlopCountAnalysis(traced, tuple(args) + tuple(kwargs.values()))
    counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    try:
        by_module = counter.by_module()
    except Exception as e:  # fvcore's tracer on the user's model: report it, never a traceback
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise CostlabError(f"fvcore could not trace the model: {type(e).__name__}: {first}") from None
    direct: Dict[str, Any] = {}
    skipped_direct: Dict[str, Any] = {}
    for name in by_module:
        children = [c for c in by_module if c and c != name and c.rsplit(".", 1)[0] == name]
        if name == "":
            children = [c for c in by_module if c and "." not in c]
        own = _strip(name, prefix)
        if own is None:
            continue
        direct[own] = direct.get(own, 0) + int(by_module[name]) - sum(int(by_module[c]) for c in children)
        skipped = Counter(counter.unsupported_ops(name))
        for c in children:
            skipped.subtract(counter.unsupported_ops(c))
        skipped_direct[own] = skipped_direct.get(own, Counter()) + +skipped
    return direct, int(counter.total()), dict(counter.unsupported_ops()), skipped_direct


def _strip(name: str, prefix: str) -> Optional[str]:
    """fvcore's module name without the wrapper's prefix ('inner.layer1' -> 'layer1'); None for the wrapper."""
    if not prefix:
        return name
    if name == prefix:
        return ""
    return name[len(prefix) + 1:] if name.startswith(prefix + ".") else None


def used_parameters(model: nn.Module, args: Tuple[Any, ...], kwargs: Optional[Dict[str, Any]] = None) -> set:
    """Names of the parameters the forward pass really uses: those that receive a gradient.

    Independent of costlab's capture: in eval mode GoogLeNet's auxiliary heads get none, while
    nn.MultiheadAttention's out_proj (never called as a module) does. Requires_grad flags are restored.
    """
    from torch.utils._pytree import tree_flatten

    params = dict(model.named_parameters())
    if not params:
        return set()
    flags = {name: p.requires_grad for name, p in params.items()}
    for p in params.values():
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            result = model(*args, **(kwargs or {}))
            outputs = [t for t in tree_flatten(result)[0] if isinstance(t, torch.Tensor) and t.requires_grad]
            if not outputs:
                return set()
            grads = torch.autograd.grad(torch.stack([t.float().sum() for t in outputs]).sum(), list(params.values()), allow_unused=True)
    finally:
        for name, p in params.items():
            p.requires_grad_(flags[name])
    return {name for name, g in zip(params, grads) if g is not None}


def check(analysis: Analysis, model: nn.Module, args: Any, kwargs: Optional[Dict[str, Any]] = None) -> Verification:
    """Compare an fvcore-convention analysis of ``model`` with fvcore run on it, and params with PyTorch's.

    ``args``: the positional inputs (a tensor or a tuple), ``kwargs`` the keyword ones."""
    args = (args,) if isinstance(args, torch.Tensor) else tuple(args)
    if analysis.convention != "fvcore":
        raise ValueError("check() needs an analysis under the fvcore convention")
    units = {_unit_of(r.name) for r in analysis.rows} | {""}
    ours: Dict[str, List[Any]] = {u: [] for u in units}
    for row in analysis.rows:
        ours[_unit_of(row.name)].append(row)
    direct, fv_total, skipped, skipped_direct = fvcore_direct(model, args, kwargs)
    theirs: Counter = Counter()
    fv_skipped: Dict[str, Counter] = {u: Counter() for u in units}
    for name, count in direct.items():
        theirs[_nearest(name, units)] += count
        fv_skipped[_nearest(name, units)] += skipped_direct.get(name, Counter())
    used = used_parameters(model, args, kwargs)
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
        checks.append(_verdict(unit or "(top level)", rows, macs, cost, int(theirs[unit]), params, int(torch_params[unit]),
                               fv_skipped[unit]))
    t = analysis.total()
    unsupported = tuple(u.text() for u in analysis.uncounted)
    return Verification(analysis.model, tuple(checks), int(t.macs), int(analysis.total_cost()), fv_total, t.params,
                        int(sum(torch_params.values())), skipped, unsupported)


def _verdict(name: str, rows: List[Any], macs: int, ours: int, theirs: int, params: int, torch_params: int,
             skipped: Counter) -> UnitCheck:
    """exact only when both sides count the same and neither skipped an op here: two counters that both skip an
    op do not make it exact."""
    notes = []
    extras = sorted({FVCORE_EXTRAS[r.op] for r in rows if r.op in FVCORE_EXTRAS and r.cost})
    if extras:
        notes.append("fvcore also counts " + ", ".join(extras))
    uncounted = Counter(str(getattr(r.layer, "kind", r.name)) for r in rows if r.op == "unsupported")
    fused = sum(skipped[op] for op in FVCORE_FUSED)
    if ours == theirs:
        status = "exact"
    else:
        skipped_here = sum(int(r.cost) for r in rows if r.op in FVCORE_SKIPS and FVCORE_SKIPS[r.op] in skipped)
        if skipped_here and ours - skipped_here == theirs:
            status = "explained"
            notes.append(f"fvcore cannot count aten::scaled_dot_product_attention (it lists it as unsupported): {skipped_here:,}")
        elif fused and ours > theirs:
            status = "explained"
            ops = ", ".join(op for op in FVCORE_FUSED if skipped[op])
            notes.append(f"fvcore misses the fused path ({ops}, which it lists as unsupported): costlab counts it op by op, "
                         f"{ours - theirs:,}")
        else:
            status = "mismatch"
            notes.append(f"costlab {ours:,} vs fvcore {theirs:,}")
    if uncounted:
        status = "uncounted" if status != "mismatch" else status
        fv = ", ".join(f"{op} x{n}" for op, n in sorted(skipped.items()) if not _harmless(op)) or "nothing"
        notes.append(f"costlab has no rule for {', '.join(f'{op} x{n}' for op, n in uncounted.items())} "
                     f"(fvcore skips here: {fv}): not exact")
    elif status == "exact" and any(not _harmless(op) for op in skipped):
        status = "explained"
        notes.append("fvcore skips " + ", ".join(f"{op} x{n}" for op, n in sorted(skipped.items()) if not _harmless(op))
                     + " (lists it as unsupported)")
    if params != torch_params:
        status = "mismatch"
        notes.append(f"params: costlab {params:,} vs PyTorch {torch_params:,}")
    return UnitCheck(name, macs, ours, theirs, params, torch_params, status, "; ".join(notes))


def _harmless(op: str) -> bool:
    """An op fvcore lists as unsupported that costs no multiply-adds: elementwise (torch's Tag.pointwise), or a
    reduction/selection costlab also counts as 0 MACs."""
    namespace, _, name = op.partition("::")
    packet = getattr(getattr(torch.ops, namespace or "aten", None), name, None)
    overloads = [getattr(packet, o) for o in packet.overloads()] if packet is not None else []
    if any(torch.Tag.pointwise in o.tags for o in overloads):
        return True
    return name.strip("_") in HARMLESS


HARMLESS = {"softmax", "log_softmax", "mean", "sum", "amax", "max", "min", "cumsum", "var", "std", "var_mean", "norm",
            "linalg_vector_norm", "max_pool2d", "max_pool1d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
            "dropout", "feature_dropout", "layer_norm", "group_norm", "batch_norm", "instance_norm", "topk", "sort",
            "argmax", "argmin", "any", "all", "nonzero", "index_put_", "scatter", "scatter_add", "one_hot", "embedding",
            # data movement
            "pad", "constant_pad_nd", "reflection_pad1d", "reflection_pad2d", "replication_pad2d", "cat", "stack", "flatten",
            "contiguous", "copy", "repeat", "expand", "gather", "index", "index_select", "roll", "flip", "narrow", "chunk",
            "split", "unbind", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "masked_fill",
            "new_ones", "new_zeros", "new_full", "new_empty", "zeros", "ones", "full", "empty", "arange", "zeros_like", "ones_like"}


def verify_source(source: str, input_shape: Optional[Tuple[int, ...]] = None, mode: str = "infer") -> Verification:
    """Build SOURCE as a real module (spec graphs through ``build``, Python references constructed with random
    weights and captured on meta), trace it with fvcore, and compare module by module."""
    from .build import real_model

    from .inputs import example_args

    model, spec, graph = real_model(source, input_shape, 1, mode)
    analysis = analyze(graph, spec, 1, mode, "fvcore")
    model.train(mode == "train")
    args, kwargs = example_args(spec, 1, "cpu")  # integer inputs are zeros: valid token ids
    return check(analysis, model, args, kwargs)


def verify_graph(graph: Graph, input_shape: Optional[Tuple[int, ...]] = None, mode: str = "infer") -> Verification:
    """Build a spec graph as a real module, trace it with fvcore, compare layer by layer."""
    from .build import build

    shape = tuple(input_shape or graph.input_shape)
    if not all(isinstance(d, int) for d in shape):
        raise CostlabError(f"{graph.name}: verification needs a numeric --input")
    return check(analyze(graph, shape, 1, mode, "fvcore"), build(graph, shape, mode), (torch.randn(1, *shape),))


def verify_reference(text: str, input_shape: Optional[Tuple[int, ...]] = None, mode: str = "infer") -> Verification:
    """Construct the real model (random weights, CPU), capture it on meta, trace it with fvcore, compare."""
    return verify_source(text, input_shape, mode)
