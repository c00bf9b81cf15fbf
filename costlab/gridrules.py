"""Array rules, one per op family: the arithmetic of each formula in costlab/formulas on numpy
arrays of sizes, for ``costlab.grid``.

Every dimension is a Python int or an array broadcasting over (batch, resolution, width). The
``Context`` holds the grid's axes, multiplies and adds under an int64 bound (``Overflow`` asks the
caller to evaluate again with Python-int object arrays), and reports a failing setting as a SpecError
naming the layer, the field and the first grid point where it fails.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from .errors import SpecError
from .formulas.conv import conv_padding
from .graph import Graph
from .keyed import registrar
from .layers import (
    Activation, AdaptiveAvgPool2d, Add, Attention, AvgPool2d, BatchNorm2d, Concat, Conv2d, Dropout, Einsum, Flatten, GroupNorm,
    Identity, LayerNorm, Linear, LocalResponseNorm, Matmul, MaxPool2d, Softmax,
)

INT64_LIMIT = 2**63 - 1

Dim = Any  # int or numpy array broadcasting over (N, R, w)
Shape = Tuple[Dim, ...]


class Overflow(Exception):
    """An int64 bound was exceeded: evaluate again with object arrays."""

def width_channels(channels: int, widths: np.ndarray) -> np.ndarray:
    """``max(1, round(channels * w))`` for every w: the rule of ``costlab.sweep.widen``.

    np.rint rounds half to even like Python's round(), on the same float64 product.
    """
    scaled = np.rint(channels * np.asarray(widths, dtype=np.float64))
    return np.maximum(1, scaled).astype(np.int64)

class Context:
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
            raise Overflow

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


def _window(ctx: Context, size: Dim, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> Dim:
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


def _pair_message(before: str, x: Dim, y: Dim, after: str) -> Callable[[Tuple[int, int, int]], str]:
    """'BEFORE X and Y AFTER' with both dimensions' values at the failing grid point."""
    return lambda i: f"{before} {_at(x, i)} and {_at(y, i)}{after}"


# ----------------------------------------------------------------------------------------------
# Array rules, one per op family: (ctx, layer, input shapes) -> (out shape, macs, params)

Rule = Callable[[Context, Any, Tuple[Shape, ...]], Tuple[Shape, Dim, Dim]]
RULES: Dict[type, Rule] = {}


rule = registrar(RULES, "array rule")  # Register an array rule for layer classes (one rule per class).


def _four_d(ctx: Context, shape: Shape, what: str) -> None:
    if len(shape) != 4:
        ctx.fail("input", f"{what} needs a CxHxW map, got {len(shape) - 1} dimension(s)")


