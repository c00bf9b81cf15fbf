"""Array rules, one per op family: the arithmetic of each formula in costlab/formulas on numpy
arrays of sizes, for ``costlab.grid``.

Every dimension is a Python int or an array broadcasting over (batch, resolution, width). The
``Context`` holds the grid's axes, multiplies and adds under an int64 bound (``Overflow`` asks the
caller to evaluate again with Python-int object arrays), and reports a failing setting as a SpecError
naming the layer, the field and the first grid point where it fails, with the formula's own message.

Each rule makes its checks in the order its formula makes them, so the first failing check at a grid
point is the one the numeric analysis reports there. A layer's width-scaled fields (out_channels,
groups, out_features, embedding_dim: see ``costlab.grid.width_plan``) arrive as arrays over the width
axis; the rules read them like any other field.

Op families without a rule, and why: the torchvision detection ops (``roi_pool``, ``roi_align``,
``ps_roi_align``, ``nms``) take boxes whose count is data, found by a captured run; the transformer
families (``positions``, ``position_bias``, ``rotary``, ``attention_scores``, ``attention_values``,
``slice``, ``select_token``, ``unembedding``, ``experts``) and the recurrent ones (``lstm``, ``gru``,
``rnn``) scale with a sequence length, an axis the grid does not have (``costlab sweep --seq``);
``recorded`` rows carry the shapes of one captured run.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from .errors import SpecError
from .formulas.conv import conv_padding
from .formulas.resample import _MODE_RANK
from .graph import Graph
from .keyed import registrar
from .layers import (
    Activation, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
    Add, AffineGrid, Attention, AvgPool1d, AvgPool2d, AvgPool3d, BatchNorm2d, Bilinear, CenterCrop, Concat, Conv1d, Conv2d,
    Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, DeformConv2d, Dropout, Einsum, Embedding, EmbeddingBag, Flatten,
    GridSample, GroupNorm, Identity, InstanceNorm, LayerNorm, Linear, LocalResponseNorm, Matmul, MaxPool1d, MaxPool2d, MaxPool3d,
    PixelShuffle, PixelUnshuffle, RMSNorm, Softmax, Upsample,
)
from .llm.layers import Multiply
from .numbers import is_int
from .shapes import FlatDim, factor_text

INT64_LIMIT = 2**63 - 1
SIZE_LIMIT = 2**62  # a tensor size above this in int64 switches to exact objects (later paddings add to it)
FLOAT_EXACT = 2**53  # int64 sizes below this convert to float64 exactly (upsampling by a fractional scale)

Dim = Any  # int or numpy array broadcasting over (N, R, w)
Shape = Tuple[Dim, ...]
Index = Tuple[int, int, int]


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
        self.flat: Dict[int, Tuple[Any, Shape]] = {}  # id of a flattened array -> (the array, its factors), for messages
        self._channels: Dict[int, Any] = {}

    def channels(self, count: int) -> Dim:
        """``count`` scaled by every width (one shared array per count)."""
        scaled = self._channels.get(count)
        if scaled is None:
            if count * float(np.max(self.widths)) >= SIZE_LIMIT:
                if not self.objects:
                    raise Overflow
                scaled = np.array([max(1, round(count * w)) for w in self.widths.ravel().tolist()], dtype=object).reshape(1, 1, -1)
            else:
                scaled = width_channels(count, self.widths)
                scaled = scaled.astype(object) if self.objects else scaled
            self._channels[count] = scaled
        return scaled

    def bound(self, value: Dim) -> int:
        if isinstance(value, np.ndarray):
            return int(np.max(np.abs(value))) if value.size else 0
        return abs(int(value))

    def check(self, bound: int) -> None:
        if not self.objects and bound > INT64_LIMIT:
            raise Overflow

    def grow(self, size: Dim) -> Dim:
        """A tensor size that may have grown (upsampling, transposed convs): kept below SIZE_LIMIT in int64."""
        if not self.objects and self.bound(size) > SIZE_LIMIT:
            raise Overflow
        return size

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

    def require(self, ok: Any, field: str, message: Callable[[Index], str]) -> None:
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

    def fail(self, field: str, text: Union[str, Callable[[Index], str]]) -> None:
        """Refuse at every setting (the first one named): a check on the layer or on a shape's rank."""
        self.require(False, field, text if callable(text) else lambda index: text)

    def shape_text(self, shape: Shape, index: Index) -> str:
        """``shapes.format_shape`` of the dimensions at a grid index ('480x14x14')."""
        return "x".join(str(_at(d, index)) for d in shape)

    def times_text(self, shape: Shape, index: Index) -> str:
        """``formulas.text.times`` at a grid index: a flattened dimension prints its factors, as FlatDim does."""
        parts = []
        for d in shape:
            entry = self.flat.get(id(d)) if isinstance(d, np.ndarray) else None
            if entry is not None and entry[0] is d:
                factors = [f for f in (_at(f, index) for f in entry[1]) if f != 1] or [1]
                parts.append("x".join(map(str, factors)))
            else:
                parts.append(factor_text(d) if isinstance(d, FlatDim) else str(_at(d, index)))
        return "x".join(parts)


