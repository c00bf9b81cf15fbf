"""costlab list, analyze and compare: costs by formula, no torch needed for spec files."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import click

from .common import analyze_all, emit, numeric_batch, numeric_input, report_coverage
from .options import analysis_options, depth_option, format_option, output_option, profile_options, sequence_options, strict_option


def _type_records() -> List[Dict[str, str]]:
    from ..blocks import BLOCKS
    from ..fields import describe_fields
    from ..registry import aliases_of, all_types
    from ..spec import STRUCTURAL

    rows = [[t.op, ", ".join(aliases_of(t.op)), describe_fields(t.cls), t.doc] for t in all_types() if not t.internal]
    rows += [[name, "", ", ".join(keys), "structural block"] for name, keys in STRUCTURAL.items()]
    rows += [[name, "", ", ".join(keys), (fn.__doc__ or "").strip().splitlines()[0]] for name, (fn, keys) in BLOCKS.items()]
    return [dict(zip(("type", "aliases", "fields", "what"), row)) for row in rows]


def _model_records(human: bool) -> List[Dict[str, Any]]:
    from .. import zoo
    from ..analysis import analyze as analyze_graph
    from ..numbers import format_si
    from ..shapes import format_shape

    out = []
    for name in zoo.names():
        graph = zoo.load(name)
        t = analyze_graph(graph).total()
        macs, params = (format_si(t.macs), format_si(t.params)) if human else (t.macs, t.params)
        out.append({"model": name, "input": format_shape(graph.input_shape), "MACs" if human else "macs": macs,
                    "params": params, "description": graph.description})
    return out


@click.command("list")
@click.option("--types", is_flag=True, help="List the layer types a spec file can use, with their fields.")
@format_option()
@output_option()
def list_command(types: bool, fmt: str, output: Optional[str]) -> None:
    """The built-in models with a one-line description and their totals."""
    from ..render.records import document, records_csv, records_table

    records = _type_records() if types else _model_records(human=fmt in ("table", "markdown"))
    if fmt == "json":
        text = document("costlab.types/1", types=records) if types else document("costlab.models/1", models=records)
    elif fmt == "csv":
        text = records_csv(records)
    else:
        text = records_table(records, fmt)
    emit(text, output)


@click.command()
@click.argument("source")
@analysis_options()
@sequence_options()
@depth_option()
@format_option()
@click.option("--no-formulas", is_flag=True, help="Leave the formula column out of tables.")
@strict_option()
@output_option()
def analyze(source: str, input_shape: Any, batch: Any, mode: str, convention: str, phase: Optional[str], seq: Any, context: Any,
            depth: Optional[int], fmt: str, no_formulas: bool, strict: bool, output: Optional[str]) -> None:
    """Per-layer cost of SOURCE: a built-in model, a spec file, a Hugging Face config.json (or its
    folder), or module:factory."""
    (analysis,) = analyze_all([source], input_shape, batch, mode, convention, phase, seq, context)
    analysis = analysis.by_depth(depth)
    from ..render import data, table

    if fmt == "json":
        text = data.to_json([analysis])
    elif fmt == "csv":
        text = data.to_csv([analysis])
    else:
        from ..legend import legend_text, name_sizes

        (short,), legend = name_sizes([analysis])
        text = table.analysis_table(short, fmt, formulas=not no_formulas) + legend_text(legend, fmt)
    emit(text, output)
    report_coverage([analysis], strict)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@analysis_options()
@sequence_options()
@depth_option(help="Per-block arithmetic (and JSON layers) by the first N parts of the layer names.")
@format_option()
@click.option("--formulas/--no-formulas", default=None, help="Show per-layer arithmetic (default: when the models are small).")
@click.option("--measure", is_flag=True, help="Also time each model's forward pass and print the speed-up next to the MACs ratio.")
@click.option("--training", is_flag=True, help="Also show a training step (SGD, float32; see costlab train) next to inference.")
@profile_options()
@strict_option()
@output_option()
def compare(sources: Sequence[str], input_shape: Any, batch: Any, mode: str, convention: str, phase: Optional[str], seq: Any,
            context: Any, depth: Optional[int], fmt: str, formulas: Optional[bool], measure: bool, training: bool, device: str,
            dtype: str, channels_last: bool, repeats: int, warmup: int, strict: bool, output: Optional[str]) -> None:
    """Totals of two or more models side by side, with ratios against the first.

    JSON (costlab.compare/1) and CSV give one record per model with its ratios to the first; JSON
    also holds each model's full analysis (costlab.analysis/1).
    """
    if len(sources) < 2:
        raise click.UsageError("compare needs at least two models, e.g. costlab compare naive bottleneck")
    if measure:
        numeric_batch(batch, "timing a forward pass (--measure)")
        numeric_input(input_shape, "timing a forward pass (--measure)")
    if (measure or training) and (phase or seq is not None or context is not None):
        raise click.UsageError(f"{'--measure' if measure else '--training'} does not take --phase/--seq/--context "
                               "(they set a transformer's tokens; use costlab phases)")
    analyses = [a.by_depth(depth) for a in analyze_all(sources, input_shape, batch, mode, convention, phase, seq, context)]
    from ..document import analysis_dict, compare_records
    from ..render import table

    if measure:
        from ..bridge.profile import profile_source
        from ..render.table import measure_lines

        timed = [profile_source(s, input_shape, device=device, dtype=dtype, batch=int(batch), channels_last=channels_last,
                                warmup=warmup, repeats=repeats)[1] for s in sources]
        click.echo(measure_lines(analyses, timed), nl=False)

    if fmt == "json":
        from ..render.records import document

        text = document("costlab.compare/1", first=analyses[0].model, convention=analyses[0].convention,
                        models=compare_records(analyses), analyses=[analysis_dict(a) for a in analyses])
    elif fmt == "csv":
        from ..render.records import records_csv

        text = records_csv(compare_records(analyses))
    else:
        from ..legend import legend_text, name_sizes

        short, legend = name_sizes(analyses)
        text = table.compare_table(short, fmt)
        small = all(sum(1 for r in a.rows if r.macs != 0 or r.params) <= 12 for a in short)
        if formulas or (formulas is None and small):
            blocks = "\n".join(table.formulas_block(a) for a in short)
            text += "\n" + (table.markdown_code(blocks) if fmt == "markdown" else blocks)
        text += legend_text(legend, fmt)
    if training:
        from ..training.report import compare_records as training_records, compare_table as training_table, train_source

        records = training_records([(s, train_source(s, input_shape, batch)) for s in sources])
        if fmt == "json":
            import json

            from ..render.data import dumps

            doc = json.loads(text)
            doc["training"] = records
            text = dumps(doc)
        elif fmt == "csv":
            from ..render.records import records_csv as training_csv

            text += "\n" + training_csv(records)
        else:
            text += "\n" + training_table(records, fmt)
    emit(text, output)
    report_coverage(analyses, strict)
