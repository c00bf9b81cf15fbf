"""What a model is fed: one CxHxW image, or several named/positional tensors, or a Python factory.

The ``--input`` syntax (shapes never include the batch; ``--batch`` is prepended):

- ``3x224x224``                                  one float image (spec files and PyTorch models)
- ``3x16x112x112``                               one video clip (C x T x H x W)
- ``3x520x960,3x520x960``                        two positional inputs (RAFT's image1, image2)
- ``input_ids:128:int64,attention_mask:128:int64`` keyword arguments to forward, with dtypes
- ``128:int64``                                  a positional integer input (token ids)
- ``mymod:make_inputs``                          a Python function returning the example inputs:
  a tensor, a tuple/list of positional tensors, a dict of keyword tensors, or (args, kwargs)

Integer inputs are filled with zeros (a valid index into any embedding), float inputs with
seeded random values when real tensors are needed. Only the torch bridge turns these into tensors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple, Union

from .errors import SpecError
from .shapes import Shape, format_shape, parse_dim, parse_input

DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")
_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class TensorInput:
    """One input tensor: its shape without the batch, its dtype, and its keyword (None: positional)."""

    shape: Shape
    dtype: str = "float32"
    name: Optional[str] = None

    def text(self) -> str:
        """The --input text for this tensor: 'input_ids:128:int64', '3x224x224'."""
        parts = ([self.name] if self.name else []) + [format_shape(self.shape)]
        if self.dtype != "float32":
            parts.append(self.dtype)
        return ":".join(parts)


@dataclass(frozen=True)
class Inputs:
    """Several inputs (or a factory that makes them); a single plain float image stays a Shape."""

    tensors: Tuple[TensorInput, ...] = ()
    factory: Optional[str] = None  # 'module:function' returning example inputs

    @property
    def shape(self) -> Shape:
        """The first tensor's shape (what single-input code, such as ``Analysis.input``, shows)."""
        return self.tensors[0].shape if self.tensors else ()

    def text(self) -> str:
        """The --input text these inputs were parsed from (normalised)."""
        return self.factory or ",".join(t.text() for t in self.tensors)


InputSpec = Union[Shape, Inputs]


def parse_inputs(text: str) -> InputSpec:
    """Parse an --input value: a plain 'CxHxW' is returned as a Shape (every existing caller keeps
    working); anything else becomes ``Inputs``. ValueError with the offending part otherwise."""
    text = text.strip()
    if _FACTORY.match(text) and text.rsplit(":", 1)[1] not in DTYPES:
        return Inputs(factory=text)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1 and ":" not in parts[0]:
        return parse_input(parts[0])
    tensors = tuple(_tensor(p, text) for p in parts)
    names = [t.name for t in tensors if t.name]
    if len(set(names)) != len(names):
        raise ValueError(f"input {text!r}: a keyword is given twice")
    keyword = [t.name is not None for t in tensors]
    if keyword != sorted(keyword):
        raise ValueError(f"input {text!r}: positional inputs come before keyword inputs (name:shape[:dtype])")
    return Inputs(tensors)


def _tensor(part: str, whole: str) -> TensorInput:
    fields = part.split(":")
    name: Optional[str] = None
    dtype = "float32"
    if fields and fields[-1] in DTYPES:
        dtype = fields.pop()
    if len(fields) == 2:
        name = fields.pop(0)
        if not _IDENTIFIER.match(name):
            raise ValueError(f"input {whole!r}: {name!r} is not a keyword argument name")
    if len(fields) != 1 or not fields[0]:
        raise ValueError(f"input {whole!r}: {part!r} is not [name:]shape[:dtype] (e.g. input_ids:128:int64; "
                         f"dtypes: {', '.join(DTYPES)})")
    shape = tuple(parse_dim(d, "input dimension") for d in re.split(r"[x×*]", fields[0]))
    return TensorInput(shape, dtype, name)


def plain_shape(spec: Optional[InputSpec], where: str) -> Optional[Shape]:
    """The CxHxW shape of a single float image; a SpecError naming ``where`` and the field 'input' for anything
    else (a spec file describes a network fed one image)."""
    if spec is None or not isinstance(spec, Inputs):
        return spec
    if spec.factory is None and len(spec.tensors) == 1 and spec.tensors[0].name is None and spec.tensors[0].dtype == "float32":
        return spec.tensors[0].shape
    raise SpecError(f"a spec model takes one input shape CxHxW; {spec.text()!r} is for PyTorch models", source=where, field="input")
