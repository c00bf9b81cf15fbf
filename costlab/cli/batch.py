"""costlab batch: many sources x many settings -> one table (CSV, JSON or Parquet), resumable, on Dask if asked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence

import click

from .common import writing
from .options import mode_option


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--from", "from_file", type=click.Path(dir_okay=False, exists=True), help="Read more sources from FILE, one per line (# comments).")
@click.option("--resolution", "resolutions", help="Square input sizes (START:STOP:STEP, a list, or one size) [default: each model's input].")
@click.option("--width", "widths", help="Width multipliers (spec files and built-in models) [default: none].")
@click.option("--batch", "batches", default="1", show_default=True, help="Batch sizes: one, a list or START:STOP:STEP.")
@mode_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The table: .csv, .json or .parquet (written atomically at the end).")
@click.option("--chunk", type=click.IntRange(min=1), default=4, show_default=True, help="Tasks per unit of work (and per journal write).")
@click.option("--scheduler", help="Run on this Dask scheduler (tcp://HOST:PORT; also DASK_SCHEDULER_ADDRESS). Sources must load there.")
@click.option("--workers", type=click.IntRange(min=1), help="Run on a local Dask cluster of N worker processes.")
@click.option("--verify", is_flag=True, help="Also trace each real model with fvcore, as costlab verify does (torch extra): "
              "columns fvcore, torch_params, mismatches, verified.")
@click.option("--fresh", is_flag=True, help="Ignore the journal of an interrupted run (by default a rerun continues it).")
def batch(sources: Sequence[str], from_file: Optional[str], resolutions: Optional[str], widths: Optional[str], batches: str, mode: str,
          output: str, chunk: int, scheduler: Optional[str], workers: Optional[int], verify: bool, fresh: bool) -> None:
    """Analyse every SOURCE at every setting into one table: one row per (source, resolution, batch, width).

    Each finished unit of work is journaled beside the output (.OUTPUT.journal.jsonl); after a crash or
    Ctrl-C the same command continues where it stopped without recomputing anything. A source that
    fails is a row with its error (exit code 1 at the end, as for a --verify mismatch), never a stopped run.
    """
    from ..batch import Journal, journal_path, plan, run_batch, write_outcome
    from ..cluster import dask_client, scheduler_address
    from ..sweep import parse_factors, parse_range
    from ..tables import table_format

    table_format(output)  # an unknown suffix is refused before any work
    names = list(sources) + (_read_sources(from_file) if from_file else [])
    if not names:
        raise click.UsageError("give one or more sources (or --from FILE)")
    from .sweep import _batches

    tasks = plan(names, parse_range(resolutions) if resolutions else [None], _batches(batches),
                 parse_factors(widths) if widths else [None], [mode], verify)
    path = journal_path(output)
    if fresh and path.exists():
        path.unlink()
    with writing(str(path)):
        journal = Journal(path)
    bar = _bar(len(tasks))
    try:
        with dask_client(scheduler_address(scheduler), workers) as client:
            outcome = run_batch(tasks, journal, client, chunk, bar)
    finally:
        if bar is not None:
            bar.close()
    with writing(output):
        write_outcome(outcome, output)
    journal.remove()
    reused = f", {outcome.reused:,} from the journal of an interrupted run" if outcome.reused else ""
    click.echo(f"wrote {output}: {len(tasks):,} rows ({outcome.computed:,} computed{reused}; {outcome.failed:,} failed)", err=True)
    if outcome.failed:
        errors = list(dict.fromkeys(r["error"] for r in outcome.rows if r["error"]))
        for error in errors[:5]:
            click.echo(f"costlab: failed: {error}", err=True)
        if len(errors) > 5:
            click.echo(f"costlab: ... {len(errors) - 5} more errors (the 'error' column of {output})", err=True)
        sys.exit(1)


def _read_sources(path: str) -> List[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _bar(total: int) -> Any:
    """A tqdm bar on stderr when stderr is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="batch", unit="task", file=sys.stderr)
