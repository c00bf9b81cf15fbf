"""Convolution and fully connected layers: where the multiply-adds are."""

from __future__ import annotations

from typing import Tuple

from ..errors import FieldError
from ..layers import Conv2d, Linear
from ..registry import LayerCost, register
from ..shapes import Shape, is_int, product, window_out
from .text import batch_prefix, equals, times


def conv_padding(layer: Conv2d) -> Tuple[int, int]:
    """Symmetric padding per side; 'same' keeps the size at stride 1 (as torch allows only there)."""
    if layer.padding == "valid":
        return (0, 0)
    if layer.padding == "same":
        if layer.stride != (1, 1):
            raise FieldError("padding", "'same' padding needs stride 1 (as in PyTorch)")
        # total padding d*(k-1) per axis; output size equals input size whatever the split
        return tuple(d * (k - 1) // 2 for k, d in zip(layer.kernel, layer.dilation))  # type: ignore[return-value]
    return layer.padding  # type: ignore[return-value]


def conv_out_hw(layer: Conv2d, h, w):  # type: ignore[no-untyped-def]
    """Output height and width of a convolution."""
    if layer.padding == "same":
        conv_padding(layer)  # validates the stride
        return h, w
    ph, pw = conv_padding(layer)
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    return (
        window_out(h, kh, sh, ph, dh, False, "kernel"),
        window_out(w, kw, sw, pw, dw, False, "kernel"),
    )


@register("conv2d", Conv2d, aliases=("conv",))
def conv2d(layer: Conv2d, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = N * H_out * W_out * C_out * (C_in / groups) * kh * kw; params = weights + C_out biases."""
    (shape,) = ins
    if len(shape) != 4:
        raise FieldError("input", f"conv2d needs a CxHxW map, got {len(shape) - 1} dimension(s)")
    n, c_in, h, w = shape
    g, c_out = layer.groups, layer.out_channels
    if is_int(c_in) and c_in % g:
        raise FieldError("groups", f"input channels {c_in} do not divide into {g} groups")
    if c_out % g:
        raise FieldError("groups", f"out_channels {c_out} do not divide into {g} groups")
    if not is_int(c_in):
        raise FieldError("input", "the channel count must be a number, not a symbol")
    h_out, w_out = conv_out_hw(layer, h, w)
    kh, kw = layer.kernel
    per_group = c_in // g
    macs = n * h_out * w_out * c_out * per_group * kh * kw
    weights = kh * kw * per_group * c_out
    biases = c_out if layer.bias else 0
    group_note = f" [groups={g}]" if g > 1 else ""
    macs_text = equals(f"{batch_prefix(n)}({times((h_out, w_out, c_out))}) x ({times((kh, kw, per_group))})", macs) + group_note
    params_text = equals(f"{times((kh, kw, per_group, c_out))}" + (f" + {biases}" if biases else ""), weights + biases)
    return LayerCost((n, c_out, h_out, w_out), macs, weights + biases, biases, macs_text, params_text)


@register("linear", Linear, aliases=("fc",))
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
    positions = f"{times(lead[1:])} x " if len(lead) > 1 else ""
    macs_text = equals(f"{batch_prefix(lead[0])}{positions}{times((f_in, f_out))}", macs)
    params_text = equals(times((f_in, f_out)) + (f" + {biases}" if biases else ""), f_in * f_out + biases)
    return LayerCost((*lead, f_out), macs, f_in * f_out + biases, biases, macs_text, params_text)
