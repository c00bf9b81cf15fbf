"""costlab sweep: cost against input resolution (one symbolic formula) or width multiplier, or over a
grid of resolutions x widths x batch sizes at once (one vectorized pass, costlab/grid.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import click

from .common import emit, progress, writing
from .options import POSITIVE_SI, format_option, input_option, mode_option, output_option

DEFAULT_RESOLUTIONS = "128:512:32"
SHOWN_POINTS = 60  # a grid longer than this prints its answers, not every point (--table FILE has them all)
MAX_GRID_POINTS = 20_000_000  # in one process; bigger grids go to Dask in chunks (--workers, --scheduler)


@click.command()
@click.argument("source")
@click.option("--resolution", "resolutions", help=f"Square input sizes: START:STOP:STEP (inclusive), a comma list, or one size "
              f"[default: {DEFAULT_RESOLUTIONS}; with --width alone: the model's input].")
@click.option("--width", "widths", help="Width multipliers (START:STOP:STEP or a list): every layer with a width scaled (convs, hidden linear layers, embeddings, ...), the classifier kept.")
@click.option("--seq", "lengths", help="Transformers: sweep the sequence length instead (START:STOP:STEP, START:STOP:*2, a list).")
@click.option("--batch", "batches", default="1", show_default=True, help="Batch sizes: one, a list or START:STOP:STEP.")
@click.option("--budget", type=POSITIVE_SI, help="Report the largest resolution (or width, or batch) within this many MACs (e.g. 1.5G).")
@input_option(symbolic=False, several=False)
@mode_option()
@format_option(["table", "csv", "json", "markdown"])
@click.option("--chart", type=click.Path(dir_okay=False), help="Draw MACs and params against the one swept axis (.png or .svg).")
@click.option("--heatmap", type=click.Path(dir_okay=False), help="Draw MACs over resolution x width (.png or .svg), the budget as a contour.")
@click.option("--table", "table_path", type=click.Path(dir_okay=False), help="Write every grid point to FILE: .csv, .json or .parquet.")
@click.option("--pareto", "pareto", is_flag=False, flag_value="max:macs,min:params,min:activations", default=None,
              help="Show the Pareto front [default objectives: max:macs,min:params,min:activations: the best memory "
                   "trade-offs for the compute spent], within --budget if given.")
@click.option("--scheduler", help="Evaluate the grid in chunks on this Dask scheduler (tcp://HOST:PORT; also DASK_SCHEDULER_ADDRESS).")
@click.option("--workers", type=click.IntRange(min=1), help="Evaluate the grid in chunks on a local Dask cluster of N worker processes.")
@output_option()
def sweep(source: str, resolutions: Optional[str], widths: Optional[str], lengths: Optional[str], batches: str, budget: Optional[int], input_shape: Any,
          mode: str, fmt: str, chart: Optional[str], heatmap: Optional[str], table_path: Optional[str], pareto: Optional[str],
          scheduler: Optional[str], workers: Optional[int], output: Optional[str]) -> None:
    """Cost of SOURCE at many input resolutions, width multipliers and batch sizes.

    One vectorized pass over the graph gives every point, each equal to a numeric analysis (a model
    with a layer that has no array rule: one symbolic formula in the resolution R, or one analysis per
    width). Several axes, --table, --heatmap, --pareto, --workers and --scheduler need the grid.
    --input sets the model's input (a resolution keeps its channel count). Counts are MACs.
    """
    from dataclasses import replace

    from ..sources import load_source
    from ..sweep import parse_factors, parse_range

    batch_sizes = _batches(batches)
    if lengths is not None:
        from .llm import seq_sweep_command

        if (widths is not None or resolutions is not None or input_shape is not None or mode != "infer" or heatmap or table_path
                or pareto is not None or scheduler or workers):
            raise click.UsageError("--seq sweeps a transformer's sequence length: it does not take --resolution, --width, --input, "
                                   "--mode, --heatmap, --table, --pareto, --scheduler or --workers")
        if len(batch_sizes) != 1:
            raise click.UsageError("--seq sweeps one batch size: give --batch one number")
        return seq_sweep_command(source, lengths, batch_sizes[0], fmt, chart, output, budget)
    graph = load_source(source)
    if input_shape is not None:
        graph = replace(graph, input_shape=tuple(input_shape))
    factors = parse_factors(widths) if widths is not None else None
    if pareto is not None:
        from ..explore import parse_objectives

        parse_objectives(pareto)  # a bad --pareto (an empty one too) fails before anything is evaluated
    grid_wanted = ((resolutions is not None and factors is not None) or len(batch_sizes) > 1 or table_path or heatmap or pareto is not None
                   or scheduler or workers)
    if not grid_wanted:
        _one_axis(graph, source, parse_range(DEFAULT_RESOLUTIONS if resolutions is None else resolutions), factors, batch_sizes[0], mode,
                  fmt, budget, chart, output)
        return
    if chart:
        raise click.UsageError("--chart draws a one-axis sweep; use --heatmap for a grid")
    sizes = None if resolutions is None and factors is not None else parse_range(DEFAULT_RESOLUTIONS if resolutions is None else resolutions)
    if heatmap:  # checked before any file is written: a refused heatmap leaves no table behind
        if not sizes or len(sizes) < 2 or not factors or len(factors) < 2:
            raise click.UsageError("--heatmap needs two or more resolutions and two or more widths")
        from ..render.charts import chart_format

        chart_format(heatmap)
    from ..cluster import scheduler_address

    address = scheduler_address(scheduler)
    if address or workers:
        _distributed(graph, source, sizes, factors, batch_sizes, mode, budget, address, workers, fmt, output, table_path or heatmap)
        return
    from ..grid import evaluate_grid

    points = len(batch_sizes) * (len(sizes) if sizes else 1) * (len(factors) if factors else 1)
    if points > MAX_GRID_POINTS:
        raise click.UsageError(f"{points:,} grid points is more than {MAX_GRID_POINTS:,} in one process: "
                               "use --workers N or --scheduler ADDRESS (Dask evaluates it in chunks)")
    grid = evaluate_grid(graph, sizes, factors, batch_sizes, mode)
    text = _grid_text(grid, source, fmt, budget, pareto, sizes is not None, factors is not None)
    if table_path:
        from ..tables import write_table

        with writing(table_path):
            write_table(_with_front(grid, pareto, budget), table_path, meta={"schema": "costlab.grid/1", "model": source})
    if heatmap:  # its options were checked before the table was written
        from ..render.heatmap import grid_heatmap

        with writing(heatmap):
            grid_heatmap(grid, heatmap, budget=budget)
    emit(text, output)


def _batches(text: str) -> List[int]:
    from ..errors import CostlabError
    from ..sweep import parse_range

    try:
        return parse_range(text)
    except CostlabError as e:
        raise click.BadParameter(str(e).split(": ", 1)[-1].replace("sizes", "batch sizes"), param_hint="'--batch'") from None


def _one_axis(graph: Any, source: str, sizes: List[int], factors: Optional[List[float]], batch: int, mode: str, fmt: str,
              budget: Optional[int], chart: Optional[str], output: Optional[str]) -> None:
    from ..numbers import format_si
    from ..sweep import largest_within, resolution_sweep, width_sweep

    by = "width" if factors else "resolution"
    if factors:
        points = width_sweep(graph, factors, None, batch, mode)
    else:
        points = resolution_sweep(graph, sizes, batch, mode, lambda items: progress(list(items), "sweep", "pt", minimum=2000))
    from ..render.sweep import sweep_text

    text = sweep_text(points, source, fmt, by)
    if budget is not None and fmt in ("table", "markdown"):
        best = largest_within(points, budget, by)
        if best is None:
            text += f"no {by} in the sweep stays within {format_si(budget)} MACs\n"
        elif by == "width":
            text += f"largest width within {format_si(budget)} MACs: x{best.width:g} ({best.macs:,} MACs)\n"
        else:
            text += (f"largest resolution within {format_si(budget)} MACs: {best.resolution}x{best.resolution} "
                     f"({best.macs:,} MACs)\n")
    if chart:
        from ..render.charts import sweep_chart

        with writing(chart):
            sweep_chart(points, source, chart, budget, by)
    emit(text, output)


def _with_front(grid: Any, pareto: Optional[str], budget: Optional[int]) -> Any:
    """The grid's columns, with an ``on_front`` column when a Pareto front was asked for."""
    columns = grid.columns()
    if pareto:
        from ..explore import pareto_mask, parse_objectives

        objectives = parse_objectives(pareto)
        inside = columns["macs"] <= budget if budget is not None else None
        mask = pareto_mask([columns[n][inside] if inside is not None else columns[n] for n, _ in objectives], [up for _, up in objectives])
        on = mask if inside is None else _scatter(inside, mask)
        columns["on_front"] = on
    return columns


