"""ATen ops seen during capture -> costlab layers (the same registry and formulas as spec files).

Each handler takes the op's arguments by name, its output, and the innermost running module (and
that module's input shape), and returns a layer with the input shapes its formula needs.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

import torch
from torch import nn

from ..layers import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, GroupNorm, LayerNorm, Linear, Matmul, MaxPool2d, Recorded,
)

Shapes = Tuple[Tuple[int, ...], ...]
Handler = Callable[[Dict[str, Any], Any, Optional[nn.Module], Optional[Tuple[int, ...]]], Tuple[Any, Shapes]]

# Ops that only move, view or create data: no row at all.
PLUMBING = {
    "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "expand", "clone", "contiguous", "detach", "alias",
    "select", "slice", "squeeze", "unsqueeze", "split", "split_with_sizes", "chunk", "unbind", "as_strided", "as_strided_",
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like", "new_zeros",
    "new_empty", "new_full", "new_ones", "scalar_tensor", "arange", "copy_", "_to_copy", "lift_fresh", "lift_fresh_copy",
    "flatten", "stack", "roll", "constant_pad_nd", "index", "gather", "masked_fill", "masked_fill_", "eq", "ne", "lt", "le",
    "gt", "ge", "fill_", "zero_", "_local_scalar_dense", "index_select", "repeat", "narrow", "_unsafe_index", "unfold",
    "set_", "resize_", "linspace", "meshgrid", "bernoulli_", "rand", "randn", "uniform_", "normal_", "sym_size",
}

# Ops costlab counts as 0 MACs under its own convention but lists (elementwise math, reductions).
ZERO_MAC = {
    "relu", "relu_", "gelu", "gelu_", "silu", "silu_", "sigmoid", "sigmoid_", "hardswish", "hardswish_", "hardsigmoid",
    "hardsigmoid_", "hardtanh", "hardtanh_", "tanh", "tanh_", "leaky_relu", "leaky_relu_", "elu", "elu_", "mish",
    "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "neg", "pow", "sqrt", "rsqrt", "exp", "log", "abs",
    "clamp", "clamp_", "clamp_min", "clamp_max", "_softmax", "_safe_softmax", "softmax", "_log_softmax", "log_softmax",
    "mean", "sum", "amax", "max", "min", "cat", "native_dropout", "dropout", "where", "addcmul", "erf", "cumsum",
    "reciprocal", "square", "var_mean", "var", "std", "norm", "linalg_vector_norm", "avg_pool2d_backward",
}


def _first(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _shape(t: Any) -> Tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def _pair(value: Any, default: Any = None) -> Tuple[int, int]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        value = default
    if isinstance(value, int):
        return (value, value)
    values = [int(v) for v in value]
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def convolution(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    x, w = a["input"], a["weight"]
    if w.dim() != 4 or a["transposed"]:
        return unsupported("convolution (only 2-D, not transposed)", out)
    layer = Conv2d(
        out_channels=int(w.shape[0]), kernel=(int(w.shape[2]), int(w.shape[3])), stride=_pair(a["stride"]),
        padding=_pair(a["padding"]), dilation=_pair(a["dilation"]), groups=int(a["groups"]), bias=a["bias"] is not None,
    )
    return layer, (_shape(x),)


def _matrix(a: torch.Tensor, b: torch.Tensor, bias: bool, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    if isinstance(module, nn.Linear) and module_in is not None and module_in[-1] == a.shape[-1]:
        return Linear(out_features=int(b.shape[-1]), bias=bias), (tuple(module_in),)
    return Matmul(), (_shape(a), _shape(b))


def addmm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    return _matrix(a["mat1"], a["mat2"], True, module, module_in)


def mm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    return _matrix(a["self"], a["mat2"], False, module, module_in)


def bmm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    first, second = (a["batch1"], a["batch2"]) if "batch1" in a else (a["self"], a["mat2"] if "mat2" in a else a["other"])
    return Matmul(), (_shape(first), _shape(second))


def batch_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return BatchNorm2d(affine=a.get("weight") is not None), (_shape(a["input"]),)


def layer_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return LayerNorm(dims=len(a["normalized_shape"]), affine=a.get("weight") is not None), (_shape(a["input"]),)


def group_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return GroupNorm(groups=int(a["group"]), affine=a.get("weight") is not None), (_shape(a["input"]),)


def _pool(cls: type, kind: str) -> Handler:
    def handler(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
        if a["self"].dim() != 4 or _pair(a.get("dilation"), 1) != (1, 1):
            return unsupported(f"{kind} (dilated or not 4-d)", out)
        kernel = _pair(a["kernel_size"])
        layer = cls(kernel=kernel, stride=_pair(a.get("stride"), kernel), padding=_pair(a.get("padding"), 0),
                    ceil_mode=bool(a.get("ceil_mode", False)))
        return layer, (_shape(a["self"]),)

    return handler


max_pool, avg_pool = _pool(MaxPool2d, "max_pool2d"), _pool(AvgPool2d, "avg_pool2d")


def adaptive_avg_pool(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return AdaptiveAvgPool2d(output_size=_pair(a["output_size"])), (_shape(a["self"]),)


def mean(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    """A mean over H and W inside nn.AdaptiveAvgPool2d is how it runs on the meta device."""
    result = _first(out)
    if isinstance(module, nn.AdaptiveAvgPool2d) and a["self"].dim() == 4 and result.dim() == 4:
        return AdaptiveAvgPool2d(output_size=(int(result.shape[2]), int(result.shape[3]))), (_shape(a["self"]),)
    return zero_mac("mean", a, out)


def zero_mac(kind: str, a: Dict[str, Any], out: Any) -> Tuple[Any, Shapes]:
    tensors = tuple(_shape(v) for v in a.values() if isinstance(v, torch.Tensor))
    if kind == "cat" and isinstance(a.get("tensors"), (list, tuple)):
        tensors = tuple(_shape(t) for t in a["tensors"])
    return Recorded(kind, _shape(_first(out))), tensors


def unsupported(kind: str, out: Any) -> Tuple[Any, Shapes]:
    result = _first(out)
    shape = _shape(result) if isinstance(result, torch.Tensor) else (0,)
    return Recorded(f"aten.{kind}", shape, supported=False), ()


HANDLERS: Dict[str, Handler] = {
    "convolution": convolution, "_convolution": convolution,
    "addmm": addmm, "mm": mm, "bmm": bmm, "baddbmm": bmm, "matmul": bmm,
    "native_batch_norm": batch_norm, "_native_batch_norm_legit": batch_norm,
    "_native_batch_norm_legit_no_training": batch_norm, "batch_norm": batch_norm, "cudnn_batch_norm": batch_norm,
    "native_layer_norm": layer_norm, "native_group_norm": group_norm,
    "max_pool2d_with_indices": max_pool, "max_pool2d": max_pool, "avg_pool2d": avg_pool,
    "_adaptive_avg_pool2d": adaptive_avg_pool, "adaptive_avg_pool2d": adaptive_avg_pool, "mean": mean,
}


def bind(func: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """An op's arguments by schema name, defaults filled in."""
    bound: Dict[str, Any] = {}
    arguments = func._schema.arguments
    for spec, value in zip(arguments, args):
        bound[spec.name] = value
    bound.update(kwargs)
    for spec in arguments:
        if spec.name not in bound and spec.has_default_value():
            bound[spec.name] = spec.default_value
    return bound


def convert(func: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], out: Any, module: Optional[nn.Module],
            module_in: Any) -> Optional[Tuple[str, Any, Shapes]]:
    """(label, layer, input shapes) for a recorded op, or None for plumbing."""
    name = func.overloadpacket.__name__
    if name in PLUMBING:
        return None
    bound = bind(func, args, kwargs)
    handler = HANDLERS.get(name)
    if handler is not None:
        layer, shapes = handler(bound, out, module, module_in)
    elif name in ZERO_MAC:
        result = _first(out)
        if isinstance(result, torch.Tensor) and result.dim() == 0:
            return None  # scalar bookkeeping (batch norm's num_batches_tracked += 1)
        layer, shapes = zero_mac(name.strip("_"), bound, out)
    else:
        layer, shapes = unsupported(name, out)
    return _label(layer), layer, shapes


def _label(layer: Any) -> str:
    if isinstance(layer, Recorded):
        return layer.kind.replace("aten.", "").strip("_")  # an op without a rule is named too: 'rnn#lstm', not '#unsupported_17'
    from ..registry import for_layer

    return for_layer(layer).op
