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


class Concat(nn.Module):
    """torch.cat over channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, 1)


class Add(nn.Module):
    """Elementwise sum of the inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Matmul(nn.Module):
    """torch.matmul of two inputs."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


class Attention(nn.Module):
    """F.scaled_dot_product_attention of q, k, v."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


ACTIVATIONS: Dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "gelu": nn.GELU, "silu": nn.SiLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "hardswish": nn.Hardswish, "leaky_relu": nn.LeakyReLU,
}


def to_module(layer: Any, ins: Tuple[Tuple[int, ...], ...]) -> nn.Module:
    """The torch module for one costlab layer, given its input shapes (with batch)."""
    if isinstance(layer, L.Conv2d):
        return nn.Conv2d(ins[0][1], layer.out_channels, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, layer.bias)
    if isinstance(layer, L.Linear):
        return nn.Linear(ins[0][-1], layer.out_features, layer.bias)
    if isinstance(layer, L.MaxPool2d):
        return nn.MaxPool2d(layer.kernel, layer.stride or layer.kernel, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, L.AvgPool2d):
        return nn.AvgPool2d(layer.kernel, layer.stride or layer.kernel, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, L.AdaptiveAvgPool2d):
        return nn.AdaptiveAvgPool2d(layer.output_size)
    if isinstance(layer, L.BatchNorm2d):
        return nn.BatchNorm2d(ins[0][1], affine=layer.affine)
    if isinstance(layer, L.LayerNorm):
        return nn.LayerNorm(list(ins[0][-layer.dims:]), elementwise_affine=layer.affine)
    if isinstance(layer, L.GroupNorm):
        return nn.GroupNorm(layer.groups, ins[0][1], affine=layer.affine)
    if isinstance(layer, L.LocalResponseNorm):
        return nn.LocalResponseNorm(layer.size)
    if isinstance(layer, L.Activation):
        return ACTIVATIONS[layer.kind]()
    if isinstance(layer, L.Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, L.Flatten):
        return nn.Flatten(1)
    if isinstance(layer, L.Softmax):
        return nn.Softmax(dim=1)
    simple = {L.Concat: Concat, L.Add: Add, L.Identity: nn.Identity, L.Matmul: Matmul, L.Attention: Attention}
    if type(layer) in simple:
        return simple[type(layer)]()
    raise CostlabError(f"cannot build a {type(layer).__name__} as a torch module")


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
        values: Dict[str, torch.Tensor] = {INPUT: x}
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

