from __future__ import annotations

from functools import partial

from dataclasses import dataclass
from typing import Any, Dict, Tuple

from ..conventions import zero
from ..errors import FieldError
from ..fields import spec_field
from ..registry import FOLLOWS, NA, LayerCost, register
from ..shapes import FlatDim, Shape, format_shape, is_int, product, same_dim
from .text import no_macs

ACTIVATIONS = ("relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish", "leaky_relu")


@dataclass(frozen=True)
class Activation:
    """Elementwise nonlinearity (ReLU and friends)."""

    kind: str = spec_field("choice", "relu", ", ".join(ACTIVATIONS), choices=ACTIVATIONS)


@dataclass(frozen=True)
class Dropout:
    """Dropout: free at inference, listed for completeness."""

    p: float = spec_field("prob", 0.5, "drop probability in [0, 1)")


@dataclass(frozen=True)
class Flatten:
    """Flatten everything after the batch dimension (torch.flatten(x, 1))."""


@dataclass(frozen=True)
class Softmax:
    """Softmax over the feature dimension."""


@dataclass(frozen=True)
class Concat:
    """Concatenate inputs along channels (Inception's filter concatenation, U-Net's skips)."""


@dataclass(frozen=True)
class Add:
    """Elementwise sum of inputs of the same shape (residual connection)."""


@dataclass(frozen=True)
class Identity:
    """Pass-through (an identity shortcut)."""


@dataclass(frozen=True)
class CenterCrop:
    """Crop the first input's spatial axes, centred, to the second input's sizes (U-Net's skip crop)."""


@dataclass(frozen=True)
class Recorded:
    """A captured op costlab counts as 0 MACs (elementwise, reductions, ...), with PyTorch's output shape.

    Only the torch bridge creates these; ``supported=False`` marks an op costlab has no rule for.
    """

    kind: str
    out_shape: Tuple[int, ...]
    supported: bool = True


def _same_shape(out: Shape) -> LayerCost:
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


_NO_DIFF = NA("no weights: block diffs compare weighted layers and norms")
# fvcore ignores or cannot count these (relu, cat, dropout, softmax, ...); FlopCounterMode counts none
_FREE: Dict[str, Any] = {"kind": "elementwise", "widen": FOLLOWS, "describe": _NO_DIFF, "fvcore": zero("fvcore counts no elementwise or wiring op"),
             "torch": zero("FlopCounterMode counts no elementwise or wiring op"), "aten": NA("recorded by the generic pointwise rule")}
_WIRING: Dict[str, Any] = dict(_FREE, kind="wiring")


@register("activation", Activation, aliases=("relu",), **_FREE)
def activation(layer: Activation, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("dropout", Dropout, **_FREE)
def dropout(layer: Dropout, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params (identity at inference)."""
    return _same_shape(ins[0])


@register("softmax", Softmax, **_FREE)
def softmax(layer: Softmax, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("identity", Identity, **_WIRING)
def identity(layer: Identity, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("flatten", Flatten, **_WIRING)
def flatten(layer: Flatten, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; (N, C, H, W) -> (N, C*H*W), remembering the paper-order factors HxWxC."""
    (shape,) = ins
    rest = shape[1:]
    if len(rest) == 3:
        rest = (rest[1], rest[2], rest[0])
    flat = FlatDim(rest) if all(is_int(d) for d in rest) else product(rest)
    out = (shape[0], flat)
    return _same_shape(out)


@register("concat", Concat, inputs=(1, None), **dict(_WIRING, aten=NA("recorded by the generic rule as 'cat' (any axis)")))
def concat(layer: Concat, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; channels add up; every other dimension must match."""
    first = ins[0]
    for other in ins[1:]:
        if len(other) == len(first) and other[0] == first[0] and other[2:] == first[2:]:
            continue  # identical (the common case); otherwise symbolic sizes may still simplify to equal
        if len(other) != len(first) or not all(same_dim(a, b) for i, (a, b) in enumerate(zip(first, other)) if i != 1):
            raise FieldError(
                "inputs",
                f"concat of mismatched sizes: {format_shape(first[1:])} and {format_shape(other[1:])} "
                "(all but the channel dimension must agree)",
            )
    out = (first[0], sum(s[1] for s in ins), *first[2:])
    return _same_shape(out)


@register("add", Add, inputs=(1, None), **_FREE)
def add(layer: Add, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (element adds are not multiply-adds); every input must have the same shape."""
    first = ins[0]
    for other in ins[1:]:
        if other != first and (len(other) != len(first) or not all(same_dim(a, b) for a, b in zip(first, other))):
            raise FieldError("inputs", f"add of mismatched shapes: {format_shape(first[1:])} and {format_shape(other[1:])}")
    return _same_shape(first)


@register("recorded", Recorded, inputs=(0, None), internal=True, **dict(_FREE, kind="recorded"))
def recorded(layer: Recorded, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; the output shape PyTorch reported (captured models only)."""
    out = tuple(layer.out_shape)
    text = partial(no_macs, out) if layer.supported else f"no costlab rule for {layer.kind}: counted as 0, listed as unsupported"
    return LayerCost(out, 0, 0, 0, text, "", layer.kind if layer.supported else "unsupported")


@register("center_crop", CenterCrop, aliases=("crop",), inputs=(2, 2), **dict(_WIRING, aten=NA("slicing is plumbing: no row when captured")))
def center_crop(layer: CenterCrop, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; the first input cut, centred, to the spatial sizes of the second (same batch and channels)."""
    x, ref = ins
    if len(x) != len(ref) or len(x) < 3:
        raise FieldError("input", f"crop needs two maps of the same rank, got {format_shape(x[1:])} and {format_shape(ref[1:])}")
    for have, want in zip(x[2:], ref[2:]):
        if is_int(have) and is_int(want) and want > have:
            raise FieldError("input", f"cannot crop {format_shape(x[2:])} to the larger {format_shape(ref[2:])}")
    return _same_shape((*x[:2], *ref[2:]))
