"""costlab sweep: cost against input resolution (one symbolic formula) or width multiplier."""

from __future__ import annotations

from typing import Any, Optional

import click

from .options import SI, batch_option, format_option, mode_option


@click.command()
@click.argument("source")
@click.option("--resolution", "resolutions", default="128:512:32", show_default=True,
              help="Square input sizes: START:STOP:STEP (inclusive), a comma list, or one size.")
@click.option("--width", "widths", help="Sweep width multipliers instead (START:STOP:STEP or a list), at the default input.")
@click.option("--budget", type=SI, help="Report the largest resolution (or width) within this many MACs (e.g. 1.5G).")
@batch_option()
@mode_option()
@format_option(["table", "csv", "json"])
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw MACs and params against resolution (.png or .svg).")
def sweep(source: str, resolutions: str, widths: Optional[str], budget: Optional[int], batch: Any, mode: str, fmt: str,
          chart: Optional[str]) -> None:
    """Cost of SOURCE at many input resolutions, from one symbolic formula in the resolution R
    (or at many width multipliers: conv and hidden linear channels scaled, one analysis per point)."""
    from ..numbers import format_si
    from ..sources import load_source
    from ..sweep import largest_within, parse_factors, parse_range, resolution_sweep, width_sweep

    sizes = parse_range(resolutions)
    limit = budget
    from tqdm import tqdm

    def progress(items: Any) -> Any:
        return tqdm(items, desc="sweep", unit="pt", file=click.get_text_stream("stderr"), disable=len(sizes) < 2000)

    by = "width" if widths else "resolution"
    if widths:
        points = width_sweep(load_source(source), parse_factors(widths), None, batch, mode)
    else:
        points = resolution_sweep(load_source(source), sizes, batch, mode, progress)
    from ..render.sweep import sweep_text

    click.echo(sweep_text(points, source, fmt, by), nl=False)
    if chart:
        from ..render.charts import sweep_chart

        sweep_chart(points, source, chart, limit, by)
    if limit is not None and fmt == "table":
        best = largest_within(points, limit, by)
        if best is None:
            click.echo(f"no {by} in the sweep stays within {format_si(limit)} MACs")
        elif by == "width":
            click.echo(f"largest width within {format_si(limit)} MACs: x{best.width:g} ({best.macs:,} MACs)")
        else:
            click.echo(f"largest resolution within {format_si(limit)} MACs: {best.resolution}x{best.resolution} "
                       f"({best.macs:,} MACs)")
