"""Transformer layer types (classes in costlab.llm.layers): positions, rotary, attention scores and values,
gated-MLP multiply, slices, output head, mixture-of-experts. Token embeddings and RMS norm are the
``embedding`` and ``rmsnorm`` families (embedding.py, norm.py).

Attention is two rows: scores Q K^T and values P V, each N x heads x L x (T + L) x head_dim MACs
counted densely (what a masked matmul computes: torch FlopCounterMode, fvcore, and this ``macs``
convention). The pairs a causal or sliding-window mask keeps are in the formula text and in the
``causal`` convention (costlab.llm.counting).
"""

from __future__ import annotations

from functools import partial

from dataclasses import replace
from typing import Any, Dict, Tuple

from ..conventions import per_mac, zero
from ..errors import FieldError
from ..llm.counting import keys, kept_pairs, pairs_text
from ..llm.layers import (
    AttentionScores, AttentionValues, Experts, Multiply, PositionBias, Positions, Rotary, SelectToken, Slice, Unembedding,
    _AttentionCore,
)
from ..numbers import format_int
from ..registry import FOLLOWS, NA, LayerCost, Text, register
from ..shapes import Shape, format_shape, is_int, product, same_dim
from .embedding import widen_embedding_dim
from .text import batch_prefix, equals, no_macs, times


# How fvcore and FlopCounterMode count each family (fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS;
# torch/utils/flop_counter.py registers formulas for mm / bmm / addmm / baddbmm / matmul-like ops only).
_LOOKUP: Dict[str, Any] = {"kind": "lookup", "fvcore": zero("fvcore has no handler for aten::embedding"),
                           "torch": zero("FlopCounterMode has no formula for embedding lookups")}
_FREE: Dict[str, Any] = {"kind": "elementwise", "widen": FOLLOWS, "describe": NA("no weights: block diffs compare weighted layers and norms"),
                         "fvcore": zero("fvcore counts no elementwise or wiring op"),
                         "torch": zero("FlopCounterMode counts no elementwise or wiring op"),
                         "aten": NA("captured models record these as their elementwise / view ops")}
_WIRING: Dict[str, Any] = dict(_FREE, kind="wiring")


