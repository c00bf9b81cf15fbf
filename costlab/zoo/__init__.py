"""Built-in models: spec files in this folder, loaded like any user's spec (one source of truth)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import List

from ..graph import Graph

ZOO_DIR = Path(__file__).parent

# The order `costlab list` shows them in: the paper's arguments first, then whole networks.
ORDER = (
    "naive", "bottleneck", "fc-head", "gap-head", "inception-naive", "inception",
    "conv5x5", "conv3x3-x2", "conv7x7", "conv3x3-x3", "googlenet",
)


def names() -> List[str]:
    """Every built-in model name, in listing order."""
    found = {p.stem for p in ZOO_DIR.glob("*.yaml")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def has(name: str) -> bool:
    """True when ``name`` is a built-in model."""
    return (ZOO_DIR / f"{name}.yaml").is_file()


@lru_cache(maxsize=None)
def load(name: str) -> Graph:
    """The built-in model ``name`` (KeyError if there is none)."""
    from ..spec import load_spec

    path = ZOO_DIR / f"{name}.yaml"
    if not path.is_file():
        raise KeyError(name)
    graph = load_spec(path, name)
    return Graph(graph.name, graph.nodes, graph.input_shape, graph.description, f"zoo:{name}", graph.groups)