def _scatter(inside: Any, mask: Any) -> Any:
    import numpy as np

    out = np.zeros(len(inside), dtype=bool)
    out[np.flatnonzero(inside)[mask]] = True
    return out


def _grid_text(grid: Any, source: str, fmt: str, budget: Optional[int], pareto: Optional[str], by_resolution: bool, by_width: bool) -> str:
    from ..render.grid import axis_text, largest_text, points_text

    def swept_columns() -> Dict[str, Any]:  # every point: built only when printed
        columns = grid.columns()
        if not by_resolution:
            del columns["resolution"]
        if not by_width:
            del columns["width"]
        return columns

    if fmt in ("csv", "json") and not pareto:
        return points_text(swept_columns(), fmt, source)
    axes = [f"batch {axis_text(grid.batch, 'batch')}", f"resolution {axis_text(grid.resolution, 'resolution')}"]
    if by_width:
        axes.append(f"width {axis_text(grid.width, 'width')}")
    text = f"{source}: {grid.size:,} points ({'; '.join(axes)})\n"
    if grid.size <= SHOWN_POINTS:
        text += points_text(swept_columns(), fmt, source)
    if budget is not None:
        from ..explore import largest_within

        swept = [a for a, n in (("resolution", len(grid.resolution)), ("width", len(grid.width)), ("batch", len(grid.batch))) if n > 1]
        for axis in swept:
            text += "\n" + largest_text(largest_within(grid, budget, axis), fmt)
    if pareto:
        from ..explore import pareto_points, parse_objectives

        front = pareto_points(grid, parse_objectives(pareto), budget)
        shown = {"batch", "macs", "params", "activations"} | ({"resolution"} if by_resolution else set()) | ({"width"} if by_width else set())
        kept = {k: v for k, v in front.items() if k in shown}
        where = f" within {budget:,} MACs" if budget is not None else ""
        if fmt in ("csv", "json"):
            return points_text(kept, fmt, source)
        text += f"\nPareto front ({pareto}){where}: {len(front['macs']):,} of {grid.size:,} points\n"
        text += points_text(kept, fmt, source, limit=SHOWN_POINTS)
    elif grid.size > SHOWN_POINTS:
        text += "(write every point with --table FILE.csv or FILE.parquet)\n"
    return text