@rule(Conv2d)
def _conv(ctx: Context, layer: Conv2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
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
def _linear(ctx: Context, layer: Linear, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) < 2:
        ctx.fail("input", "linear needs a feature dimension")
    *lead, f_in = shape
    f_out = ctx.channels(layer.out_features) if ctx.plan.get(ctx.node) else layer.out_features
    weights = ctx.mul(f_in, f_out)
    return (*lead, f_out), ctx.mul(*lead, f_in, f_out), ctx.add(weights, f_out) if layer.bias else weights


@rule(MaxPool2d, AvgPool2d)
def _pool(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
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
def _adaptive_pool(ctx: Context, layer: AdaptiveAvgPool2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _four_d(ctx, shape, "pooling")
    return (shape[0], shape[1], *layer.output_size), 0, 0


@rule(Activation, Dropout, Softmax, Identity, LocalResponseNorm)
def _same_shape(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    return ins[0], 0, 0


@rule(BatchNorm2d)
def _batch_norm(ctx: Context, layer: BatchNorm2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) < 2:
        ctx.fail("input", "batch norm needs a channel dimension")
    return shape, 0, ctx.mul(2, shape[1]) if layer.affine else 0


@rule(GroupNorm)
def _group_norm(ctx: Context, layer: GroupNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    c = shape[1]
    ctx.require(c % layer.groups == 0, "groups", lambda i: f"{_at(c, i)} channels do not divide into {layer.groups} groups")
    return shape, 0, ctx.mul(2, c) if layer.affine else 0


@rule(LayerNorm)
def _layer_norm(ctx: Context, layer: LayerNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) <= layer.dims:
        ctx.fail("dims", f"cannot normalize {layer.dims} dimension(s) of a {len(shape) - 1}-d input")
    return shape, 0, ctx.mul(2, *shape[-layer.dims:]) if layer.affine else 0


@rule(Flatten)
def _flatten(ctx: Context, layer: Flatten, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    return (shape[0], ctx.mul(*shape[1:])), 0, 0


def _require_equal(ctx: Context, a: Shape, b: Shape, skip: Optional[int], what: str) -> None:
    if len(a) != len(b):
        ctx.fail("inputs", f"{what}: inputs of {len(a) - 1} and {len(b) - 1} dimensions")
    for axis, (x, y) in enumerate(zip(a, b)):
        if axis != skip:
            ctx.require(_same(x, y), "inputs", _pair_message(f"{what}: dimension {axis} is", x, y, ""))


@rule(Concat)
def _concat(ctx: Context, layer: Concat, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    for other in ins[1:]:
        _require_equal(ctx, ins[0], other, 1, "concat of mismatched sizes (all but the channel dimension must agree)")
    return (ins[0][0], ctx.add(*(s[1] for s in ins)), *ins[0][2:]), 0, 0


@rule(Add)
def _add(ctx: Context, layer: Add, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    for other in ins[1:]:
        _require_equal(ctx, ins[0], other, None, "add of mismatched shapes")
    return ins[0], 0, 0


def _broadcast(ctx: Context, a: Shape, b: Shape) -> Shape:
    a = (1,) * (len(b) - len(a)) + tuple(a)
    b = (1,) * (len(a) - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        ctx.require((x == 1) | (y == 1) | (x == y), "inputs", _pair_message("batch dimensions", x, y, " do not broadcast"))
        out.append(_where(x == 1, y, x))
    return tuple(out)


@rule(Matmul)
def _matmul(ctx: Context, layer: Matmul, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    a, b = ins
    if len(a) < 2 or len(b) < 2:
        ctx.fail("inputs", "matmul needs two inputs of at least 2 dimensions")
    (m, k), (k2, n) = a[-2:], b[-2:]
    ctx.require(_same(k, k2), "inputs", lambda i: f"inner dimensions differ: {_at(k, i)} and {_at(k2, i)}")
    batch = _broadcast(ctx, a[:-2], b[:-2])
    return (*batch, m, n), ctx.mul(*batch, m, k, n), 0


@rule(Attention)
def _attention(ctx: Context, layer: Attention, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    q, k, v = ins
    if len(q) < 2 or len(k) < 2 or len(v) < 2:
        ctx.fail("inputs", "attention needs q, k, v of at least 2 dimensions")
    (length, e), (s, e2), (s2, ev) = q[-2:], k[-2:], v[-2:]
    ctx.require(_same(e, e2) & _same(s, s2), "inputs", lambda i: "q, k, v do not fit together")
    batch = _broadcast(ctx, q[:-2], _broadcast(ctx, k[:-2], v[:-2]))
    return (*batch, length, ev), ctx.add(ctx.mul(*batch, length, s, e), ctx.mul(*batch, length, s, ev)), 0


@rule(Einsum)
def _einsum(ctx: Context, layer: Einsum, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    lhs, out_letters = layer.equation.replace(" ", "").split("->")
    sizes: Dict[str, Dim] = {}
    for letters, shape in zip(lhs.split(","), ins):
        if len(letters) != len(shape):
            ctx.fail("equation", f"{letters!r} does not fit a {len(shape)}-d operand")
        sizes.update(zip(letters, shape))
    return tuple(sizes[c] for c in out_letters), ctx.mul(*sizes.values()), 0
