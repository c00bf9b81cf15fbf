"""Vectorized evaluation: one pass over a graph gives the cost of a whole grid of settings.

The grid has three axes, in this order: batch size N, square input resolution R (H = W = R) and
width multiplier w. Every dimension of every tensor is a Python int or an int64 numpy array that
broadcasts over (N, R, w): batch sizes have shape (nN, 1, 1), spatial sizes (1, nR, 1), channel
counts (1, 1, nw). Each op family has one array rule here (the same arithmetic as its formula in
costlab/formulas, checked point by point against ``analyze`` in the tests); a layer type without
one is refused by name, never counted as zero.

Channel counts follow ``costlab.sweep.widen`` exactly: ``max(1, round(c * w))`` (round half to
even, on the same float64 product), depthwise convs follow their input, the classifier keeps its
outputs. Results are exact integers: int64 while a bound computed from the factors' maxima proves
no value can reach 2**63, Python ints in object arrays otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import CostlabError, SpecError
from .formulas.conv import conv_padding
from .graph import INPUT, Graph
from .layers import (
    Activation, AdaptiveAvgPool2d, Add, Attention, AvgPool2d, BatchNorm2d, Concat, Conv2d, Dropout, Einsum, Flatten, GroupNorm,
    Identity, LayerNorm, Linear, LocalResponseNorm, Matmul, MaxPool2d, Softmax,
)

INT64_LIMIT = 2**63 - 1
FIELD_LIMIT = 2**31  # layer fields and axis values above this switch to exact object arrays
AXES = ("batch", "resolution", "width")

Dim = Any  # int or numpy array broadcasting over (N, R, w)
Shape = Tuple[Dim, ...]


@dataclass(frozen=True)
class Grid:
    """Totals over a grid: arrays of shape (len(batch), len(resolution), len(width)).

    macs and activations carry the batch; params do not. dtype int64, or object (Python ints)
    when values may exceed int64.
    """

    model: str
    batch: np.ndarray
    resolution: np.ndarray
    width: np.ndarray
    macs: np.ndarray
    params: np.ndarray
    activations: np.ndarray

    @property
    def shape(self) -> Tuple[int, int, int]:
        """(number of batch sizes, resolutions, widths)."""
        return (len(self.batch), len(self.resolution), len(self.width))

    @property
    def size(self) -> int:
        """Number of grid points."""
        return int(self.macs.size)

    def setting(self, index: Tuple[int, int, int]) -> Tuple[int, int, float]:
        """(batch, resolution, width) of one grid index."""
        n, r, w = index
        return int(self.batch[n]), int(self.resolution[r]), float(self.width[w])

    def columns(self) -> Dict[str, np.ndarray]:
        """Flat columns, one entry per point in C order (batch slowest, width fastest)."""
        b, r, w = np.meshgrid(self.batch, self.resolution, self.width, indexing="ij")
        return {"batch": b.ravel(), "resolution": r.ravel(), "width": w.ravel(),
                "macs": self.macs.ravel(), "params": self.params.ravel(), "activations": self.activations.ravel()}


class _Overflow(Exception):
    """An int64 bound was exceeded: evaluate again with object arrays."""


def width_channels(channels: int, widths: np.ndarray) -> np.ndarray:
    """``max(1, round(channels * w))`` for every w: the rule of ``costlab.sweep.widen``.

    np.rint rounds half to even like Python's round(), on the same float64 product.
    """
    scaled = np.rint(channels * np.asarray(widths, dtype=np.float64))
    return np.maximum(1, scaled).astype(np.int64)


def width_plan(graph: Graph) -> Dict[str, str]:
    """Which layers a width multiplier scales: node name -> 'scale' or 'depthwise' (as ``widen`` does).

    Conv outputs scale; a depthwise conv (groups == in == out channels) follows its input; other
    grouped convs are refused; a linear layer scales when a conv or linear layer reads it (later),
    so the classifier keeps its outputs.
    """
    readers: Dict[str, List[Any]] = {}
    for node in graph.nodes:
        for ref in node.inputs:
            readers.setdefault(ref, []).append(node)
    feeds_weighted: Dict[str, bool] = {}
    for node in reversed(graph.nodes):
        feeds_weighted[node.name] = any(isinstance(r.layer, (Conv2d, Linear)) or feeds_weighted.get(r.name, False)
                                        for r in readers.get(node.name, []))
    in_channels: Dict[str, Any] = {}
    if any(isinstance(n.layer, Conv2d) and n.layer.groups > 1 for n in graph.nodes):
        from .analysis import analyze

        in_channels = {r.name: r.in_shapes[0][1] for r in analyze(graph).rows if r.in_shapes and len(r.in_shapes[0]) > 1}
    plan: Dict[str, str] = {}
    for node in graph.nodes:
        layer = node.layer
        if isinstance(layer, Conv2d):
            if layer.groups > 1 and not (layer.groups == layer.out_channels == in_channels.get(node.name)):
                raise CostlabError(f"{graph.name}: layer '{node.name}': a width multiplier does not support grouped convs")
            plan[node.name] = "depthwise" if layer.groups > 1 else "scale"
        elif isinstance(layer, Linear) and feeds_weighted[node.name]:
            plan[node.name] = "scale"
    return plan


class _Context:
    """What the array rules share: the axes, the arithmetic (with its int64 bound) and error reporting."""

    def __init__(self, graph: Graph, batch: np.ndarray, resolution: np.ndarray, width: np.ndarray, exact_objects: bool) -> None:
        self.graph = graph
        self.objects = exact_objects
        dtype = object if exact_objects else np.int64
        self.axes = (np.asarray(batch).astype(dtype).reshape(-1, 1, 1), np.asarray(resolution).astype(dtype).reshape(1, -1, 1))
        self.widths = np.asarray(width, dtype=np.float64).reshape(1, 1, -1)
        self.values = (np.asarray(batch), np.asarray(resolution), np.asarray(width, dtype=np.float64))
        self.node = ""
        self.plan: Dict[str, str] = {}

    def channels(self, count: int) -> Dim:
        scaled = width_channels(count, self.widths)
        return scaled.astype(object) if self.objects else scaled

    def bound(self, value: Dim) -> int:
        if isinstance(value, np.ndarray):
            return int(np.max(np.abs(value))) if value.size else 0
        return abs(int(value))

    def check(self, bound: int) -> None:
        if not self.objects and bound > INT64_LIMIT:
            raise _Overflow

    def mul(self, *factors: Dim) -> Dim:
        """The product, smallest factors first (same-shaped arrays together, then the broadcast)."""
        bound = 1
        for f in factors:
            bound *= self.bound(f)
        self.check(bound)
        scalar = 1
        arrays: Dict[Tuple[int, ...], Any] = {}
        for f in factors:
            if isinstance(f, np.ndarray):
                arrays[f.shape] = arrays[f.shape] * f if f.shape in arrays else f
            else:
                scalar *= int(f)
        result: Dim = scalar
        for shape in sorted(arrays, key=lambda s: int(np.prod(s))):
            result = result * arrays[shape]
        return result

    def add(self, *terms: Dim) -> Dim:
        self.check(sum(self.bound(t) for t in terms))
        total: Dim = 0
        for t in terms:
            total = total + t
        return total

    def require(self, ok: Any, field: str, message: Callable[[Tuple[int, int, int]], str]) -> None:
        """Raise a SpecError naming the layer, the field and the first grid point where ``ok`` is false."""
        if isinstance(ok, np.ndarray):
            ok = ok.astype(bool)  # object arrays compare to arrays of Python bools
            if ok.all():
                return
            full = np.broadcast_to(ok, tuple(len(v) for v in self.values))
            first = np.argwhere(~full)[0]
            index = (int(first[0]), int(first[1]), int(first[2]))
        elif ok:
            return
        else:
            index = (0, 0, 0)
        b, r, w = (v[i] for v, i in zip(self.values, index))
        raise SpecError(f"{message(index)} (at batch {int(b)}, resolution {int(r)}, width {float(w):g})",
                        source=self.graph.source or self.graph.name, layer=self.node, field=field)

    def fail(self, field: str, text: str) -> None:
        self.require(False, field, lambda index: text)


def _at(value: Dim, index: Tuple[int, int, int]) -> int:
    """One dimension's value at a grid index (for error messages)."""
    if isinstance(value, np.ndarray):
        return int(np.broadcast_to(value, np.broadcast_shapes(value.shape, (1, 1, 1)))[
            tuple(min(i, s - 1) for i, s in zip(index, value.shape[-3:]))])
    return int(value)


