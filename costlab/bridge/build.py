"""Build a costlab Graph as a real nn.Module whose module names are the graph's layer names.

fvcore's per-module counts then line up with costlab's rows one to one.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .. import layers as L
from ..analysis import analyze
from ..errors import CostlabError
from ..graph import INPUT, Graph
from ..inputs import plain_shape
from ..keyed import registrar


Builder = Callable[[Any, Tuple[Tuple[int, ...], ...]], nn.Module]
BUILDERS: Dict[type, Builder] = {}


builds = registrar(BUILDERS, "torch builder")  # Register the torch builder of these layer classes: ``fn(layer, input shapes with batch) -> nn.Module``.


def to_module(layer: Any, ins: Tuple[Tuple[int, ...], ...]) -> nn.Module:
    """The torch module for one costlab layer, given its input shapes (with batch)."""
    builder = BUILDERS.get(type(layer))
    if builder is None:
        raise CostlabError(f"cannot build a {type(layer).__name__} as a torch module")
    return builder(layer, ins)


class _Inputs(nn.Module):
    """A module of several inputs: ``fn(*inputs)``."""

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        super().__init__()
        self.fn, self.name = fn, name

    def forward(self, *xs: torch.Tensor) -> Any:
        return self.fn(*xs)

    def extra_repr(self) -> str:
        return self.name


def _sum(*xs: torch.Tensor) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _center_crop(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    for axis in range(2, x.dim()):
        start = (x.shape[axis] - ref.shape[axis]) // 2
        x = x.narrow(axis, start, ref.shape[axis])
    return x


@builds(L.Concat)
def _concat(layer: Any, ins: Any) -> nn.Module:
    return _Inputs(lambda *xs: torch.cat(xs, 1), "cat")


@builds(L.Add)
def _add(layer: Any, ins: Any) -> nn.Module:
    return _Inputs(_sum, "add")


@builds(L.CenterCrop)
def _crop(layer: Any, ins: Any) -> nn.Module:
    return _Inputs(_center_crop, "center_crop")


@builds(L.Matmul)
def _matmul(layer: Any, ins: Any) -> nn.Module:
    return _Inputs(torch.matmul, "matmul")


@builds(L.Attention)
def _attention(layer: L.Attention, ins: Any) -> nn.Module:
    return _Inputs(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=layer.gqa), "attention")


@builds(L.GridSample)
def _grid_sample(layer: L.GridSample, ins: Any) -> nn.Module:
    return _Inputs(lambda x, g: F.grid_sample(x, g, mode=layer.mode, align_corners=layer.align_corners), "grid_sample")


@builds(L.AffineGrid)
def _affine_grid(layer: L.AffineGrid, ins: Any) -> nn.Module:
    size = [ins[0][0], 1, *layer.size]
    return _Inputs(lambda theta: F.affine_grid(theta, size, align_corners=layer.align_corners), "affine_grid")


ACTIVATIONS: Dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "gelu": nn.GELU, "silu": nn.SiLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "hardswish": nn.Hardswish, "leaky_relu": nn.LeakyReLU,
}


@builds(L.Activation)
def _activation(layer: L.Activation, ins: Any) -> nn.Module:
    return ACTIVATIONS[layer.kind]()


@builds(L.Conv1d, L.Conv2d, L.Conv3d)
def _conv(layer: Any, ins: Any) -> nn.Module:
    cls = getattr(nn, f"Conv{layer.rank}d")
    return cls(ins[0][1], layer.out_channels, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, layer.bias)


@builds(L.ConvTranspose1d, L.ConvTranspose2d, L.ConvTranspose3d)
def _conv_transpose(layer: Any, ins: Any) -> nn.Module:
    cls = getattr(nn, f"ConvTranspose{layer.rank}d")
    return cls(ins[0][1], layer.out_channels, layer.kernel, layer.stride, layer.padding, layer.output_padding, layer.groups,
               layer.bias, layer.dilation)


@builds(L.DeformConv2d)
def _deform_conv(layer: L.DeformConv2d, ins: Any) -> nn.Module:
    from torchvision.ops import DeformConv2d

    return DeformConv2d(ins[0][1], layer.out_channels, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, layer.bias)


@builds(L.Linear)
def _linear(layer: L.Linear, ins: Any) -> nn.Module:
    return nn.Linear(ins[0][-1], layer.out_features, layer.bias)


@builds(L.Bilinear)
def _bilinear(layer: L.Bilinear, ins: Any) -> nn.Module:
    return nn.Bilinear(ins[0][-1], ins[1][-1], layer.out_features, layer.bias)


@builds(L.MaxPool1d, L.MaxPool2d, L.MaxPool3d)
def _max_pool(layer: Any, ins: Any) -> nn.Module:
    return getattr(nn, f"MaxPool{layer.rank}d")(layer.kernel, layer.stride or layer.kernel, layer.padding, layer.dilation,
                                                  ceil_mode=layer.ceil_mode)


@builds(L.AvgPool1d, L.AvgPool2d, L.AvgPool3d)
def _avg_pool(layer: Any, ins: Any) -> nn.Module:
    return getattr(nn, f"AvgPool{layer.rank}d")(layer.kernel, layer.stride or layer.kernel, layer.padding, ceil_mode=layer.ceil_mode)


@builds(L.AdaptiveAvgPool1d, L.AdaptiveAvgPool2d, L.AdaptiveAvgPool3d, L.AdaptiveMaxPool1d, L.AdaptiveMaxPool2d, L.AdaptiveMaxPool3d)
def _adaptive_pool(layer: Any, ins: Any) -> nn.Module:
    kind = "Avg" if "Avg" in type(layer).__name__ else "Max"
    return getattr(nn, f"Adaptive{kind}Pool{layer.rank}d")(layer.output_size)


def _norm_rank(ins: Any, least: int) -> int:
    return max(least, min(3, len(ins[0]) - 2))


@builds(L.BatchNorm2d)
def _batch_norm(layer: L.BatchNorm2d, ins: Any) -> nn.Module:
    return getattr(nn, f"BatchNorm{_norm_rank(ins, 1)}d")(ins[0][1], affine=layer.affine)


@builds(L.InstanceNorm)
def _instance_norm(layer: L.InstanceNorm, ins: Any) -> nn.Module:
    return getattr(nn, f"InstanceNorm{_norm_rank(ins, 1)}d")(ins[0][1], affine=layer.affine)


@builds(L.LayerNorm)
def _layer_norm(layer: L.LayerNorm, ins: Any) -> nn.Module:
    return nn.LayerNorm(list(ins[0][-layer.dims:]), elementwise_affine=layer.affine)


@builds(L.RMSNorm)
def _rms_norm(layer: L.RMSNorm, ins: Any) -> nn.Module:
    return nn.RMSNorm(list(ins[0][-layer.dims:]), elementwise_affine=layer.affine)


@builds(L.GroupNorm)
def _group_norm(layer: L.GroupNorm, ins: Any) -> nn.Module:
    return nn.GroupNorm(layer.groups, ins[0][1], affine=layer.affine)


@builds(L.LocalResponseNorm)
def _lrn(layer: L.LocalResponseNorm, ins: Any) -> nn.Module:
    return nn.LocalResponseNorm(layer.size)


@builds(L.Dropout)
def _dropout(layer: L.Dropout, ins: Any) -> nn.Module:
    return nn.Dropout(layer.p)


@builds(L.Flatten)
def _flatten(layer: Any, ins: Any) -> nn.Module:
    return nn.Flatten(1)


@builds(L.Softmax)
def _softmax(layer: Any, ins: Any) -> nn.Module:
    return nn.Softmax(dim=1)


@builds(L.Identity)
def _identity(layer: Any, ins: Any) -> nn.Module:
    return nn.Identity()


@builds(L.Upsample)
def _upsample(layer: L.Upsample, ins: Any) -> nn.Module:
    size = layer.size[0] if layer.size is not None and len(layer.size) == 1 else layer.size
    scale = layer.scale_factor[0] if layer.scale_factor is not None and len(layer.scale_factor) == 1 else layer.scale_factor
    return nn.Upsample(size=size, scale_factor=scale, mode=layer.mode, align_corners=layer.align_corners)


@builds(L.PixelShuffle)
def _pixel_shuffle(layer: L.PixelShuffle, ins: Any) -> nn.Module:
    return nn.PixelShuffle(layer.upscale_factor)


@builds(L.PixelUnshuffle)
def _pixel_unshuffle(layer: L.PixelUnshuffle, ins: Any) -> nn.Module:
    return nn.PixelUnshuffle(layer.downscale_factor)


@builds(L.Embedding)
def _embedding(layer: L.Embedding, ins: Any) -> nn.Module:
    return nn.Embedding(layer.num_embeddings, layer.embedding_dim)


@builds(L.EmbeddingBag)
def _embedding_bag(layer: L.EmbeddingBag, ins: Any) -> nn.Module:
    return nn.EmbeddingBag(layer.num_embeddings, layer.embedding_dim, mode=layer.mode)


def _first_output(cls: Any) -> type:
    """``cls`` returning only its output sequence (nn.LSTM returns (output, state)); same module name."""
    return type(cls.__name__, (cls,), {"forward": lambda self, x: cls.forward(self, x)[0]})


RECURRENT = {cls: _first_output(getattr(nn, cls.__name__)) for cls in (L.LSTM, L.GRU, L.RNN)}


@builds(L.LSTM, L.GRU, L.RNN)
def _recurrent(layer: Any, ins: Any) -> nn.Module:
    extra: Dict[str, Any] = {"proj_size": layer.proj_size} if isinstance(layer, L.LSTM) else {}
    if isinstance(layer, L.RNN):
        extra = {"nonlinearity": layer.nonlinearity}
    return RECURRENT[type(layer)](ins[0][-1], layer.hidden_size, layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
                                  bidirectional=layer.bidirectional, **extra)


def _roi_boxes(layer: Any, ins: Any) -> Any:
    return {"output_size": layer.output_size, "spatial_scale": layer.spatial_scale}


@builds(L.RoIAlign)
def _roi_align(layer: L.RoIAlign, ins: Any) -> nn.Module:
    from torchvision.ops import RoIAlign

    return RoIAlign(**_roi_boxes(layer, ins), sampling_ratio=layer.sampling_ratio, aligned=layer.aligned)


@builds(L.RoIPool)
def _roi_pool(layer: L.RoIPool, ins: Any) -> nn.Module:
    from torchvision.ops import RoIPool

    return RoIPool(**_roi_boxes(layer, ins))


@builds(L.PSRoIAlign)
def _ps_roi_align(layer: L.PSRoIAlign, ins: Any) -> nn.Module:
    from torchvision.ops import PSRoIAlign

    return PSRoIAlign(**_roi_boxes(layer, ins), sampling_ratio=layer.sampling_ratio)


class GraphModule(nn.Module):
    """Runs the graph's layers in order; returns the last output (and, in training, every other sink)."""

    def __init__(self, graph: Graph, input_shape: Tuple[int, ...], mode: str = "infer") -> None:
        super().__init__()
        if graph.batch is not None:
            raise CostlabError(f"{graph.name}: a captured model is already a PyTorch model; build works on spec graphs")
        analysis = analyze(graph, input_shape, 1, mode)
        counted = {r.name: r for r in analysis.rows}
        self._order: List[Tuple[str, Tuple[str, ...]]] = []
        self._leaves: Dict[str, nn.Module] = {}
        for node in graph.nodes:
            if node.name not in counted:
                continue
            module = to_module(node.layer, counted[node.name].in_shapes)
            self._insert(node.name, module)
            self._order.append((node.name, node.inputs))
        read = {ref for _, inputs in self._order for ref in inputs}
        # token ids: an embedding reading the input gets valid indices (zeros), whatever tensor is fed
        self._ids = any(INPUT in node.inputs and isinstance(node.layer, (L.Embedding, L.EmbeddingBag)) for node in graph.nodes)
        self._outputs = [name for name, _ in self._order if name not in read]
        self.train(mode == "train")

    def _insert(self, name: str, module: nn.Module) -> None:
        parent: nn.Module = self
        *groups, leaf = name.split(".")
        for part in groups:
            if not hasattr(parent, part):
                parent.add_module(part, nn.Module())
            parent = getattr(parent, part)
        parent.add_module(leaf, module)
        self._leaves[name] = module

    def forward(self, x: torch.Tensor) -> Any:
        values: Dict[str, torch.Tensor] = {INPUT: torch.zeros_like(x, dtype=torch.long) if self._ids else x}
        for name, inputs in self._order:
            values[name] = self._leaves[name](*(values[r] for r in inputs))
        main = values[self._order[-1][0]]
        sinks = [values[n] for n in self._outputs if n != self._order[-1][0]]
        return (main, *sinks) if sinks else main


