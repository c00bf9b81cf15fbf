"""Capture an nn.Module as a costlab Graph by running it once on the meta device.

Nothing is allocated: parameters and buffers are swapped for meta tensors for the one call
(``torch.func.functional_call``), so the user's model keeps its device, weights, training flag,
state_dict keys, and gets no hooks (the module hooks used are global and removed afterwards).
Every ATen op is attributed to the innermost running module and becomes a row through the same
formulas as spec files; attention, einsum and adaptive pooling are recorded as one op each.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ..errors import CostlabError
from ..graph import INPUT, Graph, Node, ParamCount
from ..inputs import Inputs, InputSpec
from ..layers import Recorded
from ..numbers import format_int
from ..registry import for_layer
from ..shapes import product
from .datadep import fake_for, model_limits, meta_stand_ins
from .functions import FUNCTIONS, owner
from .inputs import SEED, example_args, first_shape
from .ops import convert


# Plumbing ops whose results carry no data (and no gradient) from their tensor arguments.
_FRESH = {"empty_like", "zeros_like", "ones_like", "full_like", "new_zeros", "new_empty", "new_full", "new_ones", "fill_",
          "zero_", "bernoulli_", "uniform_", "normal_", "rand", "randn", "empty", "empty_strided", "zeros", "ones", "full"}


@dataclass
class _Record:
    module: str
    label: str
    layer: Any
    shapes: Tuple[Tuple[int, ...], ...]
    params: List[str] = field(default_factory=list)
    sources: Tuple[Any, ...] = ()  # per input: record index, -1 (graph input), parameter name or None; then other records read
    reads: Tuple[str, ...] = ()  # every parameter the op reads (directly or through a view)
    inplace: bool = False  # the op wrote its result into one of its inputs (relu_)


@dataclass
class _Frame:
    name: str
    module: nn.Module
    input_shape: Optional[Tuple[int, ...]]
    records: List[int] = field(default_factory=list)
    pending: List[str] = field(default_factory=list)


class _Recorder:
    """Holds the module stack, the parameters seen, and the records of one run."""

    def __init__(self, model: nn.Module, replacements: Dict[str, torch.Tensor]) -> None:
        self.names = {id(m): name for name, m in model.named_modules(remove_duplicate=False)}
        self.direct: Dict[int, List[str]] = {}
        canonical = {id(p): name for name, p in model.named_parameters()}
        for _, m in model.named_modules(remove_duplicate=False):
            self.direct.setdefault(id(m), [canonical[id(p)] for p in m._parameters.values() if p is not None])
        parameters = set(canonical.values())
        self.param_of = {id(t): name for name, t in replacements.items() if name in parameters}
        self.shapes = {name: tuple(t.shape) for name, t in replacements.items()}
        self.counted: set = set()
        self.stack: List[_Frame] = [_Frame("", model, None)]
        self.records: List[_Record] = []
        self.suppress = 0
        self.flow: Dict[int, Tuple[Any, ...]] = {}  # tensor id -> record indices (-1: input) and parameter names it comes from
        self.keep: List[Any] = []  # every tensor seen stays alive, so ids are not reused during the run
        self.assumed: Dict[Tuple[str, str], int] = {}

    def _origins(self, tensors: List[torch.Tensor]) -> Tuple[Any, ...]:
        found: List[Any] = []
        for t in tensors:
            found += self.flow.get(id(t), (self.param_of[id(t)],) if id(t) in self.param_of else ())
        return tuple(dict.fromkeys(found))

    def _positional(self, tensors: List[torch.Tensor], shapes: Tuple[Tuple[int, ...], ...]) -> Tuple[Any, ...]:
        """Where each input (one per recorded shape) comes from: a record index, -1 (the graph input), a
        parameter name, or None (a buffer or constant); then any other record read, so the dataflow is whole.
        An input is matched to the first unused tensor argument of its shape (else of its size)."""
        unused = list(range(len(tensors)))
        found: List[Any] = []
        for shape in shapes:
            pick = next((i for i in unused if tuple(tensors[i].shape) == tuple(shape)), None)
            if pick is None:
                pick = next((i for i in unused if tensors[i].numel() == product(shape)), None)
            if pick is None:
                found.append(None)
                continue
            unused.remove(pick)
            origins = self._origins([tensors[pick]])
            records = [o for o in origins if isinstance(o, int)]
            found.append(records[-1] if records else (origins[0] if origins else None))
        rest = [o for o in self._origins([tensors[i] for i in unused]) if isinstance(o, int) and o not in found]
        return tuple(found + rest)

    def produce(self, out: Any, origins: Tuple[Any, ...]) -> None:
        """Remember where the tensors of ``out`` come from (the dataflow between records)."""
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.flow[id(t)] = origins
                self.keep.append(t)

    def assume(self, text: str) -> None:
        """Note an assumption made where the running module needed values the meta device does not have."""
        key = (self.stack[-1].name, text)
        self.assumed[key] = self.assumed.get(key, 0) + 1

    def assumptions(self) -> Tuple[str, ...]:
        """The assumptions of this run in words, one per module and kind, with how often each was made."""
        return tuple(f"{module or '(top level)'}: {text} (x{count})" for (module, text), count in self.assumed.items())

    # module hooks (global: registered for the run only)
    def enter(self, module: nn.Module, args: Tuple[Any, ...]) -> None:
        first = args[0] if args and isinstance(args[0], torch.Tensor) else None
        name = self.names.get(id(module), self.stack[-1].name)
        self.stack.append(_Frame(name, module, tuple(first.shape) if first is not None else None))

    def leave(self, module: nn.Module, args: Any, output: Any) -> None:
        if len(self.stack) < 2 or self.stack[-1].module is not module:
            return
        frame = self.stack.pop()
        frame.pending += [p for p in self.direct.get(id(module), []) if p not in self.counted]
        self._settle(frame)
        self.stack[-1].records += frame.records

    def _settle(self, frame: _Frame) -> None:
        fresh = [p for p in dict.fromkeys(frame.pending) if p not in self.counted]
        frame.pending = []
        if not fresh:
            return
        self.counted.update(fresh)
        own = [i for i in frame.records if self.records[i].module == frame.name]
        if own:
            self.records[own[-1]].params += fresh
        else:
            self.records.append(_Record(frame.name, "parameters", Recorded("parameters", (0,)), (), fresh))
            frame.records.append(len(self.records) - 1)

    # ops
    def op(self, func: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], out: Any) -> None:
        frame = self.stack[-1]
        for value in tree_flatten((args, kwargs))[0]:
            if isinstance(value, torch.Tensor) and id(value) in self.param_of:
                name = self.param_of[id(value)]
                if name not in self.counted:
                    frame.pending.append(name)
        if self.suppress:
            return
        converted = convert(func, args, kwargs, out, frame.module, frame.input_shape)
        if converted is not None:
            self.add(*converted, args=(args, kwargs), out=out)
        elif func.overloadpacket.__name__ not in _FRESH:  # views and copies come from where their inputs came from
            self.produce(out, self._origins([v for v in tree_flatten((args, kwargs))[0] if isinstance(v, torch.Tensor)]))
        else:  # new tensors whose values do not depend on their inputs' (empty_like, bernoulli_, ...)
            self.produce(out, ())

    def add(self, label: str, layer: Any, shapes: Tuple[Tuple[int, ...], ...], args: Any = (), out: Any = None) -> None:
        frame = self.stack[-1]
        tensors = [v for v in tree_flatten(args)[0] if isinstance(v, torch.Tensor)]
        origins = self._origins(tensors)
        outs = {id(t) for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)}
        record = _Record(frame.name, label, layer, shapes, sources=self._positional(tensors, shapes),
                         reads=tuple(o for o in origins if isinstance(o, str)), inplace=any(id(t) in outs for t in tensors))
        self.produce(out, (len(self.records),))
        fresh = [p for p in dict.fromkeys(frame.pending) if p not in self.counted]
        self.counted.update(fresh)
        record.params += fresh
        frame.pending = []
        self.records.append(record)
        frame.records.append(len(self.records) - 1)

    def finish(self) -> None:
        while len(self.stack) > 1:  # a forward that raised: close what is open
            frame = self.stack.pop()
            self.stack[-1].records += frame.records
        root = self.stack[0]
        root.pending += [p for p in self.direct.get(id(root.module), []) if p not in self.counted]
        self._settle(root)


class _Dispatch(TorchDispatchMode):
    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_dispatch__(self, func: Any, types: Any, args: Tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        fake = fake_for(func, args)
        if fake is None:
            out = func(*args, **kwargs)
            self.recorder.op(func, args, kwargs, out)
            return out
        self.recorder.assume(fake[0])  # a selection of indices: no arithmetic, no row
        result = fake[1](args, kwargs)
        self.recorder.produce(result, self.recorder._origins([v for v in tree_flatten((args, kwargs))[0] if isinstance(v, torch.Tensor)]))
        return result


def _one_op(recorder: _Recorder, original: Any, describe: Any) -> Any:
    """Wrap a torch function so that a call is recorded as one row (``describe(args, kwargs)`` gives
    ``finish(out) -> (layer, input shapes)``, or None to let it decompose into recorded ATen ops)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        finish = None if recorder.suppress else describe(args, kwargs)
        if finish is None:
            return original(*args, **kwargs)
        recorder.suppress += 1
        try:
            out = original(*args, **kwargs)
        finally:
            recorder.suppress -= 1
        layer, shapes = finish(out)
        recorder.add(for_layer(layer).op, layer, shapes, args=(args, kwargs), out=out)
        return out

    return wrapper


