"""Resolve a SOURCE argument: a built-in model name, a spec file, or a Python model reference."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from . import zoo
from .errors import CostlabError
from .graph import Graph

if TYPE_CHECKING:
    from .inputs import InputSpec

SPEC_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


def is_reference(source: str) -> bool:
    """True when ``source`` names a Python model (torchvision:NAME, module:factory) rather than a
    built-in model or a spec file: the same decision ``load_source`` makes."""
    path = Path(source)
    return not zoo.has(source) and not (path.suffix.lower() in SPEC_SUFFIXES or path.is_file()) and ":" in source


def load_source(source: str, input_shape: Optional[InputSpec] = None, batch: Any = 1, mode: str = "infer") -> Graph:
    """The graph for ``source``: 'googlenet', 'my_net.yaml', or 'torchvision:googlenet' / 'pkg.mod:factory'.

    Spec graphs do not depend on the other arguments (``analyze`` applies them, and refuses inputs other
    than one CxHxW image); a PyTorch model is captured at that input (several tensors, integer ids, keyword
    arguments or an inputs factory: see ``costlab.inputs``), batch and mode.
    """
    if zoo.has(source):
        return zoo.load(source)
    path = Path(source)
    from .llm.hf_config import is_hf_config, load_config

    if is_hf_config(path):  # a Hugging Face config.json, or a model folder holding one
        return load_config(path)
    if path.suffix.lower() in SPEC_SUFFIXES or path.is_file():
        if not path.is_file():
            raise CostlabError(f"{source}: no such spec file")
        from .spec import load_spec

        return load_spec(path)
    if is_reference(source):
        try:
            from .bridge.capture import capture_reference
        except ImportError as e:
            raise CostlabError(
                f"{source}: analysing a PyTorch model needs the torch extra (pip install 'costlab[torch]'): {e}"
            ) from None
        return capture_reference(source, input_shape, batch, mode)
    raise CostlabError(
        f"{source}: not a built-in model (see 'costlab list'), a spec file (.yaml/.toml/.json) "
        "or a PyTorch model reference like torchvision:googlenet"
    )
