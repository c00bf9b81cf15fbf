"""Composite blocks written as plain spec data, so they expand through the same loader as files.

The Inception modules of "Going deeper with convolutions" (Szegedy et al., 2014, Figure 2) are
described by the six numbers of Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from .errors import FieldError
from .numbers import is_int

NUMBER_NAMES = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
Spec = Dict[str, Any]


def six_numbers(spec: Mapping[str, Any]) -> List[int]:
    """The paper's six numbers from a block spec's ``numbers`` field."""
    numbers = spec.get("numbers")
    if not isinstance(numbers, list) or len(numbers) != 6:
        raise FieldError("numbers", f"must list the paper's six numbers ({', '.join(NUMBER_NAMES)}), got {numbers!r}")
    for label, value in zip(NUMBER_NAMES, numbers):
        if not is_int(value) or value <= 0:
            raise FieldError("numbers", f"{label} must be a positive integer, got {value!r}")
    return list(numbers)


def _conv_relu(name: str, out: int, k: int, bias: bool, relu: str = "relu") -> List[Spec]:
    return [
        {"type": "conv2d", "name": name, "out_channels": out, "kernel": k, "padding": k // 2, "bias": bias},
        {"type": "relu", "name": relu},
    ]


def _pool3x3() -> Spec:
    return {"type": "maxpool", "name": "pool", "kernel": 3, "stride": 1, "padding": 1}


def inception(spec: Mapping[str, Any]) -> Spec:
    """Inception module with dimension reductions (paper Figure 2b), as a 'branches' spec."""
    n1, n3r, n3, n5r, n5, pp = six_numbers(spec)
    bias = spec.get("bias", True)
    return {
        "type": "branches",
        "branches": [
            {"type": "sequence", "name": "b1", "layers": _conv_relu("conv1x1", n1, 1, bias)},
            {"type": "sequence", "name": "b2", "layers": _conv_relu("conv3x3_reduce", n3r, 1, bias, "relu_reduce") + _conv_relu("conv3x3", n3, 3, bias)},
            {"type": "sequence", "name": "b3", "layers": _conv_relu("conv5x5_reduce", n5r, 1, bias, "relu_reduce") + _conv_relu("conv5x5", n5, 5, bias)},
            {"type": "sequence", "name": "b4", "layers": [_pool3x3(), *_conv_relu("pool_proj", pp, 1, bias)]},
        ],
    }


def inception_naive(spec: Mapping[str, Any]) -> Spec:
    """Naive Inception module (paper Figure 2a): 1x1, 3x3 and 5x5 convs and a 3x3 max pool, concatenated.

    Takes the same six numbers as ``inception``; the naive module has no reductions and no pool
    projection, so #3x3 reduce, #5x5 reduce and pool proj are not used.
    """
    n1, _, n3, _, n5, _ = six_numbers(spec)
    bias = spec.get("bias", True)
    return {
        "type": "branches",
        "branches": [
            {"type": "sequence", "name": "b1", "layers": _conv_relu("conv1x1", n1, 1, bias)},
            {"type": "sequence", "name": "b2", "layers": _conv_relu("conv3x3", n3, 3, bias)},
            {"type": "sequence", "name": "b3", "layers": _conv_relu("conv5x5", n5, 5, bias)},
            {"type": "sequence", "name": "b4", "layers": [_pool3x3()]},
        ],
    }


BLOCKS = {"inception": (inception, ("numbers", "bias")), "inception_naive": (inception_naive, ("numbers", "bias"))}
