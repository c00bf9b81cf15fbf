"""ATen ops seen during capture -> costlab layers (the same registry and formulas as spec files).

Handlers are registered with ``@handles("aten_name", ...)`` (torchvision's ops as
``"torchvision.roi_align"``); each takes the op's arguments by schema name, its output, and the
innermost running module (and that module's input shape), and returns a layer with the input shapes
its formula needs. The op families in ``costlab.formulas`` name the ops they are captured from; a
test checks that the two agree. Pointwise ops (``torch.Tag.pointwise``) share one rule: a 0-MAC row.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Optional, Tuple

import torch
from torch import nn

from .. import layers as L
from ..keyed import registrar

Shapes = Tuple[Tuple[int, ...], ...]
Handler = Callable[[Dict[str, Any], Any, Optional[nn.Module], Optional[Tuple[int, ...]]], Tuple[Any, Shapes]]
HANDLERS: Dict[str, Handler] = {}


handles = registrar(HANDLERS, "capture handler")  # Register a capture handler for these op names (refuses duplicates).


# Ops that only move, view or create data: no row at all.
PLUMBING = {
    "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "expand", "clone", "contiguous", "detach", "alias",
    "select", "slice", "squeeze", "unsqueeze", "split", "split_with_sizes", "chunk", "unbind", "as_strided", "as_strided_",
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like", "new_zeros",
    "new_empty", "new_full", "new_ones", "scalar_tensor", "arange", "copy_", "_to_copy", "lift_fresh", "lift_fresh_copy",
    "flatten", "stack", "roll", "constant_pad_nd", "index", "gather", "masked_fill", "masked_fill_", "eq", "ne", "lt", "le",
    "gt", "ge", "fill_", "zero_", "_local_scalar_dense", "index_select", "repeat", "narrow", "_unsafe_index", "unfold", "im2col",
    "set_", "resize_", "linspace", "meshgrid", "bernoulli_", "rand", "randn", "uniform_", "normal_", "sym_size",
}

# Ops that are not pointwise but still cost 0 MACs under costlab's convention (reductions, softmax, cat...).
ZERO_MAC = {
    "_softmax", "_safe_softmax", "softmax", "_log_softmax", "log_softmax", "mean", "sum", "amax", "amin", "max", "min",
    "cat", "native_dropout", "dropout", "cumsum", "var_mean", "var", "std", "norm", "linalg_vector_norm", "avg_pool2d_backward",
    "argmax", "argmin", "topk", "sort", "prod", "any", "all", "logsumexp",
    "hardswish", "hardswish_", "where",  # elementwise, but PyTorch 2.14 does not tag these pointwise
}


def _first(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _shape(t: Any) -> Tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def _ints(value: Any, rank: int, default: Any = None) -> Tuple[int, ...]:
    """An op's int-list argument as a tuple of ``rank`` (one value stands for all; empty means default)."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        value = default
    if isinstance(value, int):
        return (int(value),) * rank
    values = [int(v) for v in value]
    return tuple(values) * rank if len(values) == 1 else tuple(values[:rank])


def unsupported(kind: str, out: Any) -> Tuple[Any, Shapes]:
    result = _first(out)
    shape = _shape(result) if isinstance(result, torch.Tensor) else (0,)
    return L.Recorded(f"aten.{kind}", shape, supported=False), ()


def zero_mac(kind: str, a: Dict[str, Any], out: Any) -> Tuple[Any, Shapes]:
    tensors = tuple(_shape(v) for v in a.values() if isinstance(v, torch.Tensor))
    if kind == "cat" and isinstance(a.get("tensors"), (list, tuple)):
        tensors = tuple(_shape(t) for t in a["tensors"])
    return L.Recorded(kind, _shape(_first(out))), tensors


CONVS = {1: L.Conv1d, 2: L.Conv2d, 3: L.Conv3d}
TRANSPOSED = {1: L.ConvTranspose1d, 2: L.ConvTranspose2d, 3: L.ConvTranspose3d}


