"""Resampling: upsampling (F.interpolate / nn.Upsample), pixel shuffle, grid_sample and affine_grid.

Interpolation weights are not counted as multiply-adds under the macs convention (0 MACs, listed
with their output elements); fvcore's own rules (jit_handles.py, ``_DEFAULT_SUPPORTED_OPS``) count
nearest 2-D upsampling 1 and bilinear 2-D 4 per output element, grid_sample 4 per output element
("assume bilinear"), and nothing for the other modes and ranks (no handler).
"""

from __future__ import annotations

from functools import partial

import math
from dataclasses import dataclass
from typing import Dict, Any, Optional, Tuple

from ..conventions import custom, per_output, zero
from ..errors import FieldError
from ..fields import spec_field
from ..registry import FOLLOWS, NA, LayerCost, register
from ..shapes import Shape, floordiv, format_shape, is_int, product
from .text import equals, no_macs, times

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear")
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
SAMPLE_MODES = ("bilinear", "nearest", "bicubic")


@dataclass(frozen=True)
class Upsample:
    """Upsampling by size or scale factor (torch.nn.Upsample, F.interpolate); rank from the input."""

    rank = None  # one size / scale for every axis, or one per axis
    size: Any = spec_field("ints_or_none", None, "output size per axis (give size or scale_factor)")
    scale_factor: Any = spec_field("scale_or_none", None, "multiplier per axis; output = floor(input x scale)")
    mode: str = spec_field("choice", "nearest", ", ".join(MODES), choices=MODES)
    align_corners: Optional[bool] = spec_field("bool_or_none", None, "align corner pixels (linear modes only)")


@dataclass(frozen=True)
class PixelShuffle:
    """Rearrange (C*r*r, H, W) into (C, H*r, W*r) (torch.nn.PixelShuffle, sub-pixel convolution)."""

    upscale_factor: int = spec_field("count", doc="r")


@dataclass(frozen=True)
class PixelUnshuffle:
    """Rearrange (C, H*r, W*r) into (C*r*r, H, W) (torch.nn.PixelUnshuffle)."""

    downscale_factor: int = spec_field("count", doc="r")


@dataclass(frozen=True)
class GridSample:
    """Sample the first input at the second input's grid of coordinates (F.grid_sample); 4-d or 5-d."""

    mode: str = spec_field("choice", "bilinear", ", ".join(SAMPLE_MODES), choices=SAMPLE_MODES)
    align_corners: bool = spec_field("bool", False, "align corner pixels")


@dataclass(frozen=True)
class AffineGrid:
    """The sampling grid of an affine transform: theta (N, 2, 3) or (N, 3, 4) -> (N, *size, 2 or 3) (F.affine_grid)."""

    rank = None
    size: Tuple[int, ...] = spec_field("ints", doc="output spatial sizes [h, w] or [d, h, w]")
    align_corners: bool = spec_field("bool", False, "align corner pixels")


def _scaled(size: Any, scale: Any) -> Any:
    if is_int(scale) or float(scale).is_integer():
        return size * int(scale)
    if is_int(size):
        return math.floor(size * scale)
    from fractions import Fraction

    frac = Fraction(str(scale))
    return floordiv(size * frac.numerator, frac.denominator)


def upsample_out(layer: Upsample, shape: Shape) -> Shape:
    """(N, C, *sizes) after resampling: the given size, or floor(size * scale_factor) per axis."""
    rank = len(shape) - 2
    if rank < 1:
        raise FieldError("input", "upsampling needs a channel dimension and at least one spatial axis")
    if (layer.size is None) == (layer.scale_factor is None):
        raise FieldError("size", "give exactly one of size and scale_factor")
    wanted = _MODE_RANK.get(layer.mode)
    if wanted is not None and wanted != rank:
        raise FieldError("mode", f"{layer.mode} needs a {wanted}-d map, got {rank}-d {format_shape(shape[1:])}")
    if layer.align_corners is not None and layer.mode not in _MODE_RANK:
        raise FieldError("align_corners", f"only for linear modes, not {layer.mode} (as in PyTorch)")
    given = layer.size if layer.size is not None else layer.scale_factor
    values = given * rank if len(given) == 1 else given
    if len(values) != rank:
        raise FieldError("size" if layer.size is not None else "scale_factor", f"{len(values)} values for a {rank}-d map")
    sizes = tuple(values) if layer.size is not None else tuple(_scaled(n, s) for n, s in zip(shape[2:], values))
    return (shape[0], shape[1], *sizes)


