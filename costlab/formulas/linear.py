"""Fully connected layers: linear (one input) and bilinear (two inputs, nn.Bilinear)."""

from __future__ import annotations

from functools import partial

from dataclasses import dataclass, replace
from typing import Any, Tuple

from ..conventions import per_mac, zero
from ..errors import FieldError
from ..fields import spec_field
from ..registry import NA, LayerCost, register
from ..shapes import Shape, is_int, product, same_dim
from .text import batch_prefix, equals, times


@dataclass(frozen=True)
class Linear:
    """Fully connected layer over the last dimension (torch.nn.Linear)."""

    out_features: int = spec_field("channels", doc="output features")
    bias: bool = spec_field("bool", True, "add a bias per output feature")


@dataclass(frozen=True)
class Bilinear:
    """Bilinear layer of two inputs, y = x1^T A x2 + b (torch.nn.Bilinear)."""

    out_features: int = spec_field("channels", doc="output features")
    bias: bool = spec_field("bool", True, "add a bias per output feature")


def widen_features(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    """Scale out_features, except for a classifier (a head: no weighted layer reads it)."""
    return layer if head else replace(layer, out_features=max(1, round(layer.out_features * factor)))


def _features_text(layer: Any) -> str:
    return f"{type(layer).__name__.lower()} {layer.out_features}"


@register("linear", Linear, aliases=("fc",), kind="weighted", widen=widen_features, describe=_features_text,
          fvcore=per_mac(1, "aten::linear / aten::addmm: one per MAC"), torch=per_mac(2, "aten.addmm / aten.mm: 2 per MAC"),
          aten=("addmm", "mm"))
def linear(layer: Linear, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = (elements before the last dim) * in * out; params = in * out + out biases.

    The input is (N, features) after a flatten, or any (N, ..., features), as torch.nn.Linear allows.
    """
    (shape,) = ins
    if len(shape) < 2:
        raise FieldError("input", "linear needs a feature dimension")
    *lead, f_in = shape
    if not is_int(f_in):
        raise FieldError("input", "the feature count must be a number, not a symbol (pool to a fixed size first)")
    f_out = layer.out_features
    rows = product(lead)
    macs = rows * f_in * f_out
    biases = f_out if layer.bias else 0
    return LayerCost((*lead, f_out), macs, f_in * f_out + biases, biases, partial(_macs_text, tuple(lead), f_in, f_out, macs),
                     partial(_params_text, (f_in, f_out), biases, f_in * f_out + biases))


def _macs_text(lead: Shape, f_in: int, f_out: int, macs: Any) -> str:
    """'1024x1000 = 1,024,000' (batch and positions first when there are any)."""
    positions = f"{times(lead[1:])} x " if len(lead) > 1 else ""
    return equals(f"{batch_prefix(lead[0])}{positions}{times((f_in, f_out))}", macs)


def _params_text(weights: Shape, biases: int, total: int) -> str:
    """'1024x1000 + 1000 = 1,025,000'."""
    return equals(times(weights) + (f" + {biases}" if biases else ""), total)


@register("bilinear", Bilinear, inputs=(2, 2), kind="weighted", widen=widen_features, describe=_features_text,
          fvcore=zero("fvcore has no handler for aten::bilinear (listed as unsupported)"),
          torch=zero("FlopCounterMode has no formula for aten._trilinear"),
          aten=NA("recorded as one op by wrapping F.bilinear (aten._trilinear)"), functions=("F.bilinear",))
def bilinear(layer: Bilinear, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = rows * out * in1 * in2 (x1 against the weight) + rows * out * in2 (the result against x2),
    the two contractions of aten._trilinear; params = out * in1 * in2 + out biases."""
    a, b = ins
    if len(a) < 2 or len(a) != len(b) or not all(same_dim(x, y) for x, y in zip(a[:-1], b[:-1])):
        raise FieldError("input", f"bilinear needs two inputs with the same leading dimensions, got {times(a)} and {times(b)}")
    *lead, in1 = a
    in2, f_out = b[-1], layer.out_features
    rows = product(lead)
    macs = rows * f_out * in1 * in2 + rows * f_out * in2
    biases = f_out if layer.bias else 0
    weights = f_out * in1 * in2
    return LayerCost((*lead, f_out), macs, weights + biases, biases,
                     lambda: equals(f"{batch_prefix(rows)}({times((f_out, in1, in2))} + {times((f_out, in2))})", macs),
                     partial(_params_text, (f_out, in1, in2), biases, weights + biases))
