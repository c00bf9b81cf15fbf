"""Layer descriptions: frozen dataclasses holding exactly what a cost formula needs.

Each class lives with its formula in its family's module under ``costlab.formulas``; this module
gathers them for ``from costlab.layers import Conv2d``, importing a family only when one of its
classes is asked for (costlab/formulas/_index.py says where each class lives). Fields carry a
``kind`` and a doc line (``costlab.fields.spec_field``); ``costlab.fields`` parses spec mappings
into these classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List

from .fields import Ints, spec_field

if TYPE_CHECKING:
    from .formulas.conv import Conv1d, Conv2d, Conv3d
    from .formulas.conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    from .formulas.elementwise import (
        ACTIVATIONS, Activation, Add, CenterCrop, Concat, Dropout, Flatten, Identity, Recorded, Softmax,
    )
    from .formulas.embedding import Embedding, EmbeddingBag
    from .formulas.linear import Bilinear, Linear
    from .formulas.matmul import Attention, Einsum, Matmul
    from .formulas.norm import BatchNorm2d, GroupNorm, InstanceNorm, LayerNorm, LocalResponseNorm, RMSNorm
    from .formulas.pool import (
        AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
        AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d,
    )
    from .formulas.resample import AffineGrid, GridSample, PixelShuffle, PixelUnshuffle, Upsample
    from .formulas.rnn import GRU, LSTM, RNN
    from .formulas.vision import NMS, DeformConv2d, PSRoIAlign, RoIAlign, RoIPool

    BatchNorm = BatchNorm2d

__all__ = [
    "ACTIVATIONS", "Activation", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "Add", "AffineGrid", "Attention", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "BatchNorm", "BatchNorm2d", "Bilinear", "CenterCrop", "Concat", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "DeformConv2d", "Dropout", "Einsum", "Embedding", "EmbeddingBag", "Flatten",
    "GRU", "GridSample", "GroupNorm", "Identity", "InstanceNorm", "Ints", "LSTM", "LayerNorm", "Linear",
    "LocalResponseNorm", "Matmul", "MaxPool1d", "MaxPool2d", "MaxPool3d", "NMS", "PSRoIAlign", "PixelShuffle",
    "PixelUnshuffle", "RMSNorm", "RNN", "Recorded", "RoIAlign", "RoIPool", "Softmax", "Upsample", "spec_field",
]

_OTHER_NAMES = {"BatchNorm": ("norm", "BatchNorm2d"), "ACTIVATIONS": ("elementwise", "ACTIVATIONS")}


def _home(name: str) -> Any:
    """(family module, attribute) of an exported name, from the generated index of layer classes."""
    if name in _OTHER_NAMES:
        return _OTHER_NAMES[name]
    from .formulas._index import CLASSES

    prefix = f"{__package__}.formulas."
    for path in CLASSES:
        module, _, attribute = path.rpartition(".")
        if attribute == name and module.startswith(prefix):
            return module[len(prefix):], attribute
    return None


def __getattr__(name: str) -> Any:
    """Import the family module that defines ``name`` on first use (PEP 562)."""
    home = _home(name) if name in __all__ else None
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__package__}.formulas.{home[0]}"), home[1])
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
