"""Bytes moved, arithmetic intensity and the roofline bound, per layer (pure; symbolic shapes work too).

A layer reads its inputs and its parameters and writes its output once, at ``dtype`` bytes per
element: bytes = (input elements + params + output elements) x bytes per element. Intensity is
FLOPs (2 per MAC) per byte. The roofline bound of a device is min(peak FLOP/s, bandwidth x intensity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional

from .errors import CostlabError
from .shapes import product

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class Traffic:
    """Bytes one layer moves: weights read, inputs read, output written."""

    weights: Any
    inputs: Any
    outputs: Any

    @property
    def total(self) -> Any:
        return self.weights + self.inputs + self.outputs


def traffic(row: Any, dtype: str = "float32") -> Traffic:
    """Bytes of one analysis row at ``dtype`` (float32, bfloat16, float16)."""
    size = DTYPE_BYTES[dtype]
    inputs = sum((product(s) for s in row.in_shapes), 0)
    return Traffic(row.params * size, inputs * size, row.activations * size)


def intensity(row: Any, dtype: str = "float32") -> Optional[float]:
    """FLOPs (2 x MACs) per byte moved; None for a layer that moves nothing."""
    moved = traffic(row, dtype).total
    return None if not moved else 2 * row.macs / moved


@dataclass(frozen=True)
class Device:
    """Peak dense FLOP/s per dtype and memory bandwidth (bytes/s)."""

    name: str
    peak_flops: Dict[str, float]
    bandwidth: float
    source: str

    def __post_init__(self) -> None:
        """Every rate finite and positive (--peak-tflops nan or inf drew a meaningless roofline)."""
        rates = [(f"peak {dtype} FLOP/s (--peak-tflops)", v) for dtype, v in self.peak_flops.items()]
        for what, value in [*rates, ("bandwidth (--bandwidth-gbs)", self.bandwidth)]:
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise CostlabError(f"roofline of {self.name}: the {what} must be a finite positive number, got {value!r}")

    def bound(self, intensity_: Optional[float], dtype: str) -> float:
        """The roofline's attainable FLOP/s at an intensity."""
        peak = self.peak_flops[dtype]
        return peak if intensity_ is None else min(peak, self.bandwidth * intensity_)


# Vendor datasheet numbers (dense, without sparsity): NVIDIA H100 SXM5 and H200 datasheets, A100 80GB SXM datasheet.
DEVICES = {
    "h100": Device("NVIDIA H100 SXM", {"float32": 67e12, "bfloat16": 989.4e12, "float16": 989.4e12}, 3.35e12, "NVIDIA H100 datasheet"),
    "h200": Device("NVIDIA H200 SXM", {"float32": 67e12, "bfloat16": 989.4e12, "float16": 989.4e12}, 4.8e12, "NVIDIA H200 datasheet"),
    "a100": Device("NVIDIA A100 SXM 80GB", {"float32": 19.5e12, "bfloat16": 312e12, "float16": 312e12}, 2.039e12, "NVIDIA A100 datasheet"),
}


def known_device(name: str) -> Optional[Device]:
    """A datasheet device whose key appears in a device name ('NVIDIA H100 80GB HBM3' -> h100)."""
    lowered = name.lower()
    return next((d for key, d in DEVICES.items() if key in lowered), None)