@handles("convolution", "_convolution")
def convolution(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    x, w = a["input"], a["weight"]
    rank, groups = w.dim() - 2, int(a["groups"])
    if rank not in CONVS or x.dim() != rank + 2:
        return unsupported(f"convolution ({rank}-d weight on a {x.dim()}-d input)", out)
    common: Dict[str, Any] = {"kernel": tuple(int(k) for k in w.shape[2:]), "stride": _ints(a["stride"], rank), "dilation": _ints(a["dilation"], rank),
                  "groups": groups, "bias": a["bias"] is not None}
    layer: Any
    if a["transposed"]:
        layer = TRANSPOSED[rank](out_channels=int(w.shape[1]) * groups, padding=_ints(a["padding"], rank),
                                 output_padding=_ints(a["output_padding"], rank), **common)
    else:
        layer = CONVS[rank](out_channels=int(w.shape[0]), padding=_ints(a["padding"], rank), **common)
    return layer, (_shape(x),)


def _matrix(a: torch.Tensor, b: torch.Tensor, bias: bool, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    if isinstance(module, nn.Linear) and module_in is not None and module_in[-1] == a.shape[-1]:
        return L.Linear(out_features=int(b.shape[-1]), bias=bias), (tuple(module_in),)
    return L.Matmul(), (_shape(a), _shape(b))


@handles("addmm")
def addmm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    return _matrix(a["mat1"], a["mat2"], True, module, module_in)


@handles("mm")
def mm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    return _matrix(a["self"], a["mat2"], False, module, module_in)


@handles("bmm", "baddbmm", "matmul")
def bmm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    first, second = (a["batch1"], a["batch2"]) if "batch1" in a else (a["self"], a["mat2"] if "mat2" in a else a["other"])
    return L.Matmul(), (_shape(first), _shape(second))


@handles("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training", "batch_norm",
         "cudnn_batch_norm", "_native_batch_norm_legit_functional")
def batch_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.BatchNorm2d(affine=a.get("weight") is not None), (_shape(a["input"]),)


@handles("native_layer_norm")
def layer_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.LayerNorm(dims=len(a["normalized_shape"]), affine=a.get("weight") is not None), (_shape(a["input"]),)


@handles("_fused_rms_norm")
def rms_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.RMSNorm(dims=len(a["normalized_shape"]), affine=a.get("weight") is not None), (_shape(a["input"]),)


@handles("native_group_norm")
def group_norm(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.GroupNorm(groups=int(a["group"]), affine=a.get("weight") is not None), (_shape(a["input"]),)


POOLS = {
    ("max", 1): L.MaxPool1d, ("max", 2): L.MaxPool2d, ("max", 3): L.MaxPool3d,
    ("avg", 1): L.AvgPool1d, ("avg", 2): L.AvgPool2d, ("avg", 3): L.AvgPool3d,
}
ADAPTIVE = {
    ("avg", 1): L.AdaptiveAvgPool1d, ("avg", 2): L.AdaptiveAvgPool2d, ("avg", 3): L.AdaptiveAvgPool3d,
    ("max", 1): L.AdaptiveMaxPool1d, ("max", 2): L.AdaptiveMaxPool2d, ("max", 3): L.AdaptiveMaxPool3d,
}


def _pool(kind: str, rank: int) -> Handler:
    cls = POOLS[(kind, rank)]

    def handler(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
        if a["self"].dim() != rank + 2:
            return unsupported(f"{kind}_pool{rank}d of a {a['self'].dim()}-d input", out)
        kernel = _ints(a["kernel_size"], rank)
        extra = {"dilation": _ints(a.get("dilation"), rank, 1)} if kind == "max" else {}
        layer = cls(kernel=kernel, stride=_ints(a.get("stride"), rank, kernel), padding=_ints(a.get("padding"), rank, 0),
                    ceil_mode=bool(a.get("ceil_mode", False)), **extra)
        return layer, (_shape(a["self"]),)

    return handler


def _adaptive(kind: str, rank: int) -> Handler:
    cls = ADAPTIVE[(kind, rank)]

    def handler(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
        if a["self"].dim() != rank + 2:
            return unsupported(f"adaptive_{kind}_pool{rank}d of a {a['self'].dim()}-d input", out)
        return cls(output_size=tuple(_shape(_first(out))[2:])), (_shape(a["self"]),)

    return handler


for _rank in (1, 2, 3):
    handles(f"max_pool{_rank}d_with_indices", f"max_pool{_rank}d")(_pool("max", _rank))
    handles(f"avg_pool{_rank}d")(_pool("avg", _rank))
    handles(*(f"_adaptive_avg_pool{_rank}d",) * (_rank > 1), f"adaptive_avg_pool{_rank}d")(_adaptive("avg", _rank))
    handles(f"adaptive_max_pool{_rank}d")(_adaptive("max", _rank))


@handles("mean")
def mean(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    """A mean over H and W inside nn.AdaptiveAvgPool2d is how it runs on the meta device."""
    result = _first(out)
    if isinstance(module, nn.AdaptiveAvgPool2d) and a["self"].dim() == 4 and result.dim() == 4:
        return L.AdaptiveAvgPool2d(output_size=(int(result.shape[2]), int(result.shape[3]))), (_shape(a["self"]),)
    return zero_mac("mean", a, out)


def _upsample(mode: str) -> Handler:
    def handler(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
        align = a.get("align_corners") if mode not in ("nearest", "nearest-exact") else None
        size = tuple(_shape(_first(out))[2:])
        return L.Upsample(size=size, mode=mode, align_corners=None if align is None else bool(align)), (_shape(a["self"]),)

    return handler


for _rank in (1, 2, 3):
    handles(f"upsample_nearest{_rank}d")(_upsample("nearest"))
    handles(f"_upsample_nearest_exact{_rank}d")(_upsample("nearest-exact"))
handles("upsample_linear1d")(_upsample("linear"))
handles("upsample_bilinear2d")(_upsample("bilinear"))
handles("upsample_bicubic2d")(_upsample("bicubic"))
handles("upsample_trilinear3d")(_upsample("trilinear"))


@handles("pixel_shuffle")
def pixel_shuffle(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.PixelShuffle(upscale_factor=int(a["upscale_factor"])), (_shape(a["self"]),)


@handles("pixel_unshuffle")
def pixel_unshuffle(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.PixelUnshuffle(downscale_factor=int(a["downscale_factor"])), (_shape(a["self"]),)


@handles("grid_sampler_2d", "grid_sampler_3d")
def grid_sampler(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    mode = ("bilinear", "nearest", "bicubic")[int(a["interpolation_mode"])]
    return L.GridSample(mode=mode, align_corners=bool(a["align_corners"])), (_shape(a["input"]), _shape(a["grid"]))


@handles("affine_grid_generator")
def affine_grid(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    size = tuple(int(s) for s in a["size"])[2:]
    return L.AffineGrid(size=size, align_corners=bool(a["align_corners"])), (_shape(a["theta"]),)


@handles("embedding")
def embedding(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    w = a["weight"]
    return L.Embedding(num_embeddings=int(w.shape[0]), embedding_dim=int(w.shape[1])), (_shape(a["indices"]),)


@handles("_embedding_bag", "_embedding_bag_forward_only", "embedding_bag")
def embedding_bag(a: Dict[str, Any], out: Any, module: Optional[nn.Module], module_in: Any) -> Tuple[Any, Shapes]:
    w, indices = a["weight"], a["indices"]
    bags = int(_first(out).shape[0])
    shape = tuple(module_in) if module_in is not None and len(module_in) == 2 else (bags, int(indices.numel()) // max(bags, 1))
    mode = ("sum", "mean", "max")[int(a.get("mode", 0))]
    return L.EmbeddingBag(num_embeddings=int(w.shape[0]), embedding_dim=int(w.shape[1]), mode=mode), (shape,)


def _roi(cls: type, *extra: str) -> Handler:
    def handler(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
        fields = {name: (bool if name == "aligned" else int)(a[name]) for name in extra}
        layer = cls(output_size=(int(a["pooled_height"]), int(a["pooled_width"])), spatial_scale=float(a["spatial_scale"]), **fields)
        return layer, (_shape(a["input"]), _shape(a["rois"]))

    return handler


handles("torchvision.roi_align")(_roi(L.RoIAlign, "sampling_ratio", "aligned"))
handles("torchvision.roi_pool")(_roi(L.RoIPool))
handles("torchvision.ps_roi_align")(_roi(L.PSRoIAlign, "sampling_ratio"))


@handles("torchvision.deform_conv2d")
def deform_conv2d(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    """torchvision always passes a bias tensor (zeros when there is none): the module says whether it has one."""
    w = a["weight"]
    layer = L.DeformConv2d(
        out_channels=int(w.shape[0]), kernel=(int(w.shape[2]), int(w.shape[3])), stride=(int(a["stride_h"]), int(a["stride_w"])),
        padding=(int(a["pad_h"]), int(a["pad_w"])), dilation=(int(a["dilation_h"]), int(a["dilation_w"])), groups=int(a["groups"]),
        bias=getattr(module, "bias", None) is not None,
    )
    shapes = (_shape(a["input"]), _shape(a["offset"])) + ((_shape(a["mask"]),) if a["use_mask"] else ())
    return layer, shapes


@handles("torchvision.nms")
def nms(a: Dict[str, Any], out: Any, module: Optional[nn.Module], _: Any) -> Tuple[Any, Shapes]:
    return L.NMS(kept=int(_first(out).shape[0])), (_shape(a["dets"]), _shape(a["scores"]))


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


def op_key(func: Any) -> str:
    """'convolution' for aten ops, 'torchvision.roi_align' for others."""
    name = func.overloadpacket.__name__
    namespace = getattr(func, "namespace", "aten")
    return name if namespace == "aten" else f"{namespace}.{name}"


@functools.lru_cache(maxsize=None)
def _pointwise(func: Any) -> bool:
    """Tagged pointwise by PyTorch; an in-place variant (hardswish_) whose out-of-place op is."""
    if torch.Tag.pointwise in getattr(func, "tags", ()):
        return True
    name = func.overloadpacket.__name__
    if getattr(func, "namespace", "") != "aten" or not name.endswith("_") or name.startswith("_"):
        return False
    packet = getattr(torch.ops.aten, name[:-1], None)
    overload = getattr(packet, func._overloadname, None) if packet is not None else None
    return overload is not None and torch.Tag.pointwise in overload.tags


def convert(func: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], out: Any, module: Optional[nn.Module],
            module_in: Any) -> Optional[Tuple[str, Any, Shapes]]:
    """(label, layer, input shapes) for a recorded op, or None for plumbing."""
    name = op_key(func)
    if name in PLUMBING:
        return None
    bound = bind(func, args, kwargs)
    handler = HANDLERS.get(name)
    if handler is not None:
        layer, shapes = handler(bound, out, module, module_in)
    elif name in ZERO_MAC or _pointwise(func):
        result = _first(out)
        if isinstance(result, torch.Tensor) and result.dim() == 0:
            return None  # scalar bookkeeping (batch norm's num_batches_tracked += 1)
        layer, shapes = zero_mac(name.strip("_"), bound, out)
    else:
        layer, shapes = unsupported(name, out)
    return _label(layer), layer, shapes


def _label(layer: Any) -> str:
    if isinstance(layer, L.Recorded):
        return layer.kind.replace("aten.", "").strip("_")  # an op without a rule is named too: 'rnn#lstm', not '#unsupported_17'
    from ..registry import for_layer

    return for_layer(layer).op
