"""PyTorch's own view of a training step, module by module, to check costlab's training numbers against:
FlopCounterMode's backward counts and the tensors autograd saves for backward (saved_tensors_hooks).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from .capture import _meta_like
from ..training.grad import matches


def freeze(model: nn.Module, patterns: Sequence[str]) -> None:
    """requires_grad=False on the parameters of modules matched by the globs (costlab's --frozen)."""
    for name, module in model.named_modules():
        if name and matches(name, patterns):
            for p in module.parameters(recurse=False):
                p.requires_grad_(False)


def _loss(out: Any) -> torch.Tensor:
    """The sum of every floating output (GoogLeNet's aux heads included; their loss weight changes no cost)."""
    leaves = [t for t in torch.utils._pytree.tree_flatten(out)[0] if isinstance(t, torch.Tensor) and t.is_floating_point()]
    return sum((t.sum() for t in leaves), torch.zeros((), device=leaves[0].device))


class _Attributed(FlopCounterMode):
    """FlopCounterMode's own formulas, with every backward op credited to the module whose forward
    created the autograd node that runs it.

    FlopCounterMode's per-module backward table cannot be used as it is: its ModuleTracker credits a
    ResNet block's backward convolutions to the block's downsample module, and a ViT's whole backward to
    the last MLP. Here each autograd node is mapped to a module during the forward (nodes reachable from
    a module's inputs belong to the enclosing module, the new ones reachable from its output to it), and
    a pre-hook on the node names the module while its backward ops run.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__(display=False)
        self.names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
        self.stack: List[str] = []
        self.current = ""
        self.backward_flops: Dict[str, int] = defaultdict(int)
        self.forward_flops: Dict[str, int] = defaultdict(int)
        self.in_backward = False
        self.owner: Dict[Any, str] = {}

    def claim(self, tensors: Any, module: str) -> None:
        todo = [t.grad_fn for t in torch.utils._pytree.tree_flatten(tensors)[0] if isinstance(t, torch.Tensor) and t.grad_fn is not None]
        while todo:
            node = todo.pop()
            if node is None or node in self.owner:
                continue
            self.owner[node] = module
            node.register_prehook(self._enter(module))
            todo += [n for n, _ in node.next_functions if n is not None]

    def _enter(self, module: str) -> Any:
        def hook(grad_outputs: Any) -> None:
            self.current = module
        return hook

    def pre(self, module: nn.Module, args: Any) -> None:
        self.claim(args, self.stack[-1] if self.stack else "")
        self.stack.append(self.names.get(id(module), "?"))

    def post(self, module: nn.Module, args: Any, out: Any) -> None:
        self.claim(out, self.stack.pop())

    def _count_flops(self, func_packet: Any, out: Any, args: Any, kwargs: Any) -> Any:
        if func_packet in self.flop_registry:
            flops = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
            if self.in_backward:
                self.backward_flops[self.current] += flops
            else:
                self.forward_flops[self.stack[-1] if self.stack else ""] += flops
        return super()._count_flops(func_packet, out, args, kwargs)


def torch_flops(model: nn.Module, input_shape: Tuple[int, ...], batch: int, mode: str = "train",
                device: str = "meta") -> Tuple[Dict[str, int], Dict[str, int], int]:
    """FlopCounterMode's forward and backward FLOPs per module (leaf modules, and '' for ops the top-level
    module runs itself), and FlopCounterMode's own total, for a forward and a backward of the sum of the
    outputs."""
    flags = [(m, m.training) for m in model.modules()]
    model.train(mode == "train")
    tensors = {n: (_meta_like(t) if device == "meta" else t) for n, t in list(model.named_parameters()) + list(model.named_buffers())}
    x = torch.empty((batch, *input_shape), device="meta") if device == "meta" else torch.randn((batch, *input_shape))
    counter = _Attributed(model)
    pre = torch.nn.modules.module.register_module_forward_pre_hook(counter.pre)
    post = torch.nn.modules.module.register_module_forward_hook(counter.post)
    try:
        with counter:
            out = torch.func.functional_call(model, tensors, (x,), strict=False)
            counter.claim(out, "")
            loss = _loss(out)
            counter.in_backward = True
            loss.backward()
    finally:
        pre.remove()
        post.remove()
        for module, flag in flags:
            module.training = flag
    return dict(counter.forward_flops), dict(counter.backward_flops), counter.get_total_flops()


def per_module(flops: Dict[str, int]) -> Dict[str, int]:
    """Leaf counts summed into every enclosing module ('' = the whole model)."""
    sums: Dict[str, int] = defaultdict(int)
    for module, count in flops.items():
        parts = module.split(".") if module else []
        for depth in range(len(parts) + 1):
            sums[".".join(parts[:depth])] += count
    return dict(sums)


def saved_by_module(model: nn.Module, input_shape: Tuple[int, ...], batch: int, mode: str = "train", seed: int = 0,
                    dtype: Optional[torch.dtype] = None) -> Tuple[Dict[str, Tuple[int, int]], Tuple[int, int]]:
    """What autograd saves during a real CPU forward (torch.autograd.graph.saved_tensors_hooks), per module
    (leaf modules, and '' for ops the top-level module runs itself): (activation bytes, parameter and
    buffer bytes), storages counted once per module; and the same for the whole model, storages once."""
    torch.manual_seed(seed)
    flags = [(m, m.training) for m in model.modules()]
    model.train(mode == "train")
    names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
    resident = {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}
    stack: List[str] = []
    seen: Dict[str, Dict[int, int]] = defaultdict(dict)

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[stack[-1] if stack else ""][storage.data_ptr()] = storage.nbytes()
        return t

    def enter(module: nn.Module, args: Any) -> None:
        stack.append(names.get(id(module), "?"))

    def leave(module: nn.Module, args: Any, out: Any) -> None:
        stack.pop()

    pre = torch.nn.modules.module.register_module_forward_pre_hook(enter)
    post = torch.nn.modules.module.register_module_forward_hook(leave)
    try:
        x = torch.randn((batch, *input_shape), dtype=dtype)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(x)
    finally:
        pre.remove()
        post.remove()
        for module, flag in flags:
            module.training = flag
    del out

    def split(storages: Dict[int, int]) -> Tuple[int, int]:
        return (sum(n for p, n in storages.items() if p not in resident), sum(n for p, n in storages.items() if p in resident))

    everything: Dict[int, int] = {}
    for storages in seen.values():
        everything.update(storages)
    return {m: split(s) for m, s in seen.items()}, split(everything)


class _LiveBytes(TorchDispatchMode):
    """Bytes of live CPU tensor storages, as PyTorch allocates them: every op's outputs are tracked until
    their storage is freed (a weakref finalizer); the peak is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self.seen: set = set()

    def track(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key, size = storage.data_ptr(), storage.nbytes()
        if key in self.seen or size == 0:
            return
        self.seen.add(key)
        self.live += size
        self.peak = max(self.peak, self.live)
        weakref.finalize(storage, self._free, key, size)

    def _free(self, key: int, size: int) -> None:
        if key in self.seen:
            self.seen.discard(key)
            self.live -= size

    def __torch_dispatch__(self, func: Any, types: Any, args: Tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in torch.utils._pytree.tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type == "cpu":
                self.track(t)
        return out


def measured_peaks(model: nn.Module, input_shape: Tuple[int, ...], batch: int, mode: str = "train") -> Tuple[int, int]:
    """Peak live tensor bytes of a real CPU inference pass (no_grad, eval/``mode`` flags) and of a forward +
    backward of the sum of the outputs, parameters, buffers and the input included, gradients set to None first."""
    flags = [(m, m.training) for m in model.modules()]
    peaks = []
    try:
        for train in (False, True):
            model.train(mode == "train")
            for p in model.parameters():
                p.grad = None
            x = torch.randn((batch, *input_shape))
            counter = _LiveBytes()
            with counter:
                for t in list(model.parameters()) + list(model.buffers()) + [x]:
                    counter.track(t)
                if train:
                    _loss(model(x)).backward()
                else:
                    with torch.no_grad():
                        out = model(x)
                    del out
            peaks.append(counter.peak)
            for p in model.parameters():
                p.grad = None
    finally:
        for module, flag in flags:
            module.training = flag
    return peaks[0], peaks[1]


def live_after_forward(model: nn.Module, input_shape: Tuple[int, ...], batch: int, mode: str = "train") -> int:
    """Live CPU tensor bytes when a training forward has finished (what autograd keeps for the backward,
    parameters, buffers and the input included)."""
    flags = [(m, m.training) for m in model.modules()]
    model.train(mode == "train")
    counter = _LiveBytes()
    try:
        x = torch.randn((batch, *input_shape))
        with counter:
            for t in list(model.parameters()) + list(model.buffers()) + [x]:
                counter.track(t)
            out = model(x)
            live = counter.live
        del out
    finally:
        for module, flag in flags:
            module.training = flag
    return live