@contextlib.contextmanager
def _whole_ops(recorder: _Recorder) -> Iterator[None]:
    """Record the functions of ``bridge.functions`` (attention, two-operand einsum, adaptive pooling,
    instance norm, recurrent layers, ...) as one op each, as fvcore and FlopCounterMode see them.

    The functions are wrapped for the run only, for callers that look them up through their module
    (torch.nn.functional.X, torch.einsum, torch._VF.lstm), as torch's own modules do.
    """
    originals = [(*owner(name), describe) for name, describe in FUNCTIONS.items()]
    saved = [(holder, attr, getattr(holder, attr)) for holder, attr, _ in originals]
    for (holder, attr, original), (_, _, describe) in zip(saved, originals):
        setattr(holder, attr, _one_op(recorder, original, describe))
    try:
        yield
    finally:
        for holder, attr, original in saved:
            setattr(holder, attr, original)


def _meta_like(t: torch.Tensor) -> torch.Tensor:
    meta = torch.empty_like(t, device="meta")
    return meta.requires_grad_(t.requires_grad) if t.is_floating_point() or t.is_complex() else meta


class MetaUnsupported(CostlabError):
    """An op of the model has no meta-device kernel (a real run can still count it)."""


@dataclass
class Run:
    """What one forward pass did: the records, the assumptions it needed, the shape of its first input."""

    records: List[_Record]
    assumptions: Tuple[str, ...]
    input_shape: Tuple[int, ...]


