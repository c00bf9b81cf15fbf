"""Matrix products and attention: the multiply-adds of transformers (and of captured linear layers)."""

from __future__ import annotations

from typing import Any, Dict, Tuple

from dataclasses import dataclass

from ..conventions import custom, fvcore_einsum, per_mac
from ..errors import FieldError
from ..fields import spec_field
from ..registry import FOLLOWS, NA, LayerCost, register
from ..shapes import Dim, Shape, is_int, product, same_dim
from .text import equals, times


@dataclass(frozen=True)
class Matmul:
    """Batched matrix product of two inputs (..., m, k) @ (..., k, n), batch dims broadcast."""


@dataclass(frozen=True)
class Attention:
    """Scaled dot-product attention of q (..., L, E), k (..., S, E), v (..., S, Ev)."""

    gqa: bool = spec_field("bool", False, "grouped-query attention: k and v may have fewer heads (dim -3) than q")


@dataclass(frozen=True)
class Einsum:
    """torch.einsum of two operands, e.g. 'bhid,bhjd->bhij' (captured models)."""

    equation: str


_NO_WEIGHTS: Dict[str, Any] = {"kind": "matmul", "widen": FOLLOWS, "describe": NA("no weights of its own")}


def broadcast(a: Shape, b: Shape) -> Shape:
    """NumPy broadcasting of two batch shapes."""
    out = []
    for x, y in zip(((1,) * (len(b) - len(a))) + tuple(a), ((1,) * (len(a) - len(b))) + tuple(b)):
        if x != 1 and y != 1 and not same_dim(x, y):
            raise FieldError("inputs", f"batch dimensions {times(a)} and {times(b)} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


@register("matmul", Matmul, inputs=(2, 2), fvcore=per_mac(1, "aten::matmul / bmm / mm: one per MAC"),
          torch=per_mac(2, "aten.mm / bmm: 2 per MAC"), aten=("mm", "addmm", "bmm", "baddbmm", "matmul"), **_NO_WEIGHTS)
def matmul(layer: Matmul, ins: Tuple[Shape, ...]) -> LayerCost:
    """(..., m, k) @ (..., k, n): MACs = batch * m * k * n."""
    a, b = ins
    if len(a) < 2 or len(b) < 2:
        raise FieldError("inputs", "matmul needs two inputs of at least 2 dimensions")
    (m, k), (k2, n) = a[-2:], b[-2:]
    if not same_dim(k, k2):
        raise FieldError("inputs", f"inner dimensions differ: {times(a)} @ {times(b)}")
    batch = broadcast(a[:-2], b[:-2])
    macs = product(batch) * m * k * n
    lead = f"({times(batch)}) x " if batch else ""
    return LayerCost((*batch, m, n), macs, 0, 0, lambda: equals(f"{lead}{times((m, k, n))}", macs))


@register("attention", Attention, inputs=(3, 3),
          fvcore=per_mac(1, "fvcore has no handler for aten::scaled_dot_product_attention (listed as unsupported): costlab "
                            "counts its MACs and `verify` shows the difference as explained"),
          torch=per_mac(2, "the two bmm of the math path on the meta device (2 per MAC); FlopCounterMode on the CPU "
                        "misses the fused kernel _scaled_dot_product_flash_attention_for_cpu"),
          aten=NA("recorded as one op by wrapping F.scaled_dot_product_attention"),
          functions=("F.scaled_dot_product_attention",), **_NO_WEIGHTS)
def attention(layer: Attention, ins: Tuple[Shape, ...]) -> LayerCost:
    """softmax(q k^T) v: MACs = batch * L * S * E (scores) + batch * L * S * Ev (weighted sum)."""
    q, k, v = ins
    if len(q) < 2 or len(k) < 2 or len(v) < 2:
        raise FieldError("inputs", "attention needs q, k, v of at least 2 dimensions")
    (length, e), (s, e2), (s2, ev) = q[-2:], k[-2:], v[-2:]
    if not (same_dim(e, e2) and same_dim(s, s2)):
        raise FieldError("inputs", f"q {times(q)}, k {times(k)}, v {times(v)} do not fit together")
    kv_batch = broadcast(k[:-2], v[:-2])
    if layer.gqa and len(q) >= 3 and len(kv_batch) >= 1 and is_int(q[-3]) and is_int(kv_batch[-1]):
        if q[-3] % kv_batch[-1]:
            raise FieldError("inputs", f"grouped-query attention: {q[-3]} query heads do not divide into {kv_batch[-1]} key/value heads")
        kv_batch = (*kv_batch[:-1], q[-3])  # each key/value head serves q_heads / kv_heads query heads
    batch = broadcast(q[:-2], kv_batch)
    scores = product(batch) * length * s * e
    mixed = product(batch) * length * s * ev
    return LayerCost((*batch, length, ev), scores + mixed, 0, 0, lambda: _attention_text(batch, length, s, e, ev, scores + mixed))


def _attention_text(batch: Shape, length: Dim, s: Dim, e: Dim, ev: Dim, macs: Dim) -> str:
    """'(8) x 64x64x32 + (8) x 64x64x32 = 2,097,152': the scores and the weighted sum."""
    lead = f"({times(batch)}) x " if batch else ""
    return equals(f"{lead}{times((length, s, e))} + {lead}{times((length, s, ev))}", macs)


def einsum_sizes(equation: str, ins: Tuple[Shape, ...]) -> dict:
    """Size of every index letter of a two-operand einsum (spaces ignored; no '...')."""
    lhs = equation.replace(" ", "").split("->")[0].split(",")
    sizes: dict = {}
    for letters, shape in zip(lhs, ins):
        if len(letters) != len(shape):
            raise FieldError("equation", f"{letters!r} does not fit a {len(shape)}-d operand")
        for letter, dim in zip(letters, shape):
            sizes[letter] = dim
    return sizes


@register("einsum", Einsum, inputs=(2, 2), internal=True,
          fvcore=custom(lambda row, mode: fvcore_einsum(row), "aten::einsum: bmm-like equations exact, others numpy's einsum_path"),
          torch=per_mac(2, "the bmm torch.einsum runs: 2 per MAC"), aten=NA("recorded as one op by wrapping torch.einsum"),
          functions=("torch.einsum",), **_NO_WEIGHTS)
def einsum(layer: Einsum, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = the product of the sizes of all index letters (each output element sums over the rest)."""
    sizes = einsum_sizes(layer.equation, ins)
    out_letters = layer.equation.replace(" ", "").split("->")[1]
    macs = product(sizes.values())
    return LayerCost(tuple(sizes[c] for c in out_letters), macs, 0, 0, lambda: equals(f"{layer.equation}: {times(sizes.values())}", macs))
