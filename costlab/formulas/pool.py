"""Pooling in 1, 2 and 3 dimensions (max, average, adaptive): no multiply-adds under the macs
convention, but they set the map sizes."""

from __future__ import annotations

from functools import partial
from itertools import repeat

from dataclasses import dataclass
from typing import Dict, Any, Tuple

from ..conventions import per_input, zero
from ..errors import FieldError
from ..fields import Ints, Ranked, spec_field
from ..registry import FOLLOWS, NA, LayerCost, register
from ..shapes import Shape, window_out
from .text import no_macs


@dataclass(frozen=True)
class _Pool(Ranked):
    """The window of a max or average pool."""

    kernel: Ints = spec_field("ints", doc="window size")
    stride: Any = spec_field("ints_or_none", None, "stride (default: the kernel size)")
    padding: Ints = spec_field("pad_ints", 0, "padding per side")
    ceil_mode: bool = spec_field("bool", False, "round output sizes up (Caffe / GoogLeNet)")


@dataclass(frozen=True)
class _MaxPool(_Pool):
    """Max pooling (torch.nn.MaxPoolNd)."""

    dilation: Ints = spec_field("ints", 1, "spacing of the window's taps")


@dataclass(frozen=True)
class MaxPool1d(_MaxPool):
    """1-D max pooling (torch.nn.MaxPool1d)."""

    rank = 1


@dataclass(frozen=True)
class MaxPool2d(_MaxPool):
    """Max pooling (torch.nn.MaxPool2d)."""


@dataclass(frozen=True)
class MaxPool3d(_MaxPool):
    """3-D max pooling (torch.nn.MaxPool3d)."""

    rank = 3


@dataclass(frozen=True)
class AvgPool1d(_Pool):
    """1-D average pooling (torch.nn.AvgPool1d)."""

    rank = 1


@dataclass(frozen=True)
class AvgPool2d(_Pool):
    """Average pooling (torch.nn.AvgPool2d)."""


@dataclass(frozen=True)
class AvgPool3d(_Pool):
    """3-D average pooling (torch.nn.AvgPool3d)."""

    rank = 3


@dataclass(frozen=True)
class _Adaptive(Ranked):
    """Adaptive pooling to a fixed output size."""

    output_size: Ints = spec_field("ints", 1, "output size, default 1 (global pooling)")


@dataclass(frozen=True)
class AdaptiveAvgPool1d(_Adaptive):
    """1-D adaptive average pooling (torch.nn.AdaptiveAvgPool1d)."""

    rank = 1


@dataclass(frozen=True)
class AdaptiveAvgPool2d(_Adaptive):
    """Adaptive average pooling to a fixed output size; global average pooling is output 1x1."""


@dataclass(frozen=True)
class AdaptiveAvgPool3d(_Adaptive):
    """3-D adaptive average pooling (torch.nn.AdaptiveAvgPool3d); global pooling of a clip is 1x1x1."""

    rank = 3


@dataclass(frozen=True)
class AdaptiveMaxPool1d(_Adaptive):
    """1-D adaptive max pooling (torch.nn.AdaptiveMaxPool1d)."""

    rank = 1


@dataclass(frozen=True)
class AdaptiveMaxPool2d(_Adaptive):
    """Adaptive max pooling (torch.nn.AdaptiveMaxPool2d)."""


@dataclass(frozen=True)
class AdaptiveMaxPool3d(_Adaptive):
    """3-D adaptive max pooling (torch.nn.AdaptiveMaxPool3d)."""

    rank = 3


def _check_rank(layer: Any, shape: Shape) -> None:
    if len(shape) != layer.rank + 2:
        axes = ("L", "HxW", "DxHxW")[layer.rank - 1]
        raise FieldError("input", f"{layer.rank}-d pooling needs a Cx{axes} map, got {len(shape) - 1} dimension(s)")