def record(model: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any], mode: str, real: bool = False) -> Run:
    """Run ``model(*args, **kwargs)`` once and return what it did, leaving the model as it was.

    On the meta device (default) parameters are swapped for meta tensors; with ``real`` the model's own
    tensors are used (the CPU fallback for ops without a meta kernel).
    """
    tensors = list(model.named_parameters()) + list(model.named_buffers())
    replacements = {name: t if real else _meta_like(t) for name, t in tensors}
    recorder = _Recorder(model, replacements)
    recorder.produce((args, kwargs), (-1,))  # the graph's inputs
    flags = [(m, m.training) for m in model.modules()]
    attributes = _tensor_attributes(model)
    pre = torch.nn.modules.module.register_module_forward_pre_hook(recorder.enter)
    post = torch.nn.modules.module.register_module_forward_hook(recorder.leave)
    try:
        model.train(mode == "train")
        with torch.enable_grad(), _whole_ops(recorder), meta_stand_ins(recorder.assume), _Dispatch(recorder):
            torch.func.functional_call(model, replacements, args, kwargs, strict=False)
    except Exception as e:  # the user's forward: report it, never a traceback
        if not real and _needs_values(e):
            raise MetaUnsupported(_first_line(e)) from None
        raise CostlabError(f"running the model {'on the CPU' if real else 'on the meta device'} failed: "
                           f"{type(e).__name__}: {_first_line(e)}{_hint(e)}") from None
    finally:
        pre.remove()
        post.remove()
        for module, flag in flags:
            module.training = flag
        for module, name, value in attributes:  # a forward that moved its own tensors (anchors) to meta
            setattr(module, name, value)
    recorder.finish()
    assumptions = recorder.assumptions()
    if assumptions:
        assumptions = tuple(model_limits(model, mode == "train")) + assumptions
    return Run(recorder.records, assumptions, first_shape((args, kwargs)))