def _refuse_width(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    """Heads x head_dim must match the projections: a transformer is scaled by its config, not a multiplier."""
    raise FieldError("heads", "a width multiplier cannot scale attention heads: change hidden_size / heads in the config instead")


# the attention rows are batched matmuls; a captured model records them as matmul rows (aten::bmm / matmul)
_ATTENTION: Dict[str, Any] = {
    "inputs": (2, 2), "kind": "matmul", "fvcore": per_mac(1, "aten::matmul / bmm: one per MAC"),
    "torch": per_mac(2, "aten.bmm: 2 per MAC"),
    "widen": _refuse_width,
    "describe": NA("no weights of its own"), "aten": NA("a captured Q K^T or P V is a matmul row (aten::bmm / matmul)"),
}


def _widen_slice(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    return replace(layer, start=round(layer.start * factor), size=max(1, round(layer.size * factor)))


def _widen_experts(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    return replace(layer, hidden=max(1, round(layer.hidden * factor)))


def _free(out: Shape, params: int = 0, params_text: Text = "", text: Text = "") -> LayerCost:
    return LayerCost(out, 0, params, 0, text or partial(no_macs, out), params_text)


def _hidden(shape: Shape, what: str) -> Tuple[Shape, int]:
    """Leading dims and the (numeric) feature width of a hidden state (N, ..., d)."""
    if len(shape) < 2:
        raise FieldError("input", f"{what} needs (N, L, features), got {format_shape(shape)}")
    if not is_int(shape[-1]):
        raise FieldError("input", f"{what}: the feature width must be a number, not a symbol")
    return shape[:-1], int(shape[-1])


def _check_positions(needed: object, table: int, field: str) -> None:
    if is_int(needed) and needed > table:  # type: ignore[operator]
        raise FieldError(field, f"the sequence needs {needed} positions but the table has {table}")


@register("positions", Positions, aliases=("position_embedding",), widen=widen_embedding_dim,
          describe=lambda layer: f"positions {layer.max_positions}x{layer.embedding_dim}",
          aten=NA("a captured position lookup is an embedding row (aten::embedding)"), **_LOOKUP)
def positions(layer: Positions, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (lookup of positions cache .. cache+L-1); params = max_positions x embedding_dim."""
    (ids,) = ins
    if len(ids) != 2:
        raise FieldError("input", f"positions need token ids (N, L), got {format_shape(ids)}")
    _check_positions(layer.cache + ids[1], layer.max_positions, "max_positions")
    params = layer.max_positions * layer.embedding_dim
    out = (*ids, layer.embedding_dim)
    return _free(out, params, lambda: equals(times((layer.max_positions, layer.embedding_dim)), params))


@register("position_bias", PositionBias, aliases=("relative_position_bias",), widen=NA("one value per bucket and head: no width"),
          describe=lambda layer: f"position bias {layer.buckets}x{layer.heads}",
          aten=NA("a captured T5 bias is an embedding row (aten::embedding)"), **_LOOKUP)
def position_bias(layer: PositionBias, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; a (1, heads, L, cache+L) bias added to every layer's scores; params = buckets x heads."""
    (ids,) = ins
    if len(ids) != 2:
        raise FieldError("input", f"a position bias needs token ids (N, L), got {format_shape(ids)}")
    out = (1, layer.heads, ids[1], layer.cache + ids[1])
    params = layer.buckets * layer.heads
    return _free(out, params, lambda: equals(times((layer.buckets, layer.heads)), params))


@register("rotary", Rotary, aliases=("rope",), **_FREE)
def rotary(layer: Rotary, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs: x*cos + rotate_half(x)*sin is 2 multiplies and 1 add per element, no multiply-accumulate."""
    (shape,) = ins
    _, width = _hidden(shape, "rotary")
    if width % layer.head_dim:
        raise FieldError("head_dim", f"{width} features do not split into heads of {layer.head_dim}")
    elements = product(shape)
    return _free(shape, text=lambda: f"0 MACs (elementwise rotation, 2 multiplies + 1 add on each of {format_int(elements)} elements)")


def _kv_heads(layer: _AttentionCore) -> int:
    if layer.heads % layer.kv:
        raise FieldError("kv_heads", f"{layer.heads} query heads do not divide into {layer.kv} key/value groups")
    if layer.window is not None and not layer.causal:
        raise FieldError("window", "a sliding window needs causal attention")
    return layer.kv


def _expect(shape: Shape, width: int, what: str, field: str) -> None:
    if len(shape) != 3 or not same_dim(shape[-1], width):
        raise FieldError(field, f"{what} must be (N, L, {width}), got {format_shape(shape)}")


def _attention_text(layer: _AttentionCore, n: object, length: object, macs: object) -> str:
    dense = equals(f"{batch_prefix(n)}{layer.heads} heads x {times((length, keys(length, layer.cache, layer.window), layer.head_dim))}", macs)
    kept = kept_pairs(length, layer.cache, layer.causal, layer.window)
    if not layer.causal:
        return dense
    exact = n * layer.heads * kept * layer.head_dim  # type: ignore[operator]
    return f"{dense} (dense); {pairs_text(length, layer.cache, layer.causal, layer.window)}: {format_int(exact)} MACs (causal convention)"


@register("attention_scores", AttentionScores, aliases=("qk",), **_ATTENTION)
def attention_scores(layer: AttentionScores, ins: Tuple[Shape, ...]) -> LayerCost:
    """Q K^T: MACs = N x heads x L x keys x head_dim, keys = cache + L (a window keeps the last window - 1
    cached); dense: the mask's zeros are multiplied too. Grouped k heads are shared, not copied."""
    q, k = ins
    kv = _kv_heads(layer)
    _expect(q, layer.heads * layer.head_dim, "q", "heads")
    _expect(k, kv * layer.head_dim, "k", "kv_heads")
    n, length = q[0], q[1]
    if not same_dim(k[1], length):
        raise FieldError("input", f"q has {length} positions but k has {k[1]}")
    s = keys(length, layer.cache, layer.window)
    macs = n * layer.heads * length * s * layer.head_dim
    return LayerCost((n, layer.heads, length, s), macs, 0, 0, partial(_attention_text, layer, n, length, macs))


@register("attention_values", AttentionValues, aliases=("av",), **_ATTENTION)
def attention_values(layer: AttentionValues, ins: Tuple[Shape, ...]) -> LayerCost:
    """P V: MACs = N x heads x L x (cache + L) x head_dim (dense); output (N, L, heads x head_dim)."""
    p, v = ins
    kv = _kv_heads(layer)
    _expect(v, kv * layer.head_dim, "v", "kv_heads")
    n, length = v[0], v[1]
    s = keys(length, layer.cache, layer.window)
    if len(p) != 4 or not (same_dim(p[1], layer.heads) and same_dim(p[2], length) and same_dim(p[3], s)):
        raise FieldError("input", f"attention weights must be (N, {layer.heads}, L, cache + L), got {format_shape(p)}")
    macs = n * layer.heads * length * s * layer.head_dim
    return LayerCost((n, length, layer.heads * layer.head_dim), macs, 0, 0, partial(_attention_text, layer, n, length, macs))


@register("multiply", Multiply, aliases=("mul",), inputs=(2, 2), **_FREE)
def multiply(layer: Multiply, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (one multiply per element, nothing accumulated); both inputs have the same shape."""
    a, b = ins
    if len(a) != len(b) or not all(same_dim(x, y) for x, y in zip(a, b)):
        raise FieldError("inputs", f"multiply of mismatched shapes: {format_shape(a)} and {format_shape(b)}")
    return _free(a)


@register("slice", Slice, aliases=("split",), **dict(_WIRING, widen=_widen_slice))
def slice_(layer: Slice, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs: features start .. start+size-1 of the last dimension."""
    (shape,) = ins
    _, width = _hidden(shape, "slice")
    if layer.start + layer.size > width:
        raise FieldError("size", f"features {layer.start}..{layer.start + layer.size - 1} are outside the input's {width}")
    return _free((*shape[:-1], layer.size))


@register("select_token", SelectToken, aliases=("token",), **_WIRING)
def select_token(layer: SelectToken, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs: one position of (N, L, d) -> (N, d)."""
    (shape,) = ins
    if len(shape) != 3:
        raise FieldError("input", f"select_token needs (N, L, d), got {format_shape(shape)}")
    if is_int(shape[1]) and layer.position >= shape[1]:
        raise FieldError("position", f"position {layer.position} is outside a sequence of {shape[1]}")
    return _free((shape[0], shape[2]))


@register("unembedding", Unembedding, aliases=("lm_head",), kind="weighted", widen=lambda layer, factor, in_channels, head: layer,
          describe=lambda layer: f"unembedding {layer.vocab}", fvcore=per_mac(1, "aten::linear / mm: one per MAC"),
          torch=per_mac(2, "aten.mm / addmm: 2 per MAC"), aten=NA("a captured output head is a linear row (aten::mm / addmm)"))
def unembedding(layer: Unembedding, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = N x L x d x vocab; params = d x vocab (+ vocab biases), 0 weights when tied to the embedding."""
    (shape,) = ins
    lead, width = _hidden(shape, "unembedding")
    macs = product(lead) * width * layer.vocab
    biases = layer.vocab if layer.bias else 0
    weights = 0 if layer.tied else width * layer.vocab
    def ptext() -> str:
        text = "tied to the embedding" if layer.tied else equals(times((width, layer.vocab)), weights)
        return f"{text} + {biases}" if biases else text

    return LayerCost((*lead, layer.vocab), macs, weights + biases, biases,
                     lambda: equals(f"{batch_prefix(lead[0])}{times((*lead[1:], width, layer.vocab))}", macs), ptext)


def expert_params(layer: Experts, width: int) -> Tuple[int, int]:
    """(params, biases) of ONE expert: 3 (gated) or 2 matrices of d x hidden, plus biases."""
    matrices = 3 if layer.gated else 2
    biases = ((2 if layer.gated else 1) * layer.hidden + width) if layer.bias else 0
    return matrices * width * layer.hidden + biases, biases


@register("experts", Experts, aliases=("moe",), kind="weighted", widen=_widen_experts,
          describe=lambda layer: f"experts {layer.experts}x{layer.hidden} top {layer.top_k}",
          fvcore=per_mac(1, "each expert's aten::linear: one per MAC"), torch=per_mac(2, "each expert's aten.mm: 2 per MAC"),
          aten=NA("a captured MoE block is its router and expert linear rows"))
def experts(layer: Experts, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = tokens x top_k x (3 or 2) x d x hidden; params = experts x one expert (active per token: top_k of them)."""
    (shape,) = ins
    lead, width = _hidden(shape, "experts")
    if layer.top_k > layer.experts:
        raise FieldError("top_k", f"top_k {layer.top_k} is more than the {layer.experts} experts")
    matrices = 3 if layer.gated else 2
    one, one_bias = expert_params(layer, width)
    macs = product(lead) * layer.top_k * matrices * width * layer.hidden
    return LayerCost(
        shape, macs, layer.experts * one, layer.experts * one_bias,
        lambda: equals(f"{batch_prefix(lead[0])}{times((*lead[1:],))} tokens x top {layer.top_k} x {matrices} x {times((width, layer.hidden))}", macs),
        lambda: f"{layer.experts} experts x {format_int(one)} = {format_int(layer.experts * one)} (active per token: {layer.top_k} x {format_int(one)})")
