"""torchvision's detection ops: RoI pooling and alignment, deformable convolution, non-maximum suppression.

Neither fvcore nor FlopCounterMode has a rule for any torchvision::* op (both count 0). Under the macs
convention RoI sampling is interpolation (0 MACs, like upsampling) and deform_conv2d is a convolution
over its output positions (its bilinear sampling of the input is not counted as multiply-adds).
"""

from __future__ import annotations

from functools import partial

from dataclasses import dataclass
from typing import Any, Dict, Tuple

from ..conventions import zero
from ..errors import FieldError
from ..fields import Ints, Ranked, spec_field
from ..registry import FOLLOWS, NA, LayerCost, register
from ..shapes import Shape, is_int, product
from .conv import Conv2d, conv, widen_channels, _kernel_text
from .text import no_macs, times


@dataclass(frozen=True)
class _RoI(Ranked):
    """Pool each box of the second input (K x 5: batch index, x1, y1, x2, y2) from the first (N, C, H, W)."""

    output_size: Ints = spec_field("ints", doc="pooled size per box, [h, w]")
    spatial_scale: float = spec_field("number", 1.0, "box coordinates x this = feature coordinates")


@dataclass(frozen=True)
class RoIPool(_RoI):
    """Max pooling of each box into output_size bins (torchvision.ops.RoIPool, Fast R-CNN)."""


@dataclass(frozen=True)
class RoIAlign(_RoI):
    """Bilinear sampling of each box into output_size bins (torchvision.ops.RoIAlign, Mask R-CNN)."""

    sampling_ratio: int = spec_field("int", -1, "samples per bin along each axis (-1: adaptive)")
    aligned: bool = spec_field("bool", False, "shift boxes by half a pixel")


@dataclass(frozen=True)
class PSRoIAlign(_RoI):
    """Position-sensitive RoI align (torchvision.ops.PSRoIAlign, R-FCN): channels split over the bins."""

    sampling_ratio: int = spec_field("int", -1, "samples per bin along each axis (-1: adaptive)")


@dataclass(frozen=True)
class DeformConv2d(Conv2d):
    """Deformable convolution (torchvision.ops.DeformConv2d): inputs x, offsets (N, 2*k*k*og, Ho, Wo) and an optional mask."""


@dataclass(frozen=True)
class NMS:
    """Non-maximum suppression of boxes (K x 4) by scores (K): the indices kept (how many depends on the data)."""

    kept: int


def _roi_out(layer: _RoI, ins: Tuple[Shape, ...], channels_per_bin: bool) -> Shape:
    x, boxes = ins
    if len(x) != 4 or len(boxes) != 2 or boxes[1] != 5:
        raise FieldError("input", f"RoI ops need features (N, C, H, W) and boxes (K, 5), got {times(x)} and {times(boxes)}")
    c = x[1]
    if channels_per_bin:
        bins = product(layer.output_size)
        if is_int(c) and c % bins:
            raise FieldError("output_size", f"{c} channels do not divide into {bins} bins")
        c = c // bins
    return (boxes[0], c, *layer.output_size)


_VISION: Dict[str, Any] = {"kind": "pool", "widen": FOLLOWS, "describe": NA("no weights: block diffs compare weighted layers and norms"),
               "fvcore": zero("fvcore has no handler for torchvision ops"), "torch": zero("FlopCounterMode has no formula for torchvision ops")}


@register("roi_pool", RoIPool, inputs=(2, 2), aten=("torchvision.roi_pool",), **_VISION)
def roi_pool(layer: RoIPool, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (max over each bin); output (K, C, *output_size)."""
    out = _roi_out(layer, ins, False)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


@register("roi_align", RoIAlign, inputs=(2, 2), aten=("torchvision.roi_align",), **_VISION)
def roi_align(layer: RoIAlign, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (bilinear sampling, as upsampling); output (K, C, *output_size)."""
    out = _roi_out(layer, ins, False)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


@register("ps_roi_align", PSRoIAlign, inputs=(2, 2), aten=("torchvision.ps_roi_align",), **_VISION)
def ps_roi_align(layer: PSRoIAlign, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output (K, C / prod(output_size), *output_size)."""
    out = _roi_out(layer, ins, True)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


@register("deform_conv2d", DeformConv2d, inputs=(2, 3), kind="weighted", widen=widen_channels, describe=_kernel_text,
          fvcore=zero("fvcore has no handler for torchvision::deform_conv2d"),
          torch=zero("FlopCounterMode has no formula for torchvision::deform_conv2d"), aten=("torchvision.deform_conv2d",))
def deform_conv2d(layer: DeformConv2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = a conv's over the output positions; params = weights + biases; the offsets must fit the output."""
    cost = conv(layer, ins[:1])
    offset = ins[1]
    taps = product(layer.kernel)
    if len(offset) != 4 or tuple(offset[2:]) != tuple(cost.out_shape[2:]) or (is_int(offset[1]) and offset[1] % (2 * taps)):
        raise FieldError("input", f"offsets must be (N, 2 x {taps} x offset groups, {times(cost.out_shape[2:])}), got {times(offset)}")
    return cost


@register("nms", NMS, inputs=(2, 2), internal=True, aten=("torchvision.nms",), **dict(_VISION, kind="recorded"))
def nms(layer: NMS, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; the number of boxes kept, as the run found it."""
    out = (layer.kept,)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out, "boxes kept"))