def build(graph: Graph, input_shape: Any = None, mode: str = "infer") -> GraphModule:
    """A real (CPU, randomly initialised) nn.Module for ``graph`` at ``input_shape`` (default the graph's)."""
    return GraphModule(graph, tuple(input_shape or graph.input_shape), mode)


def real_model(source: str, input_shape: Any = None, batch: int = 1, mode: str = "infer") -> Tuple[nn.Module, Any, Graph]:
    """A real (CPU, random weights) module for any SOURCE, its input shape, and the graph costlab analyses
    for it: the spec graph a built-in model or spec file is built from, or the capture of the very module
    a Python reference constructs (constructed once)."""
    from ..sources import is_reference, load_source
    from .capture import capture
    from .reference import construct, default_input, parse_reference

    if is_reference(source):
        ref = parse_reference(source)
        spec = input_shape or default_input(ref)
        model = construct(ref, spec, device="cpu")
        return model, spec, capture(model, spec, batch, mode, name=source, source=source)
    graph = load_source(source)
    shape = tuple(plain_shape(input_shape, source) or graph.input_shape)
    if not all(isinstance(d, int) for d in shape):
        raise CostlabError(f"{graph.name}: building a real model needs a numeric --input")
    return build(graph, shape, mode), shape, graph



from . import build_transformer  # noqa: E402,F401  (registers the transformer layers' builders)