def _fvcore_upsample(row: Any, mode: str) -> Any:
    """fvcore: aten::upsample_nearest2d 1 and aten::upsample_bilinear2d 4 per output element; others 0."""
    rank = len(row.out_shape) - 2
    per = {("nearest", 2): 1, ("bilinear", 2): 4}.get((row.layer.mode, rank), 0)
    return per * product(row.out_shape)


_RESAMPLE: Dict[str, Any] = {"kind": "resample", "widen": FOLLOWS, "describe": NA("no weights: block diffs compare weighted layers and norms"),
                 "torch": zero("FlopCounterMode counts no resampling")}
UPSAMPLE_OPS = ("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
                "_upsample_nearest_exact2d", "_upsample_nearest_exact3d", "upsample_linear1d", "upsample_bilinear2d",
                "upsample_bicubic2d", "upsample_trilinear3d")


@register("upsample", Upsample, aliases=("interpolate",), aten=UPSAMPLE_OPS, **_RESAMPLE,
          fvcore=custom(_fvcore_upsample, "nearest 2-D 1, bilinear 2-D 4 per output element; fvcore has no handler for the rest"))
def upsample(layer: Upsample, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (interpolation weights are not counted as multiply-adds); the output size by PyTorch's rule."""
    out = upsample_out(layer, ins[0])
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


def _shuffle(shape: Shape, r: int, up: bool) -> Shape:
    if len(shape) != 4:
        raise FieldError("input", f"pixel shuffle needs a CxHxW map, got {len(shape) - 1} dimension(s)")
    n, c, h, w = shape
    if up:
        if is_int(c) and c % (r * r):
            raise FieldError("upscale_factor", f"{c} channels do not divide by {r}x{r}")
        return (n, c // (r * r), h * r, w * r)
    if is_int(h) and is_int(w) and (h % r or w % r):
        raise FieldError("downscale_factor", f"{h}x{w} does not divide by {r}")
    return (n, c * r * r, floordiv(h, r), floordiv(w, r))


_SHUFFLE: Dict[str, Any] = dict(_RESAMPLE, fvcore=zero("fvcore has no handler for aten::pixel_shuffle (a permutation)"))


@register("pixel_shuffle", PixelShuffle, aten=("pixel_shuffle",), **_SHUFFLE)
def pixel_shuffle(layer: PixelShuffle, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs: a permutation of elements."""
    out = _shuffle(ins[0], layer.upscale_factor, True)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


@register("pixel_unshuffle", PixelUnshuffle, aten=("pixel_unshuffle",), **_SHUFFLE)
def pixel_unshuffle(layer: PixelUnshuffle, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs: a permutation of elements."""
    out = _shuffle(ins[0], layer.downscale_factor, False)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


@register("grid_sample", GridSample, inputs=(2, 2), aten=("grid_sampler_2d", "grid_sampler_3d"), **_RESAMPLE,
          fvcore=per_output(4, "aten::grid_sampler: 4 per output element, whatever the mode (fvcore: 'assume bilinear')"))
def grid_sample(layer: GridSample, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output (N, C, *grid positions)."""
    x, grid = ins
    rank = len(x) - 2
    if rank not in (2, 3) or len(grid) != rank + 2 or grid[-1] != rank or grid[0] != x[0]:
        raise FieldError("input", f"grid_sample needs (N, C, *{rank} sizes) and a grid (N, *sizes, {rank}), got {times(x)} and {times(grid)}")
    if layer.mode == "bicubic" and rank == 3:
        raise FieldError("mode", "bicubic sampling needs a 4-d input (as in PyTorch)")
    out = (x[0], x[1], *grid[1:-1])
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


@register("affine_grid", AffineGrid, aten=("affine_grid_generator",), **_RESAMPLE,
          fvcore=zero("fvcore has no handler for aten::affine_grid_generator"))
def affine_grid(layer: AffineGrid, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = N * prod(size) * r * (r + 1): each output coordinate is a row of theta times a homogeneous base point."""
    (theta,) = ins
    r = len(layer.size)
    if r not in (2, 3) or tuple(theta[1:]) != (r, r + 1):
        raise FieldError("input", f"affine_grid of {r} sizes needs theta of shape Nx{r}x{r + 1}, got {times(theta)}")
    n = theta[0]
    macs = n * product(layer.size) * r * (r + 1)
    out = (n, *layer.size, r)
    return LayerCost(out, macs, 0, 0, lambda: equals(f"{n} x {times(layer.size)} x {r}x{r + 1}", macs))