def _tensor_attributes(model: nn.Module) -> List[Tuple[nn.Module, str, Any]]:
    """Plain attributes holding tensors (not parameters or buffers), e.g. torchvision's AnchorGenerator.cell_anchors,
    which its forward replaces with copies on the input's device: restored after the run."""
    found = []
    for module in model.modules():
        for name, value in vars(module).items():
            if name.startswith("_") and name in ("_parameters", "_buffers", "_modules"):
                continue
            if isinstance(value, torch.Tensor) or (isinstance(value, (list, tuple)) and value and
                                                   all(isinstance(v, torch.Tensor) for v in value)):
                found.append((module, name, value))
    return found


def _needs_values(e: Exception) -> bool:
    """An op with no meta kernel, or one that reads a value (``.item()``, data-dependent sizes)."""
    text = str(e)
    return ("'Meta' backend" in text or "meta tensors" in text or "data-dependent" in text
            or (isinstance(e, NotImplementedError) and "meta" in text.lower()))


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def _hint(e: Exception) -> str:
    text = str(e)
    if "more than 1 value per channel" in text:
        return " (batch norm in training mode needs a batch of 2 or more: --batch 2)"
    lowered = text.lower()
    if "channel" in lowered or ("expected" in lowered and "dim" in lowered):
        return " (is the input's rank right? images are CxHxW, video clips CxTxHxW, e.g. --input 3x16x112x112)"
    return ""


def _names(records: List[_Record], leaves: set) -> List[str]:
    """One name per record: a leaf module's name when it ran one op, else 'module#op', 'module#op_2', ...

    Ops run by the top-level module itself are '#op'.
    """
    per_module: Dict[str, int] = {}
    for r in records:
        per_module[r.module] = per_module.get(r.module, 0) + 1
    seen: Dict[Tuple[str, str], int] = {}
    names = []
    for r in records:
        if per_module[r.module] == 1 and r.module in leaves:
            names.append(r.module)
            continue
        key = (r.module, r.label)
        seen[key] = seen.get(key, 0) + 1
        label = r.label if seen[key] == 1 else f"{r.label}_{seen[key]}"
        names.append(f"{r.module}#{label}")  # '#cat': an op of the top-level module itself
    return names


def _source_name(source: Any, names: List[str]) -> str:
    """A node input: a node name, 'input', '@parameter', or '' (a buffer or constant)."""
    if source is None:
        return ""
    if isinstance(source, str):
        return "@" + source
    return INPUT if source < 0 else names[source]


def _param_count(names: List[str], shapes: Dict[str, Tuple[int, ...]], norm: bool = False) -> ParamCount:
    """Params of one row; a norm's shift is a parameter, not a bias (biases are conv / linear ones)."""
    if not names:
        return ParamCount(0, 0, "")
    sizes = {n: product(shapes[n]) for n in names}
    total = sum(sizes.values())
    biases = 0 if norm else sum(size for n, size in sizes.items() if n.rsplit(".", 1)[-1].startswith("bias"))  # bias, bias_ih_l0, ...
    terms = " + ".join(f"{n.rsplit('.', 1)[-1]} {'x'.join(map(str, shapes[n])) or '1'}" for n in names)
    return ParamCount(total, biases, f"{terms} = {format_int(total)}")