def _distributed(graph: Any, source: str, sizes: Optional[List[int]], factors: Optional[List[float]], batches: List[int], mode: str,
                 budget: Optional[int], address: Optional[str], workers: Optional[int], fmt: str, output: Optional[str],
                 unsupported: Optional[str]) -> None:
    """The grid in chunks on Dask: only its answers come back (the largest resolution within the budget per
    batch and width, how many settings fit, the MACs range)."""
    if unsupported:
        raise click.UsageError("--table and --heatmap hold the whole grid: leave out --scheduler/--workers (or use a smaller grid)")
    from ..cluster import dask_client
    from ..dgrid import grid_arrays, summarize
    from ..numbers import format_int, format_si

    lazy = grid_arrays(graph, sizes, factors, batches, mode, chunk=(1, 1000, 1000))
    with dask_client(address, workers) as client:
        summary = summarize(lazy, budget, scheduler=client)
    lines = [f"{source}: {summary.points:,} points on Dask ({address or f'{workers} local workers'})",
             f"MACs from {format_si(summary.macs_min)} ({format_int(summary.macs_min)}) to {format_si(summary.macs_max)} ({format_int(summary.macs_max)})"]
    if budget is not None and summary.largest is not None:
        lines.append(f"{summary.within:,} settings within {format_si(budget)} MACs; largest resolution per batch and width:")
        settings = [(i, j) for i in range(len(lazy.batch)) for j in range(len(lazy.width))]
        for i, j in settings[:SHOWN_POINTS]:
            best = int(summary.largest[i, j])
            lines.append(f"  batch {int(lazy.batch[i])}, width {float(lazy.width[j]):g}: {f'{best}x{best}' if best else 'none'}")
        if len(settings) > SHOWN_POINTS:
            lines.append(f"  ... {len(settings) - SHOWN_POINTS:,} more")
    emit("\n".join(lines) + "\n", output)
