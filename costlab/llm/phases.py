"""Prefill and decode: the KV cache, per-token cost, bytes moved and arithmetic intensity.

Prefill runs the L prompt tokens at once (cache 0); decode runs one new token against T cached
ones. Both are the same graph analysed at a different input length and ``cache``. Bytes follow
costlab.roofline (each row reads its inputs and weights and writes its output once, at the
dtype), with three corrections a transformer needs: an embedding reads only the rows it looks up,
attention also reads the K and V of the cached tokens, and attention runs as one fused kernel
(FlashAttention, Dao et al. 2022) whose L x (T + L) scores and softmax never reach memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, List, Optional, Set

from ..analysis import Analysis, analyze
from ..errors import CostlabError
from ..graph import Graph
from ..roofline import DTYPE_BYTES, Device
from ..shapes import Dim, product
from .counting import kept_pairs, visible_cache
from ..formulas.embedding import Embedding
from .layers import AttentionScores, AttentionValues, Experts, Positions, _AttentionCore

PHASES = ("prefill", "decode")


def has_cache_field(layer: Any) -> bool:
    """True for layers that see the KV cache (attention, positions, position bias)."""
    return any(f.name == "cache" for f in fields(layer)) if hasattr(layer, "__dataclass_fields__") else False


def with_context(graph: Graph, context: Dim) -> Graph:
    """The graph with ``context`` tokens already in every attention's KV cache (an int or a symbol)."""
    if context == 0:
        return graph
    nodes = tuple(replace(n, layer=replace(n.layer, cache=context)) if has_cache_field(n.layer) else n for n in graph.nodes)
    return replace(graph, nodes=nodes)


def attention_layers(graph: Graph) -> List[Any]:
    """(name, layer) of every attention scores and values row."""
    return [(n.name, n.layer) for n in graph.nodes if isinstance(n.layer, _AttentionCore)]


def kv_bytes_per_token(graph: Graph, dtype: str = "float16") -> int:
    """Bytes of K and V one token leaves in the cache: kv_heads x head_dim per scores row (K) and per
    values row (V), summed over the layers, x bytes per element."""
    return sum(layer.kv * layer.head_dim for _, layer in attention_layers(graph)) * DTYPE_BYTES[dtype]


def cached_tokens(layer: _AttentionCore, tokens: Dim) -> Dim:
    """Tokens whose K/V a layer keeps: all of them, or the last ``window`` with a rolling buffer (Mistral)."""
    return tokens if layer.window is None else min_dim(tokens, layer.window)


def kv_cache_bytes(graph: Graph, tokens: Dim, dtype: str = "float16", batch: Dim = 1, rolling: bool = True) -> Dim:
    """KV-cache bytes after ``tokens`` tokens; ``rolling``: a sliding-window layer keeps only its last ``window``."""
    size = DTYPE_BYTES[dtype]
    total: Dim = 0
    for _, layer in attention_layers(graph):
        kept = cached_tokens(layer, tokens) if rolling else tokens
        total = total + layer.kv * layer.head_dim * kept
    return batch * total * size


def causal_macs(row: Any) -> Dim:
    """A row's MACs counting only the (query, key) pairs the attention mask keeps (the ``causal`` convention)."""
    layer = row.layer
    if not isinstance(layer, _AttentionCore):
        return row.macs
    n = row.out_shape[0]
    length = row.in_shapes[1][1]
    return n * layer.heads * kept_pairs(length, layer.cache, layer.causal, layer.window) * layer.head_dim


def phase_graph(graph: Graph, phase: str, seq: Optional[Dim], context: Optional[Dim]) -> Any:
    """(graph, input shape) for a phase: prefill = ``seq`` new tokens after ``context`` cached
    (default 0); decode = 1 new token after ``context`` cached (required: the tokens so far)."""
    if phase not in PHASES:
        raise CostlabError(f"--phase must be one of {', '.join(PHASES)}, got {phase!r}")
    if not attention_layers(graph) and (phase == "decode" or context):
        raise CostlabError(f"{graph.name}: has no attention layers, so no KV cache and no decode phase")
    if phase == "decode":
        if context is None:
            raise CostlabError("--phase decode needs --context T (the tokens already in the KV cache)")
        bidirectional = [name for name, layer in attention_layers(graph) if not layer.causal]
        if bidirectional:
            raise CostlabError(f"{graph.name}: layer '{bidirectional[0]}' is bidirectional (an encoder): it has no decode phase")
        return with_context(graph, context), (1,)
    length = seq if seq is not None else graph.input_shape[0]
    return with_context(graph, context or 0), (length,)


