"""Normalization, activations and wiring ops: 0 MACs under the macs convention, listed with counts."""

from __future__ import annotations

from typing import Tuple

from ..errors import FieldError
from ..layers import (
    Activation, Add, BatchNorm2d, Concat, Dropout, Flatten, GroupNorm, Identity, LayerNorm, LocalResponseNorm, Recorded, Softmax,
)
from ..registry import LayerCost, register
from ..shapes import FlatDim, Shape, format_shape, is_int, product, same_dim
from .text import equals, no_macs


def _same_shape(out: Shape) -> LayerCost:
    return LayerCost(out, 0, 0, 0, no_macs(out))


@register("batchnorm", BatchNorm2d, aliases=("bn", "batchnorm2d"))
def batch_norm(layer: BatchNorm2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (foldable into the conv); params = 2 per channel (scale and shift) when affine."""
    (shape,) = ins
    if len(shape) < 2:
        raise FieldError("input", "batch norm needs a channel dimension")
    c = shape[1]
    params = 2 * c if layer.affine else 0
    biases = c if layer.affine else 0
    params_text = equals(f"2x{c}", params) if layer.affine else ""
    return LayerCost(shape, 0, params, biases, no_macs(shape), params_text)


@register("lrn", LocalResponseNorm, aliases=("local_response_norm",))
def local_response_norm(layer: LocalResponseNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("activation", Activation, aliases=("relu",))
def activation(layer: Activation, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("dropout", Dropout)
def dropout(layer: Dropout, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params (identity at inference)."""
    return _same_shape(ins[0])


@register("softmax", Softmax)
def softmax(layer: Softmax, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("identity", Identity)
def identity(layer: Identity, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return _same_shape(ins[0])


@register("flatten", Flatten)
def flatten(layer: Flatten, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; (N, C, H, W) -> (N, C*H*W), remembering the paper-order factors HxWxC."""
    (shape,) = ins
    rest = shape[1:]
    if len(rest) == 3:
        rest = (rest[1], rest[2], rest[0])
    flat = FlatDim(rest) if all(is_int(d) for d in rest) else product(rest)
    out = (shape[0], flat)
    return _same_shape(out)


@register("concat", Concat, inputs=(1, None))
def concat(layer: Concat, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; channels add up; every other dimension must match."""
    first = ins[0]
    for other in ins[1:]:
        if len(other) != len(first) or not all(same_dim(a, b) for i, (a, b) in enumerate(zip(first, other)) if i != 1):
            raise FieldError(
                "inputs",
                f"concat of mismatched sizes: {format_shape(first[1:])} and {format_shape(other[1:])} "
                "(all but the channel dimension must agree)",
            )
    out = (first[0], sum(s[1] for s in ins), *first[2:])
    return _same_shape(out)


@register("add", Add, inputs=(1, None))
def add(layer: Add, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (element adds are not multiply-adds); every input must have the same shape."""
    first = ins[0]
    for other in ins[1:]:
        if len(other) != len(first) or not all(same_dim(a, b) for a, b in zip(first, other)):
            raise FieldError("inputs", f"add of mismatched shapes: {format_shape(first[1:])} and {format_shape(other[1:])}")
    return _same_shape(first)


@register("layernorm", LayerNorm, aliases=("layer_norm",))
def layer_norm(layer: LayerNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; params = 2 per normalized element (scale and shift) when affine."""
    (shape,) = ins
    if len(shape) <= layer.dims:
        raise FieldError("dims", f"cannot normalize {layer.dims} dimension(s) of a {len(shape) - 1}-d input")
    size = product(shape[-layer.dims:])
    params = 2 * size if layer.affine else 0
    return LayerCost(shape, 0, params, params // 2, no_macs(shape), equals(f"2x{size}", params) if params else "")


@register("groupnorm", GroupNorm, aliases=("group_norm",))
def group_norm(layer: GroupNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; params = 2 per channel when affine; channels must divide into the groups."""
    (shape,) = ins
    c = shape[1]
    if is_int(c) and c % layer.groups:
        raise FieldError("groups", f"{c} channels do not divide into {layer.groups} groups")
    params = 2 * c if layer.affine else 0
    return LayerCost(shape, 0, params, params // 2, no_macs(shape), equals(f"2x{c}", params) if params else "")


@register("recorded", Recorded, inputs=(0, None), internal=True)
def recorded(layer: Recorded, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; the output shape PyTorch reported (captured models only)."""
    out = tuple(layer.out_shape)
    text = no_macs(out) if layer.supported else f"no costlab rule for {layer.kind}: counted as 0, listed as unsupported"
    return LayerCost(out, 0, 0, 0, text, "", layer.kind if layer.supported else "unsupported")
