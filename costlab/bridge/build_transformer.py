"""Torch builders of the transformer layer types (costlab/formulas/transformer.py), registered with
``costlab.bridge.build.builds``: each module computes what the layer's formula counts, so FlopCounterMode
sees the same matmuls (attention rows: 2 x N x heads x L x keys x head_dim FLOPs each)."""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from ..llm import layers as T
from ..llm.counting import keys
from .build import _Inputs, builds


def _with_cache(x: torch.Tensor, total: int) -> torch.Tensor:
    """x (N, L, w) preceded by zeros for the cached positions an attention still sees: (N, total, w)."""
    cached = total - x.shape[1]
    return torch.cat([x.new_zeros(x.shape[0], cached, x.shape[2]), x], 1) if cached else x


class _Positions(nn.Module):
    def __init__(self, layer: T.Positions) -> None:
        super().__init__()
        self.table, self.start = nn.Embedding(layer.max_positions, layer.embedding_dim), int(layer.cache)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(self.start, self.start + ids.shape[1], device=ids.device)
        return self.table(positions).expand(ids.shape[0], -1, -1)


class _PositionBias(nn.Module):
    """T5's bias table looked up for every (query, key) pair (bucket 0: the bucketing costs no MACs)."""

    def __init__(self, layer: T.PositionBias) -> None:
        super().__init__()
        self.table, self.cache = nn.Embedding(layer.buckets, layer.heads), int(layer.cache)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        length = ids.shape[1]
        buckets = torch.zeros(length, self.cache + length, dtype=torch.long, device=ids.device)
        return self.table(buckets).permute(2, 0, 1).unsqueeze(0)


def _rotate(x: torch.Tensor) -> torch.Tensor:
    """x * cos + rotate_half(x) * sin (angles 0: the cost, not the values, matters here)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * torch.ones_like(x) + rotated * torch.zeros_like(x)


def _scores(layer: T.AttentionScores, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    n, length = q.shape[:2]
    s, kv = int(keys(length, layer.cache, layer.window)), layer.kv
    qh = q.reshape(n, length, kv, layer.heads // kv, layer.head_dim).permute(0, 2, 3, 1, 4)
    kh = _with_cache(k, s).reshape(n, s, kv, 1, layer.head_dim).permute(0, 2, 3, 4, 1)
    return torch.matmul(qh, kh).reshape(n, layer.heads, length, s)


def _values(layer: T.AttentionValues, p: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    n, length = v.shape[:2]
    s, kv = p.shape[-1], layer.kv
    ph = p.reshape(n, kv, layer.heads // kv, length, s)
    vh = _with_cache(v, s).reshape(n, s, kv, 1, layer.head_dim).permute(0, 2, 3, 1, 4)
    return torch.matmul(ph, vh).permute(0, 3, 1, 2, 4).reshape(n, length, layer.heads * layer.head_dim)


class _Unembedding(nn.Module):
    """The output head; tied weights are a buffer (the embedding holds the parameters)."""

    def __init__(self, layer: T.Unembedding, width: int) -> None:
        super().__init__()
        weight = torch.empty(layer.vocab, width)
        if layer.tied:
            self.register_buffer("weight", weight)
        else:
            self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(layer.vocab)) if layer.bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)


class _Experts(nn.Module):
    """``experts`` MLPs; routing depends on the data, so every token goes to the first top_k experts
    (the MACs a router spreads over the experts are the same)."""

    def __init__(self, layer: T.Experts, width: int) -> None:
        super().__init__()
        self.top_k, self.gated = layer.top_k, layer.gated
        self.experts = nn.ModuleList(nn.ModuleDict({
            **({"gate": nn.Linear(width, layer.hidden, layer.bias)} if layer.gated else {}),
            "up": nn.Linear(width, layer.hidden, layer.bias), "down": nn.Linear(layer.hidden, width, layer.bias)})
            for _ in range(layer.experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        for module in list(self.experts)[:self.top_k]:
            expert = cast(nn.ModuleDict, module)
            hidden = expert["up"](x)
            hidden = nn.functional.silu(expert["gate"](x)) * hidden if self.gated else nn.functional.gelu(hidden)
            out = out + expert["down"](hidden)
        return out


@builds(T.Positions)
def _positions(layer: T.Positions, ins: Any) -> nn.Module:
    return _Positions(layer)


@builds(T.PositionBias)
def _position_bias(layer: T.PositionBias, ins: Any) -> nn.Module:
    return _PositionBias(layer)


@builds(T.Rotary)
def _rotary(layer: T.Rotary, ins: Any) -> nn.Module:
    return _Inputs(_rotate, "rotary")


@builds(T.AttentionScores)
def _attention_scores(layer: T.AttentionScores, ins: Any) -> nn.Module:
    return _Inputs(lambda q, k: _scores(layer, q, k), "attention_scores")


@builds(T.AttentionValues)
def _attention_values(layer: T.AttentionValues, ins: Any) -> nn.Module:
    return _Inputs(lambda p, v: _values(layer, p, v), "attention_values")


@builds(T.Multiply)
def _multiply(layer: T.Multiply, ins: Any) -> nn.Module:
    return _Inputs(torch.mul, "mul")


@builds(T.Slice)
def _slice(layer: T.Slice, ins: Any) -> nn.Module:
    return _Inputs(lambda x: x[..., layer.start:layer.start + layer.size], "slice")


@builds(T.SelectToken)
def _select_token(layer: T.SelectToken, ins: Any) -> nn.Module:
    return _Inputs(lambda x: x[:, layer.position], "select_token")


@builds(T.Unembedding)
def _unembedding(layer: T.Unembedding, ins: Any) -> nn.Module:
    return _Unembedding(layer, ins[0][-1])


@builds(T.Experts)
def _experts(layer: T.Experts, ins: Any) -> nn.Module:
    return _Experts(layer, ins[0][-1])
