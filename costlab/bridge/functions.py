"""torch functions recorded as ONE op each during capture, as fvcore and FlopCounterMode see them.

On the meta device these would decompose (attention into matmuls, instance norm into a batch norm of
a reshaped input, an LSTM into its gate products, a 1-d pool into a 2-d one). Each is registered with
``@records("F.name")`` (``F.`` is torch.nn.functional, ``torch.``, ``_VF.`` torch's internal
recurrent kernels); the describer gets the call's arguments and returns None (let it decompose into
recorded ATen ops) or ``finish(out) -> (layer, input shapes)``. The op families in
``costlab.formulas`` name the functions they are recorded from; a test checks that the two agree.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import torch

from .. import layers as L
from ..keyed import registrar

Shapes = Tuple[Tuple[int, ...], ...]
Finish = Callable[[Any], Tuple[Any, Shapes]]
Describe = Callable[[Tuple[Any, ...], Dict[str, Any]], Optional[Finish]]
FUNCTIONS: Dict[str, Describe] = {}


records = registrar(FUNCTIONS, "function recorder")  # Register a describer for these functions (refuses duplicates).


def owner(name: str) -> Tuple[Any, str]:
    """The object holding the function and its attribute name: 'F.x' -> (torch.nn.functional, 'x')."""
    import torch.nn.functional as F

    prefix, attr = name.split(".", 1)
    return {"F": F, "torch": torch, "_VF": torch._VF}[prefix], attr


def _args(args: Sequence[Any], kwargs: Dict[str, Any], names: Sequence[str], defaults: Dict[str, Any]) -> Dict[str, Any]:
    values = dict(defaults)
    values.update(zip(names, args))
    values.update({k: v for k, v in kwargs.items() if k in names})
    return values


def _shape(t: Any) -> Tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def _fixed(layer: Any, shapes: Shapes) -> Finish:
    return lambda out: (layer, shapes)


@records("F.scaled_dot_product_attention")
def _attention(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
    a = _args(args, kwargs, ("query", "key", "value"), {})
    gqa = bool(kwargs.get("enable_gqa", False))
    return _fixed(L.Attention(gqa=gqa), (_shape(a["query"]), _shape(a["key"]), _shape(a["value"])))


@records("torch.einsum")
def _einsum(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
    equation, *operands = args
    ops = operands[0] if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else operands
    if not isinstance(equation, str) or len(ops) != 2 or "..." in equation or "->" not in equation:
        return None  # decomposes into recorded matmuls
    return _fixed(L.Einsum(equation), tuple(_shape(t) for t in ops))


def _adaptive(cls: type) -> Describe:
    def describe(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
        x = _args(args, kwargs, ("input",), {})["input"]
        if x.dim() != cls.rank + 2:  # type: ignore[attr-defined]
            return None
        return lambda out: (cls(output_size=_shape(out[0] if isinstance(out, tuple) else out)[2:]), (_shape(x),))

    return describe


for _rank in (1, 2, 3):
    records(f"F.adaptive_avg_pool{_rank}d")(_adaptive(getattr(L, f"AdaptiveAvgPool{_rank}d")))
records("F.adaptive_max_pool1d")(_adaptive(L.AdaptiveMaxPool1d))


def _pool1d(cls: type, names: Tuple[str, ...]) -> Describe:
    def describe(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
        a = _args(args, kwargs, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False})
        if a["input"].dim() != 3:
            return None
        one = lambda v: int(v[0]) if isinstance(v, (list, tuple)) else int(v)  # noqa: E731
        kernel = one(a["kernel_size"])
        stride = kernel if a["stride"] is None or a["stride"] == [] else one(a["stride"])
        extra = {"dilation": one(a["dilation"])} if "dilation" in names else {}
        layer = cls(kernel=kernel, stride=stride, padding=one(a["padding"]), ceil_mode=bool(a["ceil_mode"]), **extra)
        return _fixed(layer, (_shape(a["input"]),))

    return describe


records("F.max_pool1d")(_pool1d(L.MaxPool1d, ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode")))
records("F.avg_pool1d")(_pool1d(L.AvgPool1d, ("input", "kernel_size", "stride", "padding", "ceil_mode")))


@records("torch.instance_norm")
def _instance_norm(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
    a = _args(args, kwargs, ("input", "weight"), {"weight": None})
    return _fixed(L.InstanceNorm(affine=a["weight"] is not None), (_shape(a["input"]),))


@records("torch.rms_norm")
def _rms_norm(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
    a = _args(args, kwargs, ("input", "normalized_shape", "weight"), {"weight": None})
    dims = 1 if isinstance(a["normalized_shape"], int) else len(a["normalized_shape"])
    return _fixed(L.RMSNorm(dims=dims, affine=a["weight"] is not None), (_shape(a["input"]),))


@records("F.local_response_norm")
def _lrn(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
    a = _args(args, kwargs, ("input", "size"), {})
    return _fixed(L.LocalResponseNorm(size=int(a["size"])), (_shape(a["input"]),))


@records("F.bilinear")
def _bilinear(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
    a = _args(args, kwargs, ("input1", "input2", "weight", "bias"), {"bias": None})
    layer = L.Bilinear(out_features=int(a["weight"].shape[0]), bias=a["bias"] is not None)
    return _fixed(layer, (_shape(a["input1"]), _shape(a["input2"])))


def _recurrent(kind: str) -> Describe:
    """_VF.lstm / gru / rnn_tanh / rnn_relu (input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first); a packed sequence (batch_sizes second) decomposes instead."""
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)

    def describe(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Finish]:
        if len(args) != 9 or isinstance(args[3], (list, tuple)):
            return None  # the packed-sequence overload
        x, _, params, has_biases, num_layers, _, _, bidirectional, batch_first = args
        w_ih, w_hh = params[0], params[1]
        hidden = int(w_ih.shape[0]) // gates
        common: Dict[str, Any] = {"hidden_size": hidden, "num_layers": int(num_layers), "bias": bool(has_biases), "bidirectional": bool(bidirectional),
                      "batch_first": bool(batch_first)}
        if kind == "lstm":
            proj = int(w_hh.shape[1])
            layer: Any = L.LSTM(proj_size=0 if proj == hidden else proj, **common)
        elif kind == "gru":
            layer = L.GRU(**common)
        else:
            layer = L.RNN(nonlinearity="relu" if kind == "rnn_relu" else "tanh", **common)
        return _fixed(layer, (_shape(x),))

    return describe


for _kind in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    records(f"_VF.{_kind}")(_recurrent(_kind))