def pool_out(layer: _Pool, shape: Shape) -> Shape:
    """Output shape of a max or average pool (PyTorch's rules, ceil_mode included)."""
    _check_rank(layer, shape)
    stride = layer.stride or layer.kernel
    dilation = getattr(layer, "dilation", (1,) * layer.rank)
    for k, p in zip(layer.kernel, layer.padding):
        if p * 2 > k:
            raise FieldError("padding", f"padding {p} is more than half the kernel {k} (PyTorch refuses it)")
    sizes = map(window_out, shape[2:], layer.kernel, stride, layer.padding, dilation, repeat(layer.ceil_mode), repeat("kernel"))
    return (shape[0], shape[1], *sizes)


def pool(layer: _Pool, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output size by PyTorch's pooling rule."""
    out = pool_out(layer, ins[0])
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


def adaptive_pool(layer: _Adaptive, ins: Tuple[Shape, ...]) -> LayerCost:
    """0 MACs; output is the requested size (1x1 for global average pooling)."""
    (shape,) = ins
    _check_rank(layer, shape)
    out = (shape[0], shape[1], *layer.output_size)
    return LayerCost(out, 0, 0, 0, partial(no_macs, out))


_NO_DIFF = NA("pooling has no weights; block diffs compare weighted layers and norms")
_NO_TOOL = zero("no flop rule in fvcore / FlopCounterMode for pooling")
_POOL: Dict[str, Any] = {"kind": "pool", "widen": FOLLOWS, "describe": _NO_DIFF, "fvcore": _NO_TOOL, "torch": zero("FlopCounterMode counts no pooling")}
_SUFFIX = {1: ("1d",), 2: ("", "2d"), 3: ("3d",)}

_cls: Any
for _cls in (MaxPool1d, MaxPool2d, MaxPool3d):
    _names = [f"maxpool{s}" for s in _SUFFIX[_cls.rank]] + [f"max_pool{_cls.rank}d"] + (["max_pool"] if _cls.rank == 2 else [])
    register(_names[0], _cls, aliases=tuple(_names[1:]), aten=(f"max_pool{_cls.rank}d_with_indices", f"max_pool{_cls.rank}d"),
             functions=("F.max_pool1d",) if _cls.rank == 1 else (), **_POOL)(pool)
for _cls in (AvgPool1d, AvgPool2d, AvgPool3d):
    _names = [f"avgpool{s}" for s in _SUFFIX[_cls.rank]] + [f"avg_pool{_cls.rank}d"] + (["avg_pool"] if _cls.rank == 2 else [])
    register(_names[0], _cls, aliases=tuple(_names[1:]), aten=(f"avg_pool{_cls.rank}d",),
             functions=("F.avg_pool1d",) if _cls.rank == 1 else (), **_POOL)(pool)
for _cls in (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d):
    _r = _cls.rank
    _names = [f"adaptive_avgpool{s}" for s in _SUFFIX[_r]] + (["global_avgpool", "gap"] if _r == 2 else [])
    _rules = dict(_POOL, fvcore=per_input(1, "aten::adaptive_avg_pool2d: 1 per input element") if _r == 2
                  else zero(f"fvcore has no handler for aten::adaptive_avg_pool{_r}d"))
    register(_names[0], _cls, aliases=tuple(_names[1:]), aten=(f"_adaptive_avg_pool{_r}d", f"adaptive_avg_pool{_r}d", "mean")[1 if _r == 1 else 0:],
             functions=(f"F.adaptive_avg_pool{_r}d",), **_rules)(adaptive_pool)
for _cls in (AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d):
    _names = [f"adaptive_maxpool{s}" for s in _SUFFIX[_cls.rank]]
    register(_names[0], _cls, aliases=tuple(_names[1:]), aten=(f"adaptive_max_pool{_cls.rank}d",),
             functions=("F.adaptive_max_pool1d",) if _cls.rank == 1 else (), **_POOL)(adaptive_pool)
