"""Helpers the commands share: analysing sources and writing results."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import click


def analyze_all(sources: Sequence[str], input_shape: Any, batch: Any, mode: str, convention: str) -> List[Any]:
    """One Analysis per SOURCE, at the same input, batch, mode and convention."""
    from ..analysis import analyze
    from ..sources import load_source

    return [analyze(load_source(s, input_shape, batch, mode), input_shape, batch, mode, convention) for s in sources]


def emit(text: str, output: Optional[str]) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output:
        from ..files import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)
