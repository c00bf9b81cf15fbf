"""costlab sweep: cost against input resolution (one symbolic formula) or width multiplier."""

from __future__ import annotations

from typing import Any, Optional

import click

from .common import emit, progress, writing
from .options import POSITIVE_SI, batch_option, format_option, input_option, mode_option, output_option


@click.command()
@click.argument("source")
@click.option("--resolution", "resolutions", default="128:512:32", show_default=True,
              help="Square input sizes: START:STOP:STEP (inclusive), a comma list, or one size.")
@click.option("--width", "widths", help="Sweep width multipliers instead (START:STOP:STEP or a list), at the default input.")
@click.option("--seq", "lengths", help="Transformers: sweep the sequence length instead (START:STOP:STEP, START:STOP:*2, a list).")
@click.option("--budget", type=POSITIVE_SI, help="Report the largest resolution (or width) within this many MACs (e.g. 1.5G).")
@input_option(symbolic=False, several=False)
@batch_option(symbolic=False)
@mode_option()
@format_option(["table", "csv", "json", "markdown"])
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw MACs and params against resolution (.png or .svg).")
@output_option()
def sweep(source: str, resolutions: str, widths: Optional[str], lengths: Optional[str], budget: Optional[int], input_shape: Any,
          batch: Any, mode: str, fmt: str, chart: Optional[str], output: Optional[str]) -> None:
    """Cost of SOURCE at many input resolutions, from one symbolic formula in the resolution R
    (or at many width multipliers: conv and hidden linear channels scaled, one analysis per point).

    --input sets the model's input: a width sweep analyses at it; a resolution sweep keeps its channel
    count and sets H = W = each resolution. Counts are MACs (no --convention).
    """
    from dataclasses import replace

    from ..numbers import format_si
    from ..sources import load_source
    from ..sweep import largest_within, parse_factors, parse_range, resolution_sweep, width_sweep

    if lengths is not None:
        from .llm import seq_sweep_command

        if widths or input_shape is not None or mode != "infer":
            raise click.UsageError("--seq sweeps a transformer's sequence length: it does not take --width, --input or --mode")
        return seq_sweep_command(source, lengths, batch, fmt, chart, output, budget)
    sizes = parse_range(resolutions)
    graph = load_source(source)
    if input_shape is not None:
        graph = replace(graph, input_shape=tuple(input_shape))
    by = "width" if widths else "resolution"
    if widths:
        points = width_sweep(graph, parse_factors(widths), None, batch, mode)
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