def _at(value: Dim, index: Index) -> int:
    """One dimension's value at a grid index (for error messages)."""
    if isinstance(value, np.ndarray):
        return int(np.broadcast_to(value, np.broadcast_shapes(value.shape, (1, 1, 1)))[
            tuple(min(i, s - 1) for i, s in zip(index, value.shape[-3:]))])
    return int(value)


def _where(condition: Any, a: Dim, b: Dim) -> Dim:
    if isinstance(condition, np.ndarray):
        return np.where(condition, a, b)
    return a if condition else b


def _all(checks: Any) -> Any:
    """The conjunction of elementwise checks (Python bools or arrays); True for none."""
    result: Any = True
    for c in checks:
        result = result & c
    return result


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


# ----------------------------------------------------------------------------------------------
# Array rules, one per op family: (ctx, layer, input shapes) -> (out shape, macs, params)

Rule = Callable[[Context, Any, Tuple[Shape, ...]], Tuple[Shape, Dim, Dim]]
RULES: Dict[type, Rule] = {}


rule = registrar(RULES, "array rule")  # Register an array rule for layer classes (one rule per class).

_AXES = ("L", "HxW", "DxHxW")


def _conv_input(ctx: Context, layer: Any, shape: Shape, what: str) -> Tuple[Dim, Dim, Shape]:
    """(N, C_in, spatial sizes) of a conv's input, checked as ``formulas.conv._channels`` checks it."""
    rank = layer.rank
    if len(shape) != rank + 2:
        axes = _AXES[rank - 1] if rank <= 3 else f"{rank} axes"
        ctx.fail("input", f"{what}{rank}d needs a Cx{axes} map, got {len(shape) - 1} dimension(s)")
    n, c_in = shape[0], shape[1]
    g, c_out = layer.groups, layer.out_channels
    ctx.require(c_in % g == 0, "groups", lambda i: f"input channels {_at(c_in, i)} do not divide into {_at(g, i)} groups")
    ctx.require(c_out % g == 0, "groups", lambda i: f"out_channels {_at(c_out, i)} do not divide into {_at(g, i)} groups")
    return n, c_in, tuple(shape[2:])