def weight_bytes_read(row: Any, size: int) -> Dim:
    """Weight bytes a row reads: an embedding reads the rows it looks up, experts the routed experts'
    weights (at most all of them), every other layer all its parameters."""
    layer = row.layer
    if isinstance(layer, (Embedding, Positions)):
        return min_dim(row.params, product(row.out_shape)) * size
    if isinstance(layer, Experts):
        tokens = product(row.out_shape[:-1])
        return min_dim(row.params, row.params * tokens * layer.top_k // layer.experts) * size
    return row.params * size


def fused_attention(graph: Graph) -> Set[str]:
    """Names of the rows a fused attention kernel keeps on chip: the scores and what reads only them
    (softmax, dropout)."""
    inside: Set[str] = set()
    for node in graph.nodes:
        if isinstance(node.layer, AttentionScores) or (node.inputs and all(i in inside for i in node.inputs)
                                                        and not isinstance(node.layer, AttentionValues)):
            inside.add(node.name)
    return inside


def activation_elements(row: Any, on_chip: Set[str]) -> Dim:
    """Elements a row reads and writes in memory: its inputs and output, less what stays on chip in a
    fused attention (the scores' output, the softmax, the attention weights the values row reads)."""
    ins = [product(s) for s in row.in_shapes]
    if isinstance(row.layer, AttentionScores):
        return sum(ins, 0)
    if isinstance(row.layer, AttentionValues):
        return ins[1] + row.activations
    if row.name in on_chip:
        return 0
    return sum(ins, 0) + row.activations


def min_dim(a: Dim, b: Dim) -> Dim:
    """min for ints, sympy Min otherwise."""
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    import sympy

    return sympy.Min(a, b)


@dataclass(frozen=True)
class PhaseCost:
    """One phase of one model: MACs (dense and causal), bytes moved, intensity, roofline time."""

    phase: str
    tokens: Dim  # new tokens per sequence
    context: Dim  # tokens already cached
    batch: Dim
    macs: Dim
    causal_macs: Dim
    params: int
    active_params: int
    weight_bytes: Dim
    kv_read_bytes: Dim
    activation_bytes: Dim
    kv_bytes_per_token: int
    kv_cache_bytes: Dim  # after this phase

    @property
    def bytes(self) -> Dim:
        """Bytes moved in this phase."""
        return self.weight_bytes + self.kv_read_bytes + self.activation_bytes

    @property
    def intensity(self) -> Any:
        """FLOPs (2 per causal MAC) per byte."""
        return 2 * self.causal_macs / self.bytes

    def seconds(self, device: Device, dtype: str) -> float:
        """The roofline's lower bound on the time of this phase: max(compute time, memory time)."""
        return max(2 * float(self.causal_macs) / device.peak_flops[dtype], float(self.bytes) / device.bandwidth)


def active_params(analysis: Analysis) -> int:
    """Parameters one token uses: all but the experts it is not routed to (MoE: top_k of experts)."""
    total = 0
    for row in analysis.rows:
        layer = row.layer
        total += row.params * layer.top_k // layer.experts if isinstance(layer, Experts) else row.params
    return total


def phase_cost(graph: Graph, phase: str, seq: Optional[Dim] = None, context: Optional[Dim] = None,
               dtype: str = "float16", batch: Dim = 1) -> PhaseCost:
    """The cost of one prefill (``seq`` tokens) or one decode step (1 token after ``context``)."""
    g, shape = phase_graph(graph, phase, seq, context)
    analysis = analyze(g, shape, batch)
    size = DTYPE_BYTES[dtype]
    on_chip = fused_attention(g)
    weights: Dim = 0
    activations: Dim = 0
    for row in analysis.rows:
        weights = weights + weight_bytes_read(row, size)
        activations = activations + activation_elements(row, on_chip) * size
    cached = context or 0
    kv_read = batch * sum(a.kv * a.head_dim * visible_cache(cached, a.window) for _, a in attention_layers(g)) * size
    t = analysis.total()
    return PhaseCost(
        phase, shape[0], cached, batch, t.macs, sum((causal_macs(r) for r in analysis.rows), 0), t.params, active_params(analysis),
        weights, kv_read, activations, kv_bytes_per_token(g, dtype), kv_cache_bytes(g, cached + shape[0], dtype, batch),
    )
