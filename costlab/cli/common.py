"""Helpers the commands share: analysing sources, numbers that must be numbers, writing results."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

import click

from .errors import InputError


def analyze_all(sources: Sequence[str], input_shape: Any, batch: Any, mode: str, convention: str,
                phase: Optional[str] = None, seq: Any = None, context: Any = None) -> List[Any]:
    """One Analysis per SOURCE, at the same input, batch, mode and convention (and, for transformers,
    the same phase, sequence length and context: costlab.llm.phases)."""
    from ..analysis import analyze
    from ..sources import load_source

    if phase is None and seq is None and context is None:
        return [analyze(load_source(s, input_shape, batch, mode), input_shape, batch, mode, convention) for s in sources]
    if input_shape is not None:
        raise click.UsageError("--seq/--context/--phase set a transformer's input: leave out --input")
    from ..llm.phases import phase_graph

    out = []
    for s in sources:
        graph, shape = phase_graph(load_source(s, None, batch, mode), phase or "prefill", seq, context)
        out.append(analyze(graph, shape, batch, mode, convention))
    return out


def report_coverage(analyses: Sequence[Any], strict: bool = False) -> None:
    """After a result: on stderr, every op costlab could not count (with where it ran) and every assumption a
    capture made; with ``strict``, exit 1 when an op was not counted (never a silent zero)."""
    several = len(analyses) > 1
    for a in analyses:
        prefix = f"{a.model}: " if several else ""
        for line in a.coverage.lines():
            click.echo(prefix + line, err=True)
        for line in a.assumptions:
            click.echo(f"{prefix}assumed: {line}", err=True)
    if strict and any(a.uncounted for a in analyses):
        from .errors import CheckFailed

        raise CheckFailed()


def numeric_batch(batch: Any, why: str) -> int:
    """The batch as an int, or a one-line usage error when it is a name (B) where a number is needed."""
    from ..numbers import is_int

    if not is_int(batch):
        raise click.BadParameter(f"{why} needs a number, got the name {batch}", param_hint="'--batch'")
    return int(batch)


def numeric_input(input_shape: Any, why: str) -> None:
    """A one-line usage error when the input shape has names (3xHxW) where numbers are needed."""
    from ..numbers import is_int
    from ..shapes import format_shape

    if input_shape is not None and not all(is_int(d) for d in input_shape):
        raise click.BadParameter(f"{why} needs numbers, got {format_shape(input_shape)}", param_hint="'--input'")


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Around a write of ``path``: an OSError (read-only folder, /proc, a full disk) becomes one line
    naming ``path``, exit code 2."""
    try:
        yield
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None


def write_output(path: str, data: Union[str, bytes]) -> None:
    """Write ``data`` to ``path`` atomically (costlab/files.py)."""
    from ..files import write_atomic

    with writing(path):
        write_atomic(path, data)


def save_chart(fig: Any, path: str) -> None:
    """Save a matplotlib figure as .png or .svg, atomically."""
    from ..render.charts import save

    with writing(path):
        save(fig, path)


def emit(text: str, output: Optional[str]) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output:
        write_output(output, text)
    else:
        click.echo(text, nl=False)


def progress(items: Sequence[Any], desc: str, unit: str, minimum: int = 0) -> Iterable[Any]:
    """``items`` with a tqdm bar on stderr, only when stderr is a terminal (a CI log gets no bar) and
    there are at least ``minimum`` of them."""
    from tqdm import tqdm

    quiet = not sys.stderr.isatty() or len(items) < minimum
    return tqdm(items, desc=desc, unit=unit, file=sys.stderr, disable=quiet)