@rule(Conv1d, Conv2d, Conv3d)
def _conv(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    n, c_in, sizes = _conv_input(ctx, layer, shape, "conv")
    g, c_out = layer.groups, layer.out_channels
    if isinstance(layer.padding, str) and layer.padding == "same":
        conv_padding(layer)  # refuses a stride (FieldError on 'padding')
        out = sizes
    else:
        pads = conv_padding(layer)  # the formula's own reading of 'valid' and pairs
        out = tuple(_window(ctx, s, k, st, p, d, False)
                    for s, k, st, p, d in zip(sizes, layer.kernel, layer.stride, pads, layer.dilation))
    per_group = c_in // g
    taps = math.prod(layer.kernel)
    macs = ctx.mul(n, *out, c_out, per_group, taps)
    weights = ctx.mul(taps, per_group, c_out)
    return (n, c_out, *out), macs, ctx.add(weights, c_out) if layer.bias else weights


def _no_output(pad: int, size: Dim) -> Callable[[Index], str]:
    return lambda i: f"padding {pad} leaves no output from an input of {_at(size, i)}"


@rule(ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
def _conv_transpose(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    n, c_in, sizes = _conv_input(ctx, layer, shape, "conv_transpose")
    g, c_out = layer.groups, layer.out_channels
    out = []
    for size, k, s, p, op, d in zip(sizes, layer.kernel, layer.stride, layer.padding, layer.output_padding, layer.dilation):
        if op >= s and op >= d:
            ctx.fail("output_padding", f"{op} must be smaller than the stride {s} or the dilation {d} (as in PyTorch)")
        grown = ctx.grow(ctx.add(ctx.mul(size - 1, s), d * (k - 1) + op + 1 - 2 * p))  # (in - 1) s - 2p + d (k - 1) + op + 1
        ctx.require(grown > 0, "padding", _no_output(p, size))
        out.append(grown)
    per_group = c_out // g
    taps = math.prod(layer.kernel)
    macs = ctx.mul(n, *sizes, c_in, per_group, taps)  # the INPUT positions
    weights = ctx.mul(taps, per_group, c_in)
    return (n, c_out, *out), macs, ctx.add(weights, c_out) if layer.bias else weights


@rule(DeformConv2d)
def _deform_conv(ctx: Context, layer: DeformConv2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    out, macs, params = _conv(ctx, layer, ins[:1])
    offset = ins[1]
    taps = math.prod(layer.kernel)

    def message(i: Index) -> str:
        return f"offsets must be (N, 2 x {taps} x offset groups, {ctx.times_text(out[2:], i)}), got {ctx.times_text(offset, i)}"

    if len(offset) != 4:
        ctx.fail("input", message)
    ctx.require(_all((offset[2] == out[2], offset[3] == out[3], offset[1] % (2 * taps) == 0)), "input", message)
    return out, macs, params


def _pool_rank(ctx: Context, layer: Any, shape: Shape) -> None:
    if len(shape) != layer.rank + 2:
        ctx.fail("input", f"{layer.rank}-d pooling needs a Cx{_AXES[layer.rank - 1]} map, got {len(shape) - 1} dimension(s)")


@rule(MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d)
def _pool(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _pool_rank(ctx, layer, shape)
    stride = layer.stride or layer.kernel
    dilation = getattr(layer, "dilation", (1,) * layer.rank)
    for k, p in zip(layer.kernel, layer.padding):
        if p * 2 > k:
            ctx.fail("padding", f"padding {p} is more than half the kernel {k} (PyTorch refuses it)")
    sizes = (_window(ctx, s, k, st, p, d, layer.ceil_mode) for s, k, st, p, d in zip(shape[2:], layer.kernel, stride, layer.padding, dilation))
    return (shape[0], shape[1], *sizes), 0, 0


@rule(AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d)
def _adaptive_pool(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _pool_rank(ctx, layer, shape)
    return (shape[0], shape[1], *layer.output_size), 0, 0


@rule(Activation, Dropout, Softmax, Identity, LocalResponseNorm)
def _same_shape(ctx: Context, layer: Any, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    return ins[0], 0, 0


def _norm_channels(ctx: Context, shape: Shape, what: str) -> Dim:
    if len(shape) < 2:
        ctx.fail("input", f"{what} needs a channel dimension")
    return shape[1]


@rule(BatchNorm2d)
def _batch_norm(ctx: Context, layer: BatchNorm2d, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    c = _norm_channels(ctx, shape, "batch norm")
    return shape, 0, ctx.mul(2, c) if layer.affine else 0


@rule(InstanceNorm)
def _instance_norm(ctx: Context, layer: InstanceNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) < 3:
        ctx.fail("input", "instance norm needs a channel dimension and at least one spatial axis")
    return shape, 0, ctx.mul(2, shape[1]) if layer.affine else 0


@rule(GroupNorm)
def _group_norm(ctx: Context, layer: GroupNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    c = _norm_channels(ctx, shape, "group norm")
    ctx.require(c % layer.groups == 0, "groups", lambda i: f"{_at(c, i)} channels do not divide into {layer.groups} groups")
    return shape, 0, ctx.mul(2, c) if layer.affine else 0


def _trailing(ctx: Context, layer: Any, shape: Shape) -> Shape:
    if len(shape) <= layer.dims:
        ctx.fail("dims", f"cannot normalize {layer.dims} dimension(s) of a {len(shape) - 1}-d input")
    return tuple(shape[-layer.dims:])


@rule(LayerNorm)
def _layer_norm(ctx: Context, layer: LayerNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    normalized = _trailing(ctx, layer, shape)
    return shape, 0, ctx.mul(2, *normalized) if layer.affine else 0


@rule(RMSNorm)
def _rms_norm(ctx: Context, layer: RMSNorm, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    normalized = _trailing(ctx, layer, shape)
    return shape, 0, ctx.mul(*normalized) if layer.affine else 0  # a scale, no shift


@rule(Flatten)
def _flatten(ctx: Context, layer: Flatten, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    rest = tuple(shape[1:])
    if len(rest) == 3:
        rest = (rest[1], rest[2], rest[0])  # the paper's HxWxC order, as the formula's FlatDim
    if all(is_int(d) for d in rest):
        return (shape[0], FlatDim(rest)), 0, 0
    flat = ctx.mul(*rest)
    if isinstance(flat, np.ndarray):
        ctx.flat[id(flat)] = (flat, rest)
    return (shape[0], flat), 0, 0


def _require_same(ctx: Context, a: Shape, b: Shape, skip: Optional[int], field: str, message: Callable[[Index], str]) -> None:
    """Every dimension of a and b equal (but ``skip``), else ``message`` at the first setting where one is not."""
    if len(a) != len(b):
        ctx.fail(field, message)
    ctx.require(_all(x == y for axis, (x, y) in enumerate(zip(a, b)) if axis != skip), field, message)


def _mismatch(ctx: Context, before: str, a: Shape, b: Shape, after: str = "") -> Callable[[Index], str]:
    """'BEFORE A and BAFTER' with both shapes at the failing grid point."""
    return lambda i: f"{before} {ctx.shape_text(a, i)} and {ctx.shape_text(b, i)}{after}"


@rule(Concat)
def _concat(ctx: Context, layer: Concat, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    first = ins[0]
    for other in ins[1:]:
        _require_same(ctx, first, other, 1, "inputs", _mismatch(ctx, "concat of mismatched sizes:", first[1:], other[1:],
                                                                " (all but the channel dimension must agree)"))
    return (first[0], ctx.add(*(s[1] for s in ins)), *first[2:]), 0, 0


@rule(Add)
def _add(ctx: Context, layer: Add, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    first = ins[0]
    for other in ins[1:]:
        _require_same(ctx, first, other, None, "inputs", _mismatch(ctx, "add of mismatched shapes:", first[1:], other[1:]))
    return first, 0, 0


@rule(Multiply)
def _multiply(ctx: Context, layer: Multiply, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    a, b = ins
    _require_same(ctx, a, b, None, "inputs", _mismatch(ctx, "multiply of mismatched shapes:", a, b))
    return a, 0, 0


@rule(CenterCrop)
def _center_crop(ctx: Context, layer: CenterCrop, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    x, ref = ins
    if len(x) != len(ref) or len(x) < 3:
        ctx.fail("input", _mismatch(ctx, "crop needs two maps of the same rank, got", x[1:], ref[1:]))
    ctx.require(_all(want <= have for have, want in zip(x[2:], ref[2:])), "input",
                lambda i: f"cannot crop {ctx.shape_text(x[2:], i)} to the larger {ctx.shape_text(ref[2:], i)}")
    return (*x[:2], *ref[2:]), 0, 0


def _scaled(ctx: Context, size: Dim, scale: Any) -> Dim:
    """floor(size * scale) as ``formulas.resample._scaled``: an integer scale exactly, another on the same float64 product."""
    if is_int(scale) or float(scale).is_integer():
        return ctx.grow(ctx.mul(size, int(scale)))
    if not isinstance(size, np.ndarray):
        return math.floor(size * scale)
    if not ctx.objects and (ctx.bound(size) >= FLOAT_EXACT or ctx.bound(size) * scale >= SIZE_LIMIT):
        raise Overflow
    if ctx.objects:
        return np.frompyfunc(lambda v: math.floor(v * scale), 1, 1)(size)
    return np.floor(size * scale).astype(np.int64)


@rule(Upsample)
def _upsample(ctx: Context, layer: Upsample, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    rank = len(shape) - 2
    if rank < 1:
        ctx.fail("input", "upsampling needs a channel dimension and at least one spatial axis")
    if (layer.size is None) == (layer.scale_factor is None):
        ctx.fail("size", "give exactly one of size and scale_factor")
    wanted = _MODE_RANK.get(layer.mode)
    if wanted is not None and wanted != rank:
        ctx.fail("mode", lambda i: f"{layer.mode} needs a {wanted}-d map, got {rank}-d {ctx.shape_text(shape[1:], i)}")
    if layer.align_corners is not None and layer.mode not in _MODE_RANK:
        ctx.fail("align_corners", f"only for linear modes, not {layer.mode} (as in PyTorch)")
    given = layer.size if layer.size is not None else layer.scale_factor
    values = given * rank if len(given) == 1 else given
    if len(values) != rank:
        ctx.fail("size" if layer.size is not None else "scale_factor", f"{len(values)} values for a {rank}-d map")
    sizes = tuple(values) if layer.size is not None else tuple(_scaled(ctx, n, s) for n, s in zip(shape[2:], values))
    return (shape[0], shape[1], *sizes), 0, 0


def _shuffle_input(ctx: Context, shape: Shape) -> None:
    if len(shape) != 4:
        ctx.fail("input", f"pixel shuffle needs a CxHxW map, got {len(shape) - 1} dimension(s)")


@rule(PixelShuffle)
def _pixel_shuffle(ctx: Context, layer: PixelShuffle, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _shuffle_input(ctx, shape)
    n, c, h, w = shape
    r = layer.upscale_factor
    ctx.require(c % (r * r) == 0, "upscale_factor", lambda i: f"{_at(c, i)} channels do not divide by {r}x{r}")
    return (n, c // (r * r), ctx.grow(ctx.mul(h, r)), ctx.grow(ctx.mul(w, r))), 0, 0


@rule(PixelUnshuffle)
def _pixel_unshuffle(ctx: Context, layer: PixelUnshuffle, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    _shuffle_input(ctx, shape)
    n, c, h, w = shape
    r = layer.downscale_factor
    ctx.require((h % r == 0) & (w % r == 0), "downscale_factor", lambda i: f"{_at(h, i)}x{_at(w, i)} does not divide by {r}")
    return (n, ctx.mul(c, r, r), h // r, w // r), 0, 0


@rule(GridSample)
def _grid_sample(ctx: Context, layer: GridSample, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    x, grid = ins
    rank = len(x) - 2

    def message(i: Index) -> str:
        return f"grid_sample needs (N, C, *{rank} sizes) and a grid (N, *sizes, {rank}), got {ctx.times_text(x, i)} and {ctx.times_text(grid, i)}"

    if rank not in (2, 3) or len(grid) != rank + 2:
        ctx.fail("input", message)
    ctx.require(_all((grid[-1] == rank, grid[0] == x[0])), "input", message)
    if layer.mode == "bicubic" and rank == 3:
        ctx.fail("mode", "bicubic sampling needs a 4-d input (as in PyTorch)")
    return (x[0], x[1], *grid[1:-1]), 0, 0


@rule(AffineGrid)
def _affine_grid(ctx: Context, layer: AffineGrid, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (theta,) = ins
    r = len(layer.size)

    def message(i: Index) -> str:
        return f"affine_grid of {r} sizes needs theta of shape Nx{r}x{r + 1}, got {ctx.times_text(theta, i)}"

    if r not in (2, 3) or len(theta) != 3:
        ctx.fail("input", message)
    ctx.require(_all((theta[1] == r, theta[2] == r + 1)), "input", message)
    n = theta[0]
    return (n, *layer.size, r), ctx.mul(n, *layer.size, r, r + 1), 0


@rule(Linear)
def _linear(ctx: Context, layer: Linear, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) < 2:
        ctx.fail("input", "linear needs a feature dimension")
    *lead, f_in = shape
    f_out = layer.out_features
    weights = ctx.mul(f_in, f_out)
    return (*lead, f_out), ctx.mul(*lead, f_in, f_out), ctx.add(weights, f_out) if layer.bias else weights


@rule(Bilinear)
def _bilinear(ctx: Context, layer: Bilinear, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    a, b = ins

    def message(i: Index) -> str:
        return f"bilinear needs two inputs with the same leading dimensions, got {ctx.times_text(a, i)} and {ctx.times_text(b, i)}"

    if len(a) < 2 or len(a) != len(b):
        ctx.fail("input", message)
    ctx.require(_all(x == y for x, y in zip(a[:-1], b[:-1])), "input", message)
    *lead, in1 = a
    in2, f_out = b[-1], layer.out_features
    macs = ctx.add(ctx.mul(*lead, f_out, in1, in2), ctx.mul(*lead, f_out, in2))  # x1 against the weight, then against x2
    weights = ctx.mul(f_out, in1, in2)
    return (*lead, f_out), macs, ctx.add(weights, f_out) if layer.bias else weights


@rule(Embedding)
def _embedding(ctx: Context, layer: Embedding, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    return (*shape, layer.embedding_dim), 0, ctx.mul(layer.num_embeddings, layer.embedding_dim)


@rule(EmbeddingBag)
def _embedding_bag(ctx: Context, layer: EmbeddingBag, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    (shape,) = ins
    if len(shape) != 2:
        ctx.fail("input", lambda i: f"embedding_bag needs bags of ids (N, L), got {ctx.times_text(shape, i)}")
    return (shape[0], layer.embedding_dim), 0, ctx.mul(layer.num_embeddings, layer.embedding_dim)


def _broadcast(ctx: Context, a: Shape, b: Shape) -> Shape:
    """NumPy broadcasting of two batch shapes (``formulas.matmul.broadcast``)."""
    out = []
    for x, y in zip((1,) * (len(b) - len(a)) + tuple(a), (1,) * (len(a) - len(b)) + tuple(b)):
        ctx.require((x == 1) | (y == 1) | (x == y), "inputs",
                    lambda i: f"batch dimensions {ctx.times_text(a, i)} and {ctx.times_text(b, i)} do not broadcast")
        out.append(_where(x == 1, y, x))
    return tuple(out)


@rule(Matmul)
def _matmul(ctx: Context, layer: Matmul, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    a, b = ins
    if len(a) < 2 or len(b) < 2:
        ctx.fail("inputs", "matmul needs two inputs of at least 2 dimensions")
    (m, k), (k2, n) = a[-2:], b[-2:]
    ctx.require(k == k2, "inputs", lambda i: f"inner dimensions differ: {ctx.times_text(a, i)} @ {ctx.times_text(b, i)}")
    batch = _broadcast(ctx, a[:-2], b[:-2])
    return (*batch, m, n), ctx.mul(*batch, m, k, n), 0


@rule(Attention)
def _attention(ctx: Context, layer: Attention, ins: Tuple[Shape, ...]) -> Tuple[Shape, Dim, Dim]:
    q, k, v = ins
    if len(q) < 2 or len(k) < 2 or len(v) < 2:
        ctx.fail("inputs", "attention needs q, k, v of at least 2 dimensions")
    (length, e), (s, e2), (s2, ev) = q[-2:], k[-2:], v[-2:]
    ctx.require((e == e2) & (s == s2), "inputs",
                lambda i: f"q {ctx.times_text(q, i)}, k {ctx.times_text(k, i)}, v {ctx.times_text(v, i)} do not fit together")
    kv_batch = _broadcast(ctx, k[:-2], v[:-2])
    if layer.gqa and len(q) >= 3 and len(kv_batch) >= 1:
        heads, kv_heads = q[-3], kv_batch[-1]
        ctx.require(heads % kv_heads == 0, "inputs", lambda i: f"grouped-query attention: {_at(heads, i)} query heads do not divide "
                    f"into {_at(kv_heads, i)} key/value heads")
        kv_batch = (*kv_batch[:-1], heads)  # each key/value head serves q_heads / kv_heads query heads
    batch = _broadcast(ctx, q[:-2], kv_batch)
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
