"""Test helpers: build small graphs from spec data and analyse them."""

from __future__ import annotations

from typing import Any, Dict, List

from costlab.analysis import Analysis, analyze
from costlab.spec import graph_from_data


def spec(layers: List[Dict[str, Any]], input: str = "3x32x32", **extra: Any) -> Dict[str, Any]:
    """A spec mapping around ``layers``."""
    return {"name": "t", "input": input, "layers": layers, **extra}


def run(layers: List[Dict[str, Any]], input: str = "3x32x32", **kwargs: Any) -> Analysis:
    """Analyse a small spec given as data."""
    return analyze(graph_from_data(spec(layers, input), "test.yaml"), **kwargs)


