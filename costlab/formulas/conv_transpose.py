"""Transposed convolutions in 1, 2 and 3 dimensions (U-Net's up-convolutions): the adjoint of a
convolution, with the same rule as costlab/formulas/conv.py read the other way round: MACs = N *
prod(INPUT positions) * C_in * (C_out / groups) * prod(kernel), each input element multiplied by every
kernel tap once (torch/utils/flop_counter.py's ``conv_flop_count`` with ``transposed=True``).
"""

from __future__ import annotations

from functools import partial

from dataclasses import dataclass
from typing import Dict, Any, Tuple

from ..conventions import per_mac
from ..errors import FieldError
from ..fields import Ints, Ranked, spec_field
from ..registry import LayerCost, register
from ..shapes import Shape, is_int, product
from .conv import _CONV_RULES, _channels, _macs_text, _params_text


@dataclass(frozen=True)
class _ConvTranspose(Ranked):
    """Transposed convolution (torch.nn.ConvTransposeNd)."""

    out_channels: int = spec_field("channels", doc="output channels")
    kernel: Ints = spec_field("ints", doc="kernel size, k or one per axis")
    stride: Ints = spec_field("ints", 1, "stride (the upsampling factor)")
    padding: Ints = spec_field("pad_ints", 0, "implicit padding removed from each side of the output")
    output_padding: Ints = spec_field("pad_ints", 0, "extra size on one side of the output (smaller than stride or dilation)")
    dilation: Ints = spec_field("ints", 1, "dilation")
    groups: int = spec_field("count", 1, "groups (in and out channels must divide by it)")
    bias: bool = spec_field("bool", True, "add a bias per output channel")


@dataclass(frozen=True)
class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (torch.nn.ConvTranspose1d), input CxL."""

    rank = 1


@dataclass(frozen=True)
class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (torch.nn.ConvTranspose2d, U-Net's up-convolution), input CxHxW."""


@dataclass(frozen=True)
class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution (torch.nn.ConvTranspose3d), input CxDxHxW."""

    rank = 3


def conv_transpose_out(layer: _ConvTranspose, sizes: Shape) -> Shape:
    """(in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1 per axis (PyTorch's rule)."""
    out = []
    for n, k, s, p, op, d in zip(sizes, layer.kernel, layer.stride, layer.padding, layer.output_padding, layer.dilation):
        if op >= s and op >= d:
            raise FieldError("output_padding", f"{op} must be smaller than the stride {s} or the dilation {d} (as in PyTorch)")
        size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if is_int(size) and size <= 0:
            raise FieldError("padding", f"padding {p} leaves no output from an input of {n}")
        out.append(size)
    return tuple(out)


def conv_transpose(layer: _ConvTranspose, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = N * prod(INPUT positions) * C_in * (C_out / groups) * prod(kernel); params = weights + C_out biases."""
    (shape,) = ins
    n, c_in, sizes = _channels(layer, shape, "conv_transpose")
    g, c_out = layer.groups, layer.out_channels
    out = conv_transpose_out(layer, sizes)
    per_group = c_out // g
    taps = product(layer.kernel)
    macs = n * product(sizes) * c_in * per_group * taps
    weights = taps * per_group * c_in
    biases = c_out if layer.bias else 0
    return LayerCost((n, c_out, *out), macs, weights + biases, biases,
                     partial(_macs_text, n, (*sizes, c_in), (*layer.kernel, per_group), g, macs),
                     partial(_params_text, (*layer.kernel, per_group, c_in), biases, weights + biases))


_TRANSPOSED_RULES: Dict[str, Any] = dict(
    _CONV_RULES,
    fvcore=per_mac(1, "aten::_convolution (transposed): batch x prod(weight) x prod(INPUT positions)"),
    torch=per_mac(2, "aten.convolution (transposed): 2 x batch x prod(weight) x prod(INPUT positions)"),
)

_cls: Any
for _cls in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d):
    _r = _cls.rank
    register(f"conv_transpose{_r}d", _cls, aliases=(f"convtranspose{_r}d", f"deconv{_r}d") + (("upconv",) if _r == 2 else ()),
             **_TRANSPOSED_RULES)(conv_transpose)
