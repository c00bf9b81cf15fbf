"""Normalization layers in every dimension: batch, instance, layer, group, RMS and local response norm.

0 MACs under the macs convention (batch norm folds into the conv before it); params are the affine
scale and shift. Norm shifts are parameters but not "biases" (biases are the conv / linear ones).
"""

from __future__ import annotations

from functools import partial

from dataclasses import dataclass
from typing import Dict, Any, Tuple

from ..conventions import custom, zero
from ..errors import FieldError
from ..fields import spec_field
from ..registry import FOLLOWS, LayerCost, register
from ..shapes import Shape, is_int, product
from .text import equals, no_macs


@dataclass(frozen=True)
class BatchNorm2d:
    """Batch normalization over channels, any rank (torch.nn.BatchNorm1d/2d/3d)."""

    affine: bool = spec_field("bool", True, "learnable scale and shift (2 params per channel)")


@dataclass(frozen=True)
class InstanceNorm:
    """Instance normalization: per sample and channel (torch.nn.InstanceNorm1d/2d/3d)."""

    affine: bool = spec_field("bool", False, "learnable scale and shift (2 params per channel; PyTorch's default: false)")


@dataclass(frozen=True)
class LayerNorm:
    """Layer normalization over the last ``dims`` dimensions (torch.nn.LayerNorm)."""

    dims: int = spec_field("count", 1, "how many trailing dimensions are normalized")
    affine: bool = spec_field("bool", True, "learnable scale and shift (2 params per normalized element)")


@dataclass(frozen=True)
class RMSNorm:
    """Root-mean-square normalization over the last ``dims`` dimensions (torch.nn.RMSNorm)."""

    dims: int = spec_field("count", 1, "how many trailing dimensions are normalized")
    affine: bool = spec_field("bool", True, "learnable scale (1 param per normalized element)")


@dataclass(frozen=True)
class GroupNorm:
    """Group normalization over channels (torch.nn.GroupNorm)."""

    groups: int = spec_field("count", doc="channel groups")
    affine: bool = spec_field("bool", True, "learnable scale and shift (2 params per channel)")


@dataclass(frozen=True)
class LocalResponseNorm:
    """Local response normalization across channels (AlexNet, GoogLeNet)."""

    size: int = spec_field("count", 5, "channels in the normalization window")


def _channels(shape: Shape, what: str) -> Any:
    if len(shape) < 2:
        raise FieldError("input", f"{what} needs a channel dimension")
    return shape[1]


def _affine(shape: Shape, size: Any, per: int, affine: bool) -> LayerCost:
    params = per * size if affine else 0
    params_text = (lambda: equals(f"{per}x{size}" if per > 1 else str(size), params)) if params else ""
    return LayerCost(shape, 0, params, 0, partial(no_macs, shape), params_text)


def _fvcore_norm(row: Any, mode: str) -> Any:
    """fvcore's norm_flop_counter: 5 per input element with affine, 4 without."""
    return product(row.in_shapes[0]) * (5 if row.layer.affine else 4)


def _fvcore_batch_norm(row: Any, mode: str) -> Any:
    """fvcore's batchnorm_flop_jit: eval 2 per element (1 without affine); training as the other norms."""
    if mode == "train":
        return _fvcore_norm(row, mode)
    return product(row.in_shapes[0]) * (2 if row.layer.affine else 1)


_NORM: Dict[str, Any] = {"kind": "norm", "widen": FOLLOWS, "describe": lambda layer: type(layer).__name__.lower(),
             "torch": zero("FlopCounterMode counts no normalization")}


@register("batchnorm", BatchNorm2d, aliases=("bn", "batchnorm1d", "batchnorm2d", "batchnorm3d"),
          fvcore=custom(_fvcore_batch_norm, "aten::batch_norm: eval 2 (1) per element, training 5 (4)"),
          aten=("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training", "batch_norm",
                "cudnn_batch_norm", "_native_batch_norm_legit_functional"), **_NORM)
def batch_norm(layer: BatchNorm2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs (foldable into the conv); params = 2 per channel (scale and shift) when affine."""
    return _affine(ins[0], _channels(ins[0], "batch norm"), 2, layer.affine)


@register("instancenorm", InstanceNorm, aliases=("instancenorm1d", "instancenorm2d", "instancenorm3d", "instance_norm"),
          fvcore=custom(_fvcore_norm, "aten::instance_norm: 5 per element with affine, 4 without"),
          aten=(), functions=("torch.instance_norm",), **_NORM)
def instance_norm(layer: InstanceNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; params = 2 per channel when affine."""
    (shape,) = ins
    if len(shape) < 3:
        raise FieldError("input", "instance norm needs a channel dimension and at least one spatial axis")
    return _affine(shape, shape[1], 2, layer.affine)


def _trailing(layer: Any, shape: Shape) -> Any:
    if len(shape) <= layer.dims:
        raise FieldError("dims", f"cannot normalize {layer.dims} dimension(s) of a {len(shape) - 1}-d input")
    return product(shape[-layer.dims:])


@register("layernorm", LayerNorm, aliases=("layer_norm",), fvcore=custom(_fvcore_norm, "aten::layer_norm: 5 (4) per element"),
          aten=("native_layer_norm",), **_NORM)
def layer_norm(layer: LayerNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; params = 2 per normalized element (scale and shift) when affine."""
    return _affine(ins[0], _trailing(layer, ins[0]), 2, layer.affine)


@register("rmsnorm", RMSNorm, aliases=("rms_norm",), fvcore=zero("fvcore has no handler for aten::rms_norm"),
          aten=("_fused_rms_norm",), functions=("torch.rms_norm",), **_NORM)
def rms_norm(layer: RMSNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; params = 1 per normalized element (a scale, no shift) when affine."""
    return _affine(ins[0], _trailing(layer, ins[0]), 1, layer.affine)


@register("groupnorm", GroupNorm, aliases=("group_norm",), fvcore=custom(_fvcore_norm, "aten::group_norm: 5 (4) per element"),
          aten=("native_group_norm",), **_NORM)
def group_norm(layer: GroupNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; params = 2 per channel when affine; channels must divide into the groups."""
    c = _channels(ins[0], "group norm")
    if is_int(c) and c % layer.groups:
        raise FieldError("groups", f"{c} channels do not divide into {layer.groups} groups")
    return _affine(ins[0], c, 2, layer.affine)


@register("lrn", LocalResponseNorm, aliases=("local_response_norm",), fvcore=zero("fvcore counts none of the ops LRN runs"),
          aten=(), functions=("F.local_response_norm",), **_NORM)
def local_response_norm(layer: LocalResponseNorm, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs, no params."""
    return LayerCost(ins[0], 0, 0, 0, partial(no_macs, ins[0]))