def _check(record_: _Record, name: str) -> None:
    """costlab's formula must agree with the shapes PyTorch produced (a self-check of the formulas)."""
    if isinstance(record_.layer, Recorded):
        return
    try:
        for_layer(record_.layer).formula(record_.layer, record_.shapes)
    except ValueError as e:
        raise CostlabError(f"layer '{name}': costlab's {record_.label} formula rejects the shapes PyTorch ran: {e}") from None


def capture(model: nn.Module, inputs: InputSpec, batch: int = 1, mode: str = "infer",
            name: str = "model", source: str = "", real: bool = False) -> Graph:
    """A Graph of what ``model`` computes on ``inputs`` (a CxHxW shape, several tensors or a factory; the batch
    is prepended) in ``mode``: on the meta device, or with ``real`` on the model's own (CPU) tensors."""
    try:
        run = record(model, *example_args(inputs, batch, _device_of(model) if real else "meta"), mode, real)
    except MetaUnsupported as e:
        if real or _device_of(model) == "meta":
            raise
        torch.manual_seed(SEED)  # a real model: run it for real, with seeded inputs
        run = record(model, *example_args(inputs, batch, _device_of(model)), mode, True)
        run.assumptions = (_ran_for_real(e, "inputs"), *run.assumptions)
    shapes = {n: tuple(t.shape) for n, t in list(model.named_parameters()) + list(model.named_buffers())}
    nodes = []
    leaves = {n for n, m in model.named_modules() if n and not any(True for _ in m.children())}
    names = _names(run.records, leaves)
    trainable = {n: p.requires_grad for n, p in model.named_parameters()}
    for node_name, r in zip(names, run.records):
        _check(r, node_name)
        wired = tuple(_source_name(i, names) for i in r.sources)
        reads = tuple((p, product(shapes[p]), trainable[p]) for p in r.reads)
        nodes.append(Node(node_name, r.layer, wired, False, r.shapes,
                          _param_count(r.params, shapes, for_layer(r.layer).kind == "norm"), reads, r.inplace))
    groups = tuple((n, type(m).__name__) for n, m in model.named_modules() if n)
    batch = run.input_shape[0] if isinstance(inputs, Inputs) and inputs.factory and run.input_shape else batch
    return Graph(name, tuple(nodes), run.input_shape[1:], f"captured from {source or name}", source or name, groups, batch,
                 inputs=inputs.text() if isinstance(inputs, Inputs) else "", assumptions=run.assumptions)


def _device_of(model: nn.Module) -> str:
    first = next(iter(model.parameters()), None)
    return "cpu" if first is None else str(first.device)


def _ran_for_real(e: Exception, what: str) -> str:
    return (f"ran on the CPU with seeded random {what} (torch.manual_seed({SEED})): the meta device cannot run it "
            f"({e}); sizes that depend on values are this run's")


def _numeric(spec: InputSpec, text: str, batch: Any) -> None:
    shapes = [t.shape for t in spec.tensors] if isinstance(spec, Inputs) else [spec]
    if not all(isinstance(d, int) for shape in shapes for d in shape) or not isinstance(batch, int):
        raise CostlabError(f"{text}: a PyTorch model is captured at numeric sizes; symbolic --input works for spec files")


def capture_reference(text: str, input_shape: Optional[InputSpec] = None, batch: int = 1, mode: str = "infer") -> Graph:
    """Build the referenced model on the meta device and capture it; where an op has no meta kernel, build it on
    the CPU with seeded random weights and run it for real (and say so in the graph's assumptions)."""
    from .reference import construct, default_input, parse_reference

    ref = parse_reference(text)
    spec = input_shape if input_shape is not None else default_input(ref)
    _numeric(spec, text, batch)
    try:
        return capture(construct(ref, spec), spec, batch, mode, name=text, source=text)
    except MetaUnsupported as e:
        torch.manual_seed(SEED)
        graph = capture(construct(ref, spec, device="cpu"), spec, batch, mode, name=text, source=text, real=True)
        return dataclasses.replace(graph, assumptions=(_ran_for_real(e, "weights and inputs"), *graph.assumptions))