def _where(condition: Any, a: Dim, b: Dim) -> Dim:
    if isinstance(condition, np.ndarray):
        return np.where(condition, a, b)
    return a if condition else b


def _window(ctx: _Context, size: Dim, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> Dim:
    """PyTorch's sliding-window output length (as ``shapes.window_out``), on arrays."""
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * pad
    ctx.require(padded >= span, "kernel", lambda i: f"kernel {kernel} (span {span}) is larger than the padded input "
                f"{_at(size, i)}+2*{pad}={_at(padded, i)}")
    if not ceil_mode:
        return (padded - span) // stride + 1
    out = -((span - padded) // stride) + 1
    return _where((out - 1) * stride >= size + pad, out - 1, out)  # the last window must start inside


def _same(a: Dim, b: Dim) -> Any:
    return a == b


# ----------------------------------------------------------------------------------------------
# Array rules, one per op family: (ctx, layer, input shapes) -> (out shape, macs, params)

Rule = Callable[[_Context, Any, Tuple[Shape, ...]], Tuple[Shape, Dim, Dim]]
RULES: Dict[type, Rule] = {}


def rule(*classes: type) -> Callable[[Rule], Rule]:
    """Register an array rule for layer classes (one rule per class)."""

    def decorate(fn: Rule) -> Rule:
        for cls in classes:
            if cls in RULES:
                raise RuntimeError(f"{cls.__name__} already has an array rule")
            RULES[cls] = fn
        return fn

    return decorate


def _four_d(ctx: _Context, shape: Shape, what: str) -> None:
    if len(shape) != 4:
        ctx.fail("input", f"{what} needs a CxHxW map, got {len(shape) - 1} dimension(s)")


@rule(Conv2d)
def _conv(ctx: _Context, layer: Conv2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _four_d(ctx, shape, "conv2d")
    n, c_in, h, w = shape
    plan = ctx.plan.get(ctx.node)
    c_out = ctx.channels(layer.out_channels) if plan else layer.out_channels
    g = c_out if plan == "depthwise" else layer.groups
    ctx.require(c_in % g == 0, "groups", lambda i: f"input channels {_at(c_in, i)} do not divide into {_at(g, i)} groups")
    ctx.require(c_out % g == 0, "groups", lambda i: f"out_channels {_at(c_out, i)} do not divide into {_at(g, i)} groups")
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    if layer.padding == "same":
        if layer.stride != (1, 1):
            ctx.fail("padding", "'same' padding needs stride 1 (as in PyTorch)")
        h_out, w_out = h, w
    else:
        ph, pw = conv_padding(layer)  # the formula's own reading of 'valid' and pairs
        h_out, w_out = _window(ctx, h, kh, sh, ph, dh, False), _window(ctx, w, kw, sw, pw, dw, False)
    per_group = c_in // g
    macs = ctx.mul(n, h_out, w_out, kh, kw, c_out, per_group)
    weights = ctx.mul(kh, kw, per_group, c_out)
    return (n, c_out, h_out, w_out), macs, ctx.add(weights, c_out) if layer.bias else weights


@rule(Linear)
def _linear(ctx: _Context, layer: Linear, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) < 2:
        ctx.fail("input", "linear needs a feature dimension")
    *lead, f_in = shape
    f_out = ctx.channels(layer.out_features) if ctx.plan.get(ctx.node) else layer.out_features
    weights = ctx.mul(f_in, f_out)
    return (*lead, f_out), ctx.mul(*lead, f_in, f_out), ctx.add(weights, f_out) if layer.bias else weights


@rule(MaxPool2d, AvgPool2d)
def _pool(ctx: _Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _four_d(ctx, shape, "pooling")
    n, c, h, w = shape
    stride = layer.stride or layer.kernel
    for k, p in zip(layer.kernel, layer.padding):
        if p * 2 > k:
            ctx.fail("padding", f"padding {p} is more than half the kernel {k} (PyTorch refuses it)")
    return (n, c, _window(ctx, h, layer.kernel[0], stride[0], layer.padding[0], 1, layer.ceil_mode),
            _window(ctx, w, layer.kernel[1], stride[1], layer.padding[1], 1, layer.ceil_mode)), 0, 0


@rule(AdaptiveAvgPool2d)
def _adaptive_pool(ctx: _Context, layer: AdaptiveAvgPool2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _four_d(ctx, shape, "pooling")
    return (shape[0], shape[1], *layer.output_size), 0, 0


@rule(Activation, Dropout, Softmax, Identity, LocalResponseNorm)
def _same_shape(ctx: _Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    return ins[0], 0, 0


@rule(BatchNorm2d)
def _batch_norm(ctx: _Context, layer: BatchNorm2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) < 2:
        ctx.fail("input", "batch norm needs a channel dimension")
    return shape, 0, ctx.mul(2, shape[1]) if layer.affine else 0


@rule(GroupNorm)
def _group_norm(ctx: _Context, layer: GroupNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    c = shape[1]
    ctx.require(c % layer.groups == 0, "groups", lambda i: f"{_at(c, i)} channels do not divide into {layer.groups} groups")
    return shape, 0, ctx.mul(2, c) if layer.affine else 0


@rule(LayerNorm)
def _layer_norm(ctx: _Context, layer: LayerNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) <= layer.dims:
        ctx.fail("dims", f"cannot normalize {layer.dims} dimension(s) of a {len(shape) - 1}-d input")
    return shape, 0, ctx.mul(2, *shape[-layer.dims:]) if layer.affine else 0


@rule(Flatten)
def _flatten(ctx: _Context, layer: Flatten, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    return (shape[0], ctx.mul(*shape[1:])), 0, 0


def _require_equal(ctx: _Context, a: Shape, b: Shape, skip: Optional[int], what: str) -> None:
    if len(a) != len(b):
        ctx.fail("inputs", f"{what}: inputs of {len(a) - 1} and {len(b) - 1} dimensions")
    for axis, (x, y) in enumerate(zip(a, b)):
        if axis != skip:
            ctx.require(_same(x, y), "inputs", lambda i: f"{what}: dimension {axis} is {_at(x, i)} and {_at(y, i)}")


@rule(Concat)
def _concat(ctx: _Context, layer: Concat, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    for other in ins[1:]:
        _require_equal(ctx, ins[0], other, 1, "concat of mismatched sizes (all but the channel dimension must agree)")
    return (ins[0][0], ctx.add(*(s[1] for s in ins)), *ins[0][2:]), 0, 0


@rule(Add)
def _add(ctx: _Context, layer: Add, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    for other in ins[1:]:
        _require_equal(ctx, ins[0], other, None, "add of mismatched shapes")
    return ins[0], 0, 0


def _broadcast(ctx: _Context, a: Shape, b: Shape) -> Shape:
    a = (1,) * (len(b) - len(a)) + tuple(a)
    b = (1,) * (len(a) - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        ctx.require((x == 1) | (y == 1) | (x == y), "inputs", lambda i: f"batch dimensions {_at(x, i)} and {_at(y, i)} do not broadcast")
        out.append(_where(x == 1, y, x))
    return tuple(out)


@rule(Matmul)
def _matmul(ctx: _Context, layer: Matmul, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    a, b = ins
    if len(a) < 2 or len(b) < 2:
        ctx.fail("inputs", "matmul needs two inputs of at least 2 dimensions")
    (m, k), (k2, n) = a[-2:], b[-2:]
    ctx.require(_same(k, k2), "inputs", lambda i: f"inner dimensions differ: {_at(k, i)} and {_at(k2, i)}")
    batch = _broadcast(ctx, a[:-2], b[:-2])
    return (*batch, m, n), ctx.mul(*batch, m, k, n), 0


@rule(Attention)
def _attention(ctx: _Context, layer: Attention, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    q, k, v = ins
    if len(q) < 2 or len(k) < 2 or len(v) < 2:
        ctx.fail("inputs", "attention needs q, k, v of at least 2 dimensions")
    (length, e), (s, e2), (s2, ev) = q[-2:], k[-2:], v[-2:]
    ctx.require(_same(e, e2) & _same(s, s2), "inputs", lambda i: "q, k, v do not fit together")
    batch = _broadcast(ctx, q[:-2], _broadcast(ctx, k[:-2], v[:-2]))
    return (*batch, length, ev), ctx.add(ctx.mul(*batch, length, s, e), ctx.mul(*batch, length, s, ev)), 0


@rule(Einsum)
def _einsum(ctx: _Context, layer: Einsum, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    lhs, out_letters = layer.equation.replace(" ", "").split("->")
    sizes: Dict[str, Dim] = {}
    for letters, shape in zip(lhs.split(","), ins):
        if len(letters) != len(shape):
            ctx.fail("equation", f"{letters!r} does not fit a {len(shape)}-d operand")
        sizes.update(zip(letters, shape))
    return tuple(sizes[c] for c in out_letters), ctx.mul(*sizes.values()), 0


# ----------------------------------------------------------------------------------------------


def _small_fields(graph: Graph) -> bool:
    """True when every integer in the layers' fields stays below FIELD_LIMIT (window arithmetic in int64)."""
    for node in graph.nodes:
        for f in fields(node.layer):
            value = getattr(node.layer, f.name)
            items = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= FIELD_LIMIT for v in items):
                return False
    return True


def evaluate_grid(graph: Graph, resolution: Optional[Sequence[int]] = None, width: Optional[Sequence[float]] = None,
                  batch: Sequence[int] = (1,), mode: str = "infer", input_shape: Optional[Tuple[int, ...]] = None) -> Grid:
    """MACs, params and activations of ``graph`` at every (batch, resolution, width) of the grid.

    ``resolution=None`` keeps the input's own height and width (then ``Grid.resolution`` holds its
    height); ``width=None`` leaves channels as they are (``Grid.width`` is [1.0]). Each point equals
    ``analyze(widen(graph, w), (C, R, R), N, mode).total()``; a setting where that analysis would fail
    (a map smaller than a kernel, channels that no longer divide into groups) raises a SpecError
    naming the layer, the field and the first such setting.
    """
    from .analysis import MODES

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if graph.batch is not None or any(n.recorded is not None for n in graph.nodes):
        raise CostlabError(f"{graph.name}: a captured PyTorch model has fixed shapes; evaluate a grid of a spec file or built-in model")
    base = tuple(input_shape) if input_shape is not None else tuple(graph.input_shape)
    if not all(isinstance(d, int) for d in base):
        raise CostlabError(f"{graph.name}: a grid needs a numeric input shape, got {base}")
    if resolution is not None and len(base) != 3:
        raise CostlabError(f"{graph.name}: a resolution axis needs a CxHxW input, got {len(base)} dimension(s)")
    axes = _axes(batch, resolution if resolution is not None else [base[1] if len(base) == 3 else 1], width)
    plan = width_plan(graph) if width is not None else {}
    exact = not (_small_fields(graph) and all(int(np.max(np.abs(a))) < FIELD_LIMIT for a in axes[:2]) and max(base) < FIELD_LIMIT)
    while True:
        try:
            return _evaluate(graph, axes, plan, mode, base, resolution is not None, exact)
        except _Overflow:
            exact = True
        except OverflowError:  # numpy refused a Python int beyond int64: redo with Python ints
            if exact:
                raise
            exact = True


def _axes(batch: Sequence[int], resolution: Sequence[int], width: Optional[Sequence[float]]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(list(batch), dtype=object)
    r = np.asarray(list(resolution), dtype=object)
    for name, values in (("batch", b), ("resolution", r)):
        if values.size == 0 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values):
            raise CostlabError(f"{name}: the grid needs positive integers, got {list(values)[:5]}")
    w = np.asarray([1.0] if width is None else list(width), dtype=np.float64)
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise CostlabError(f"width: multipliers must be finite and positive, got {list(w)[:5]}")
    small = lambda v: v.astype(np.int64) if all(abs(int(x)) < FIELD_LIMIT for x in v) else v  # noqa: E731
    return small(b), small(r), w


def _evaluate(graph: Graph, axes: Tuple[np.ndarray, np.ndarray, np.ndarray], plan: Dict[str, str], mode: str,
              base: Tuple[int, ...], square: bool, exact: bool) -> Grid:
    ctx = _Context(graph, *axes, exact_objects=exact)
    ctx.plan = plan
    n_axis, r_axis = ctx.axes
    spatial = (r_axis, r_axis) if square else tuple(base[1:])
    shapes: Dict[str, Shape] = {INPUT: (n_axis, base[0], *spatial)}
    macs: Dim = 0
    params: Dim = 0
    bounds = [0, 0]
    outputs: Dict[Tuple[Any, ...], List[Any]] = {}  # activation terms by the identity of their dims
    for node in graph.nodes:
        if node.train_only and mode == "infer":
            continue
        fn = RULES.get(type(node.layer))
        if fn is None:
            raise CostlabError(f"{graph.source or graph.name}: layer '{node.name}': grid evaluation has no rule for "
                               f"{type(node.layer).__name__} layers (analyze each setting instead)")
        ctx.node = node.name
        out, layer_macs, layer_params = fn(ctx, node.layer, tuple(shapes[r] for r in node.inputs))
        shapes[node.name] = out
        if not (isinstance(layer_macs, int) and layer_macs == 0):
            bounds[0] += ctx.bound(layer_macs)
            ctx.check(bounds[0])
            macs = macs + layer_macs
        if not (isinstance(layer_params, int) and layer_params == 0):
            bounds[1] += ctx.bound(layer_params)
            ctx.check(bounds[1])
            params = params + layer_params
        key = tuple(d if isinstance(d, int) else id(d) for d in out)
        outputs.setdefault(key, [out, 0])[1] += 1
    activations: Dim = 0
    bound = 0
    for out, count in outputs.values():
        bound += count * _product_bound(ctx, out)
        ctx.check(bound)
        activations = activations + ctx.mul(count, *out)
    full = (len(axes[0]), len(axes[1]), len(axes[2]))
    dtype = object if exact else np.int64

    def spread(value: Dim) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), full))

    resolution_values = axes[1] if square else np.asarray([base[1] if len(base) == 3 else 1])
    return Grid(graph.name, axes[0], resolution_values, axes[2], spread(macs), spread(params), spread(activations))


def _product_bound(ctx: _Context, dims: Shape) -> int:
    bound = 1
    for d in dims:
        bound *= ctx.bound(d)
    return bound
