"""Layer descriptions of transformer blocks (frozen dataclasses, spec fields as in costlab.layers; formulas in
costlab/formulas/transformer.py; token embeddings and RMS norm are costlab.layers.Embedding and RMSNorm).

Token ids are (N, L); hidden states (N, L, d). ``cache`` is the number of tokens already in the
KV cache (0 in prefill; an int or a name such as T), set for the whole model by ``with_context``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..fields import spec_field


@dataclass(frozen=True)
class Positions:
    """Learned absolute position embeddings (GPT-2 wpe, BERT): ids (N, L) -> (N, L, dim), positions cache..cache+L-1."""

    max_positions: int = spec_field("count", doc="rows of the table (longest sequence)")
    embedding_dim: int = spec_field("channels", doc="width of each row")
    cache: Any = spec_field("tokens", 0, "tokens already in the KV cache (the first position used)")


@dataclass(frozen=True)
class PositionBias:
    """T5's relative position bias: a (buckets x heads) table looked up into (1, heads, L, cache + L); 0 MACs."""

    buckets: int = spec_field("count", doc="relative position buckets")
    heads: int = spec_field("count", doc="attention heads")
    cache: Any = spec_field("tokens", 0, "tokens already in the KV cache")


@dataclass(frozen=True)
class Rotary:
    """Rotary position embedding applied to q or k (RoPE): x*cos + rotate_half(x)*sin, elementwise; 0 MACs."""

    head_dim: int = spec_field("count", doc="width of one head (the input is heads x head_dim)")


@dataclass(frozen=True)
class _AttentionCore:
    """The fields shared by the QK^T and AV rows of one attention."""

    heads: int = spec_field("count", doc="query heads")
    head_dim: int = spec_field("count", doc="width of one head")
    kv_heads: Optional[int] = spec_field("optional_count", None, "key/value heads (grouped-query; 1 = multi-query; default: heads)")
    causal: bool = spec_field("bool", True, "each token attends to itself and earlier tokens only")
    window: Optional[int] = spec_field("optional_count", None, "sliding window: each token attends to at most this many keys")
    cache: Any = spec_field("tokens", 0, "tokens already in the KV cache (keys = cache + L)")

    @property
    def kv(self) -> int:
        """Key/value heads (``heads`` when not grouped)."""
        return self.kv_heads or self.heads


@dataclass(frozen=True)
class AttentionScores(_AttentionCore):
    """Attention scores Q K^T: q (N, L, heads*head_dim), k (N, L, kv_heads*head_dim) -> (N, heads, L, cache + L)."""


@dataclass(frozen=True)
class AttentionValues(_AttentionCore):
    """Attention-weighted values P V: p (N, heads, L, cache + L), v (N, L, kv_heads*head_dim) -> (N, L, heads*head_dim)."""


@dataclass(frozen=True)
class Multiply:
    """Elementwise product of two same-shaped inputs (the gate of SwiGLU/GeGLU); 0 MACs."""


@dataclass(frozen=True)
class Slice:
    """A slice of the last dimension (q, k or v out of a fused QKV projection); 0 MACs."""

    start: int = spec_field("index", doc="first feature")
    size: int = spec_field("count", doc="features taken")


@dataclass(frozen=True)
class SelectToken:
    """One position of the sequence: (N, L, d) -> (N, d) (BERT's pooler reads the first token)."""

    position: int = spec_field("index", 0, "which position (0 = first)")


@dataclass(frozen=True)
class Unembedding:
    """The output head: hidden (N, L, d) -> logits (N, L, vocab); tied: shares the embedding's weights (0 params)."""

    vocab: int = spec_field("count", doc="vocabulary size")
    tied: bool = spec_field("bool", False, "weights shared with the token embedding (counted there)")
    bias: bool = spec_field("bool", False, "add a bias per vocabulary entry")


@dataclass(frozen=True)
class Experts:
    """Mixture-of-experts MLP: each token runs through top_k of ``experts`` MLPs (Mixtral); the router is its own linear row."""

    experts: int = spec_field("count", doc="experts per layer")
    top_k: int = spec_field("count", doc="experts each token is routed to")
    hidden: int = spec_field("count", doc="hidden width of one expert")
    gated: bool = spec_field("bool", True, "gated (SwiGLU: 3 matrices) or plain (2 matrices)")
    bias: bool = spec_field("bool", False, "biases in the expert matrices")
