"""Pooling layers: no multiply-adds under the macs convention, but they set the map sizes."""

from __future__ import annotations

from typing import Tuple, Union

from ..errors import FieldError
from ..layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from ..registry import LayerCost, register
from ..shapes import Shape, window_out
from .text import no_macs

Pool = Union[MaxPool2d, AvgPool2d]


def pool_out(layer: Pool, shape: Shape) -> Shape:
    """Output shape of a max or average pool (PyTorch's rules, ceil_mode included)."""
    if len(shape) != 4:
        raise FieldError("input", f"pooling needs a CxHxW map, got {len(shape) - 1} dimension(s)")
    n, c, h, w = shape
    stride = layer.stride or layer.kernel
    for k, p in zip(layer.kernel, layer.padding):
        if p * 2 > k:
            raise FieldError("padding", f"padding {p} is more than half the kernel {k} (PyTorch refuses it)")
    return (
        n,
        c,
        window_out(h, layer.kernel[0], stride[0], layer.padding[0], 1, layer.ceil_mode, "kernel"),
        window_out(w, layer.kernel[1], stride[1], layer.padding[1], 1, layer.ceil_mode, "kernel"),
    )


@register("maxpool", MaxPool2d, aliases=("max_pool", "maxpool2d"))
def max_pool(layer: MaxPool2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output size by PyTorch's MaxPool2d rule."""
    out = pool_out(layer, ins[0])
    return LayerCost(out, 0, 0, 0, no_macs(out))


@register("avgpool", AvgPool2d, aliases=("avg_pool", "avgpool2d"))
def avg_pool(layer: AvgPool2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output size by PyTorch's AvgPool2d rule."""
    out = pool_out(layer, ins[0])
    return LayerCost(out, 0, 0, 0, no_macs(out))


@register("adaptive_avgpool", AdaptiveAvgPool2d, aliases=("global_avgpool", "gap"))
def adaptive_avg_pool(layer: AdaptiveAvgPool2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output is the requested size (1x1 for global average pooling)."""
    (shape,) = ins
    if len(shape) != 4:
        raise FieldError("input", f"pooling needs a CxHxW map, got {len(shape) - 1} dimension(s)")
    out = (shape[0], shape[1], *layer.output_size)
    return LayerCost(out, 0, 0, 0, no_macs(out))
