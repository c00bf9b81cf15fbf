"""Convolutions in 1, 2 and 3 dimensions: where most multiply-adds are (transposed ones: conv_transpose.py).

One rule for every rank, as in torch/utils/flop_counter.py's ``conv_flop_count`` and fvcore's
``conv_flop_jit``: MACs = N * prod(positions) * C_out * (C_in / groups) * prod(kernel), where the
positions are the OUTPUT positions of a convolution and the INPUT positions of a transposed one
(each input element is multiplied by every kernel tap once).
"""

from __future__ import annotations

import math
from functools import partial
from itertools import repeat

from dataclasses import dataclass, replace
from typing import Dict, Any, Tuple

from ..conventions import per_mac
from ..errors import FieldError
from ..fields import Ints, Ranked, spec_field
from ..registry import LayerCost, register
from ..shapes import Dim, Shape, is_int, window_out
from .text import batch_prefix, equals, times


@dataclass(frozen=True)
class _Conv(Ranked):
    """Convolution (torch.nn.ConvNd)."""

    out_channels: int = spec_field("channels", doc="output channels")
    kernel: Ints = spec_field("ints", doc="kernel size, k or one per axis")
    stride: Ints = spec_field("ints", 1, "stride")
    padding: Any = spec_field("padding", 0, "zero padding per side, or 'same' / 'valid'")
    dilation: Ints = spec_field("ints", 1, "dilation")
    groups: int = spec_field("count", 1, "groups (in and out channels must divide by it)")
    bias: bool = spec_field("bool", True, "add a bias per output channel")


@dataclass(frozen=True)
class Conv1d(_Conv):
    """1-D convolution (torch.nn.Conv1d), input CxL."""

    rank = 1


@dataclass(frozen=True)
class Conv2d(_Conv):
    """2-D convolution (torch.nn.Conv2d), input CxHxW."""


@dataclass(frozen=True)
class Conv3d(_Conv):
    """3-D convolution (torch.nn.Conv3d), input CxDxHxW."""

    rank = 3


def conv_padding(layer: _Conv) -> Tuple[int, ...]:
    """Symmetric padding per side; 'same' keeps the size at stride 1 (as torch allows only there)."""
    if layer.padding == "valid":
        return (0,) * layer.rank
    if layer.padding == "same":
        if any(s != 1 for s in layer.stride):
            raise FieldError("padding", "'same' padding needs stride 1 (as in PyTorch)")
        # total padding d*(k-1) per axis; output size equals input size whatever the split
        return tuple(d * (k - 1) // 2 for k, d in zip(layer.kernel, layer.dilation))
    return layer.padding


def conv_out(layer: _Conv, sizes: Shape) -> Shape:
    """Output sizes of a convolution along its axes (PyTorch's rule)."""
    pads = layer.padding
    if type(pads) is str:
        pads = conv_padding(layer)  # validates 'same' (stride 1)
        if layer.padding == "same":
            return tuple(sizes)
    return tuple(map(window_out, sizes, layer.kernel, layer.stride, pads, layer.dilation, _NO_CEIL, _KERNEL))


_NO_CEIL, _KERNEL = repeat(False), repeat("kernel")  # window_out's last two arguments, for map()


def _channels(layer: Any, shape: Shape, what: str) -> Tuple[Any, Any, Tuple[Any, ...]]:
    """(N, C_in, spatial sizes) of a conv's input, checked against the layer ('conv' names it in errors)."""
    rank = layer.rank
    if len(shape) != rank + 2:
        axes = ("L", "HxW", "DxHxW")[rank - 1] if rank <= 3 else f"{rank} axes"
        raise FieldError("input", f"{what}{rank}d needs a Cx{axes} map, got {len(shape) - 1} dimension(s)")
    n, c_in, sizes = shape[0], shape[1], shape[2:]
    g, c_out = layer.groups, layer.out_channels
    if type(c_in) is not int and not is_int(c_in):
        raise FieldError("input", "the channel count must be a number, not a symbol")
    if c_in % g:
        raise FieldError("groups", f"input channels {c_in} do not divide into {g} groups")
    if c_out % g:
        raise FieldError("groups", f"out_channels {c_out} do not divide into {g} groups")
    return n, c_in, tuple(sizes)  # a shape is a tuple: tuple() returns it as it is


def conv(layer: _Conv, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = N * prod(out positions) * C_out * (C_in / groups) * prod(kernel); params = weights + C_out biases."""
    (shape,) = ins
    n, c_in, sizes = _channels(layer, shape, "conv")
    g, c_out, kernel = layer.groups, layer.out_channels, layer.kernel
    out = conv_out(layer, sizes)
    per_group = c_in // g
    taps = math.prod(kernel)
    macs = n * math.prod(out) * c_out * per_group * taps
    weights = taps * per_group * c_out
    biases = c_out if layer.bias else 0
    return LayerCost((n, c_out, *out), macs, weights + biases, biases,
                     partial(_macs_text, n, (*out, c_out), (*kernel, per_group), g, macs),
                     partial(_params_text, (*kernel, per_group, c_out), biases, weights + biases))


def _macs_text(n: Dim, positions: Shape, window: Shape, groups: int, macs: Dim) -> str:
    """'(14x14x48) x (5x5x480) = 112,896,000' (with ' [groups=g]' for grouped convs)."""
    group_note = f" [groups={groups}]" if groups > 1 else ""
    return equals(f"{batch_prefix(n)}({times(positions)}) x ({times(window)})", macs) + group_note


def _params_text(weights: Shape, biases: int, total: int) -> str:
    """'5x5x480x48 + 48 = 576,048'."""
    return equals(times(weights) + (f" + {biases}" if biases else ""), total)


def widen_channels(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    """Scale out_channels (a final conv too); a depthwise layer (groups == channels) follows its input; other groups refuse."""
    if layer.groups > 1 and not (layer.groups == layer.out_channels == in_channels):
        raise FieldError("groups", "a width multiplier does not support grouped convs")
    out = max(1, round(layer.out_channels * factor))
    return replace(layer, out_channels=out, groups=out if layer.groups > 1 else 1)


def _kernel_text(layer: Any) -> str:
    name = "conv" if isinstance(layer, _Conv) else "conv_transpose"
    return f"{'x'.join(map(str, layer.kernel))} {name}{'' if layer.rank == 2 else f'{layer.rank}d'}"


_CONV_RULES: Dict[str, Any] = {
    "fvcore": per_mac(1, "aten::_convolution: batch x prod(weight) x prod(output positions), any rank"),
    "torch": per_mac(2, "aten.convolution: 2 per MAC, any rank"),
    "widen": widen_channels, "describe": _kernel_text, "kind": "weighted", "aten": ("convolution", "_convolution"),
}

_cls: Any
for _cls in (Conv1d, Conv2d, Conv3d):
    register(f"conv{_cls.rank}d", _cls, aliases=("conv",) if _cls.rank == 2 else (), **_CONV_RULES)(conv)
