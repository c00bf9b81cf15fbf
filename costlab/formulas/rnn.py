"""Recurrent layers (torch.nn.RNN, LSTM, GRU): the gates' matrix products, layer by layer and step by step.

Per time step, batch element, layer and direction: G * h * (in + h_r) MACs, G = 4 (LSTM), 3 (GRU),
1 (RNN), in = the layer's input size (the model's for layer 1, D * h_r after), h_r = proj_size when
an LSTM projects its hidden state (else h), plus h * proj_size for that projection. This is what
FlopCounterMode counts (x2) when the layer runs as matrix products (the meta device, GRU / RNN and
projected LSTMs on the CPU); fvcore has no handler for aten::lstm / gru / rnn_tanh (0, unsupported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Tuple

from ..conventions import per_mac, zero
from ..errors import FieldError
from ..fields import spec_field
from ..registry import NA, LayerCost, register
from ..shapes import Shape, is_int
from ..numbers import format_int
from .text import equals


@dataclass(frozen=True)
class _Recurrent:
    """A stack of recurrent layers over (L, N, in), or (N, L, in) with batch_first."""

    hidden_size: int = spec_field("channels", doc="hidden state size h")
    num_layers: int = spec_field("count", 1, "stacked layers")
    bias: bool = spec_field("bool", True, "input and hidden biases (2 x gates x h per layer and direction)")
    bidirectional: bool = spec_field("bool", False, "a second pass over the reversed sequence; outputs concatenated")
    batch_first: bool = spec_field("bool", False, "input (N, L, in) instead of (L, N, in)")

    gates = 1


@dataclass(frozen=True)
class LSTM(_Recurrent):
    """Long short-term memory (torch.nn.LSTM): 4 gates."""

    proj_size: int = spec_field("index", 0, "project the hidden state to this size (0: none)")
    gates = 4


@dataclass(frozen=True)
class GRU(_Recurrent):
    """Gated recurrent unit (torch.nn.GRU): 3 gates."""

    gates = 3


@dataclass(frozen=True)
class RNN(_Recurrent):
    """Elman RNN with tanh or ReLU (torch.nn.RNN): 1 gate."""

    nonlinearity: str = spec_field("choice", "tanh", "tanh, relu", choices=("tanh", "relu"))


def recurrent(layer: _Recurrent, ins: Tuple[Shape, ...]) -> LayerCost:
    """MACs = steps x sum over layers and directions of G*h*(in + h_r) (+ h*proj); params exactly as PyTorch."""
    (shape,) = ins
    if len(shape) not in (2, 3):
        raise FieldError("input", f"a recurrent layer needs a sequence (L, N, in) or (N, L, in), got {len(shape)} dimension(s)")
    f_in = shape[-1]
    if not is_int(f_in):
        raise FieldError("input", "the feature count must be a number, not a symbol")
    h, g = layer.hidden_size, layer.gates
    proj = getattr(layer, "proj_size", 0)
    if proj >= h:
        raise FieldError("proj_size", f"must be smaller than hidden_size {h}, got {proj}")
    h_r = proj or h
    dirs = 2 if layer.bidirectional else 1
    steps = shape[0] * shape[1] if len(shape) == 3 else shape[0]
    per_step = params = biases = 0
    terms = []
    for i in range(layer.num_layers):
        size_in = f_in if i == 0 else dirs * h_r
        one = g * h * (size_in + h_r) + h * proj
        per_step += dirs * one
        terms.append(f"{g}x{h}x({size_in}+{h_r})" + (f" + {h}x{proj}" if proj else ""))
        bias = 2 * g * h if layer.bias else 0
        params += dirs * (g * h * size_in + g * h * h_r + bias + proj * h)
        biases += dirs * bias
    macs = steps * per_step
    lead = f"{format_int(steps)} steps x " + (f"{dirs} directions x " if dirs > 1 else "")
    out = (*shape[:-1], dirs * h_r)
    return LayerCost(out, macs, params, biases, lambda: equals(f"{lead}({' + '.join(terms)})", macs),
                     lambda: f"{layer.num_layers} layers x {dirs} direction(s) = {format_int(params)}")


def _widen(layer: Any, factor: float, in_channels: Any, head: bool) -> Any:
    scaled = replace(layer, hidden_size=max(1, round(layer.hidden_size * factor)))
    if getattr(layer, "proj_size", 0):
        scaled = replace(scaled, proj_size=min(scaled.hidden_size - 1, max(1, round(layer.proj_size * factor))))
    return scaled


_TORCH = per_mac(2, "the mm / addmm of the gates on the meta device; on the CPU a plain nn.LSTM runs a fused kernel FlopCounterMode counts as 0")
for _cls, _fn in ((LSTM, "lstm"), (GRU, "gru"), (RNN, "rnn")):
    _vf = ("_VF.rnn_tanh", "_VF.rnn_relu") if _fn == "rnn" else (f"_VF.{_fn}",)
    register(_fn, _cls, kind="weighted", widen=_widen, describe=lambda layer: f"{type(layer).__name__.lower()} {layer.hidden_size}x{layer.num_layers}",
             fvcore=zero(f"fvcore has no handler for aten::{_fn if _fn != 'rnn' else 'rnn_tanh'}"), torch=_TORCH,
             aten=NA("recorded as one op by wrapping torch._VF"), functions=_vf)(recurrent)
