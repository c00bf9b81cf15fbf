"""Write a JSON spec of N layers: a stem, then residual blocks of conv/bn/relu pairs, then a head.

Usage: python benchmarks/make_big_spec.py LAYERS OUT.json
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List


def big_spec(layers: int) -> Dict[str, Any]:
    """About ``layers`` layers: 7 per residual block (conv, bn, relu, conv, bn, add, relu)."""
    body: List[Dict[str, Any]] = [{"type": "conv2d", "name": "stem", "out_channels": 64, "kernel": 3, "padding": 1}]
    for i in range(max(1, (layers - 4) // 7)):
        body.append({"type": "residual", "name": f"block{i}", "body": [
            {"type": "conv2d", "name": "c1", "out_channels": 64, "kernel": 3, "padding": 1, "bias": False},
            {"type": "batchnorm", "name": "bn1"},
            {"type": "relu", "name": "r1"},
            {"type": "conv2d", "name": "c2", "out_channels": 64, "kernel": 3, "padding": 1, "bias": False},
            {"type": "batchnorm", "name": "bn2"},
        ], "then": [{"type": "relu", "name": "out"}]})
    body += [{"type": "global_avgpool", "name": "gap"}, {"type": "flatten", "name": "flat"}, {"type": "linear", "name": "fc", "out_features": 1000}]
    return {"name": f"deep{layers}", "input": "3x32x32", "layers": body}


if __name__ == "__main__":
    count, out = int(sys.argv[1]), sys.argv[2]
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(big_spec(count), handle)
