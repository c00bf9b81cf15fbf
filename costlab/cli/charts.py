"""costlab chart and report: pictures and the self-contained HTML report (numeric inputs only)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import click

from .common import analyze_all, save_chart, write_output
from .errors import torch_extra_error
from .options import analysis_options, depth_option, output_option

CHART_KINDS = ("layers", "ops", "cumulative", "compare", "roofline")


def _profiled(source: str, input_shape: Any, batch: int, what: str) -> Any:
    """(analysis, profile, roofline device) of SOURCE timed on the CPU (float32)."""
    try:
        from ..bridge.profile import profile_source
    except ImportError as e:
        raise torch_extra_error(what, e) from None
    from .profile import roof

    analysis, measured = profile_source(source, input_shape, batch=batch)
    return analysis, measured, roof("cpu", "float32", False, None, None)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@output_option(required=True, help="Chart file (.png or .svg).")
@click.option("--kind", type=click.Choice(CHART_KINDS), default=None,
              help="layers (default for one model), ops, cumulative, compare (default for several), "
                   "roofline (profiles the model on the CPU first; see costlab profile for options). "
                   "Resolution sweeps: costlab sweep SOURCE --chart FILE.")
@depth_option(help="Blocks for the layers chart (default: the deepest level with at most 40 blocks).")
@analysis_options(convention=False, symbolic=False)
def chart(sources: Sequence[str], output: str, kind: Optional[str], depth: Optional[int], input_shape: Any, batch: Any, mode: str) -> None:
    """Draw MACs and params per layer or block, by layer type, cumulatively, or compare models.

    Charts plot numbers: --input and --batch take numbers, and the counts are MACs (no --convention).
    """
    kind = kind or ("compare" if len(sources) > 1 else "layers")
    if kind == "roofline":
        if len(sources) != 1:
            raise click.UsageError("a roofline chart shows one model")
        from ..render.profile import roofline_chart

        analysis, measured, device_roof = _profiled(sources[0], input_shape, int(batch), "chart --kind roofline")
        save_chart(roofline_chart(analysis, measured, device_roof, "float32", f"{sources[0]}: roofline"), output)
        click.echo(f"wrote {output}")
        return
    from ..render.charts import KINDS, compare_figure

    analyses = analyze_all(sources, input_shape, batch, mode, "macs")
    if kind == "compare":
        if len(analyses) < 2:
            raise click.UsageError("a compare chart needs two or more models")
        fig = compare_figure(analyses)
    else:
        if len(analyses) != 1:
            raise click.UsageError(f"a {kind} chart shows one model; use --kind compare for several")
        from ..render.tree import auto_depth

        analysis = analyses[0].by_depth(depth or auto_depth(analyses[0])) if kind == "layers" else analyses[0]
        fig = KINDS[kind](analysis)
    save_chart(fig, output)
    click.echo(f"wrote {output}")


@click.command()
@click.argument("sources", nargs=-1, required=True)
@output_option(required=True, help="The .html file to write (atomically).")
@click.option("--verify", "with_verify", is_flag=True, help="Run the fvcore check and show its status per layer (torch extra).")
@click.option("--profile", "with_profile", is_flag=True,
              help="Time each layer on the CPU: time, TFLOP/s and share of the roofline as table columns, and a roofline chart (torch extra).")
@depth_option(help="Blocks of the charts and the cost tree (default: per model, the deepest level with at most 40 blocks).")
@analysis_options(symbolic=False)
def report(sources: Sequence[str], output: str, with_verify: bool, with_profile: bool, depth: Optional[int], input_shape: Any,
           batch: Any, mode: str, convention: str) -> None:
    """One self-contained HTML report: totals, charts, a network view and a cost tree (model, block, branch,
    layer) that sorts, filters and exports; with several models, a comparison first.

    A report draws charts of numbers: --input and --batch take numbers.
    """
    from ..analysis import analyze
    from ..render.report import ProfileView, render_report
    from ..sources import load_source

    graphs = [load_source(s, input_shape, batch, mode) for s in sources]  # the graphs draw the network view
    analyses = [analyze(g, input_shape, batch, mode, convention) for g in graphs]
    verifications = None
    if with_verify:
        try:
            from ..bridge.verify import verify_source
        except ImportError as e:
            raise torch_extra_error("report --verify", e) from None
        verifications = [verify_source(s, input_shape, mode) for s in sources]
    profiles = None
    if with_profile:
        from ..render.charts import svg_text
        from ..render.profile import measured_rows, profile_table, roofline_chart

        profiles = []
        for s in sources:
            analysis, measured, device_roof = _profiled(s, input_shape, int(batch), "report --profile")
            lines = profile_table(analysis, measured, device_roof, "float32").splitlines()
            profiles.append(ProfileView(measured_rows(analysis, measured, device_roof, "float32"),
                                        svg_text(roofline_chart(analysis, measured, device_roof, "float32", f"{s}: roofline")),
                                        f"{lines[0]}. {lines[-1]}"))
    write_output(output, render_report(analyses, verifications, profiles, depth, graphs))
    click.echo(f"wrote {output}")
