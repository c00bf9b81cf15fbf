"""Embedding lookups (torch.nn.Embedding, EmbeddingBag): parameters, and no multiply-adds for a lookup."""

from __future__ import annotations

from functools import partial

from dataclasses import dataclass, replace
from typing import Dict, Any, Tuple

from ..conventions import zero
from ..errors import FieldError
from ..fields import spec_field
from ..registry import LayerCost, Text, register
from ..shapes import Shape
from .text import equals, no_macs, times

BAG_MODES = ("sum", "mean", "max")


@dataclass(frozen=True)
class Embedding:
    """Token embedding: integer ids (N, L) -> vectors (N, L, dim) (torch.nn.Embedding)."""

    num_embeddings: int = spec_field("count", doc="vocabulary size")
    embedding_dim: int = spec_field("channels", doc="vector size")


@dataclass(frozen=True)
class EmbeddingBag:
    """Bags of ids (N, L) reduced to one vector each (N, dim) by sum, mean or max (torch.nn.EmbeddingBag)."""

    num_embeddings: int = spec_field("count", doc="vocabulary size")
    embedding_dim: int = spec_field("channels", doc="vector size")
    mode: str = spec_field("choice", "mean", ", ".join(BAG_MODES), choices=BAG_MODES)


def widen_embedding_dim(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    """Width sweeps scale a lookup table's embedding_dim (embeddings here, learned positions in transformer.py)."""
    return replace(layer, embedding_dim=max(1, round(layer.embedding_dim * factor)))


_LOOKUP: Dict[str, Any] = {"kind": "lookup", "widen": widen_embedding_dim, "describe": lambda layer: f"{type(layer).__name__.lower()} {layer.num_embeddings}x{layer.embedding_dim}",
               "torch": zero("FlopCounterMode has no formula for embedding lookups")}


def _table(layer: Any) -> Tuple[int, Text]:
    params = layer.num_embeddings * layer.embedding_dim
    return params, lambda: equals(times((layer.num_embeddings, layer.embedding_dim)), params)


@register("embedding", Embedding, fvcore=zero("fvcore has no handler for aten::embedding"), aten=("embedding",), **_LOOKUP)
def embedding(layer: Embedding, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (a lookup copies rows); params = vocabulary x dim; any input shape gains a last axis of dim."""
    (shape,) = ins
    out = (*shape, layer.embedding_dim)
    params, text = _table(layer)
    return LayerCost(out, 0, params, 0, partial(no_macs, out), text)


@register("embedding_bag", EmbeddingBag, fvcore=zero("fvcore has no handler for aten::embedding_bag"),
          aten=("_embedding_bag", "_embedding_bag_forward_only", "embedding_bag"), **_LOOKUP)
def embedding_bag(layer: EmbeddingBag, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (the bag's sum / mean / max are additions and comparisons, counted by neither fvcore nor
    FlopCounterMode); params = vocabulary x dim; ids (N, L) -> (N, dim)."""
    (shape,) = ins
    if len(shape) != 2:
        raise FieldError("input", f"embedding_bag needs bags of ids (N, L), got {times(shape)}")
    out = (shape[0], layer.embedding_dim)
    params, text = _table(layer)
    return LayerCost(out, 0, params, 0, partial(no_macs, out), text)
