"""Built-in models: the YAML spec files in this folder, loaded like any user's spec.

The YAML files are the source of truth. ``compiled.json`` holds the same data already parsed, so
that the command line starts without importing a YAML parser; a test keeps the two identical, and
``python -m costlab.zoo`` regenerates it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

from ..graph import Graph

ZOO_DIR = Path(__file__).parent
COMPILED = ZOO_DIR / "compiled.json"

# The order `costlab list` shows them in: the paper's arguments first, then whole networks.
ORDER = (
    "naive", "bottleneck", "fc-head", "gap-head", "inception-naive", "inception",
    "conv5x5", "conv3x3-x2", "conv7x7", "conv3x3-x3", "googlenet", "alexnet", "vgg16", "resnet50", "inception-v2", "inception-v3", "inception-v4", "unet",
)


def names() -> List[str]:
    """Every built-in model name, in listing order (CNN specs, then transformers' config.json files)."""
    from ..llm import builtin

    found = {p.stem for p in ZOO_DIR.glob("*.yaml")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER)) + builtin.names()


def has(name: str) -> bool:
    """True when ``name`` is a built-in model."""
    from ..llm import builtin

    return (ZOO_DIR / f"{name}.yaml").is_file() or builtin.has(name)


def compile_sources() -> Dict[str, Any]:
    """Parse every YAML spec of the zoo: {name: data}."""
    from ..spec import read_data

    return {name: read_data(ZOO_DIR / f"{name}.yaml") for name in sorted(names()) if (ZOO_DIR / f"{name}.yaml").is_file()}


@lru_cache(maxsize=1)
def _compiled() -> Dict[str, Any]:
    try:
        return json.loads(COMPILED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=None)
def load(name: str) -> Graph:
    """The built-in model ``name`` (KeyError if there is none)."""
    from ..spec import graph_from_data, read_data

    path = ZOO_DIR / f"{name}.yaml"
    if not path.is_file():
        from ..llm import builtin

        if builtin.has(name):
            return builtin.load(name)
        raise KeyError(name)
    data = _compiled().get(name)
    if data is None:
        data = read_data(path)
    return graph_from_data(data, f"zoo:{name}", name)


def main() -> None:
    """Regenerate compiled.json from the YAML files."""
    COMPILED.write_text(json.dumps(compile_sources(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {COMPILED}")
