"""Layer descriptions: frozen dataclasses holding exactly what a cost formula needs.

Each field carries a ``kind`` (how a spec file spells it and which values are valid) and a doc
line; ``costlab.fields`` parses spec mappings into these classes generically.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field
from typing import Any, Tuple, Union

Pair = Tuple[int, int]
Padding = Union[Pair, str]  # (pad_h, pad_w) or "same"


def spec_field(kind: str, default: Any = MISSING, doc: str = "") -> Any:
    """A dataclass field with its spec kind (channels, count, pair, padding, bool, prob, choice...)."""
    return field(default=default, metadata={"kind": kind, "doc": doc})


@dataclass(frozen=True)
class Conv2d:
    """2-D convolution (torch.nn.Conv2d)."""

    out_channels: int = spec_field("channels", doc="output channels")
    kernel: Pair = spec_field("pair", doc="kernel size, k or [kh, kw]")
    stride: Pair = spec_field("pair", (1, 1), "stride")
    padding: Padding = spec_field("padding", (0, 0), "zero padding per side, or 'same' / 'valid'")
    dilation: Pair = spec_field("pair", (1, 1), "dilation")
    groups: int = spec_field("count", 1, "groups (in and out channels must divide by it)")
    bias: bool = spec_field("bool", True, "add a bias per output channel")


@dataclass(frozen=True)
class Linear:
    """Fully connected layer over the last dimension (torch.nn.Linear)."""

    out_features: int = spec_field("channels", doc="output features")
    bias: bool = spec_field("bool", True, "add a bias per output feature")


@dataclass(frozen=True)
class _Pool2d:
    """The window of a max or average pool."""

    kernel: Pair = spec_field("pair", doc="window size")
    stride: Pair = spec_field("pair_or_none", None, "stride (default: the kernel size)")
    padding: Pair = spec_field("pad_pair", (0, 0), "padding per side")
    ceil_mode: bool = spec_field("bool", False, "round output sizes up (Caffe / GoogLeNet)")


@dataclass(frozen=True)
class MaxPool2d(_Pool2d):
    """Max pooling (torch.nn.MaxPool2d)."""


@dataclass(frozen=True)
class AvgPool2d(_Pool2d):
    """Average pooling (torch.nn.AvgPool2d)."""


@dataclass(frozen=True)
class AdaptiveAvgPool2d:
    """Adaptive average pooling to a fixed output size; global average pooling is output 1x1."""

    output_size: Pair = spec_field("pair", (1, 1), "output size, default 1 (global pooling)")


@dataclass(frozen=True)
class BatchNorm2d:
    """Batch normalization over channels (torch.nn.BatchNorm2d)."""

    affine: bool = spec_field("bool", True, "learnable scale and shift (2 params per channel)")


@dataclass(frozen=True)
class LocalResponseNorm:
    """Local response normalization across channels (AlexNet, GoogLeNet)."""

    size: int = spec_field("count", 5, "channels in the normalization window")


@dataclass(frozen=True)
class Activation:
    """Elementwise nonlinearity (ReLU and friends)."""

    kind: str = spec_field("activation", "relu", "relu, relu6, gelu, silu, sigmoid, tanh, hardswish")


@dataclass(frozen=True)
class Dropout:
    """Dropout: free at inference, listed for completeness."""

    p: float = spec_field("prob", 0.5, "drop probability in [0, 1)")


@dataclass(frozen=True)
class Flatten:
    """Flatten everything after the batch dimension (torch.flatten(x, 1))."""


@dataclass(frozen=True)
class Softmax:
    """Softmax over the feature dimension."""


@dataclass(frozen=True)
class Concat:
    """Concatenate inputs along channels (Inception's filter concatenation)."""


@dataclass(frozen=True)
class Add:
    """Elementwise sum of inputs of the same shape (residual connection)."""


@dataclass(frozen=True)
class Identity:
    """Pass-through (an identity shortcut)."""


ACTIVATIONS = ("relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish", "leaky_relu")


@dataclass(frozen=True)
class LayerNorm:
    """Layer normalization over the last ``dims`` dimensions (torch.nn.LayerNorm)."""

    dims: int = spec_field("count", 1, "how many trailing dimensions are normalized")
    affine: bool = spec_field("bool", True, "learnable scale and shift (2 params per normalized element)")


@dataclass(frozen=True)
class GroupNorm:
    """Group normalization over channels (torch.nn.GroupNorm)."""

    groups: int = spec_field("count", doc="channel groups")
    affine: bool = spec_field("bool", True, "learnable scale and shift (2 params per channel)")


@dataclass(frozen=True)
class Matmul:
    """Batched matrix product of two inputs (..., m, k) @ (..., k, n), batch dims broadcast."""


@dataclass(frozen=True)
class Attention:
    """Scaled dot-product attention of q (..., L, E), k (..., S, E), v (..., S, Ev)."""


@dataclass(frozen=True)
class Recorded:
    """A captured op costlab counts as 0 MACs (elementwise, reductions, ...), with PyTorch's output shape.

    Only the torch bridge creates these; ``supported=False`` marks an op costlab has no rule for.
    """

    kind: str
    out_shape: Tuple[int, ...]
    supported: bool = True


@dataclass(frozen=True)
class Einsum:
    """torch.einsum of two operands, e.g. 'bhid,bhjd->bhij' (captured models)."""

    equation: str
