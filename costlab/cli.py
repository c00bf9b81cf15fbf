"""The `costlab` command line (click). Exit codes: 0 ok, 1 a check failed, 2 bad usage or input."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import click

from .errors import CostlabError

FORMATS = ("table", "json", "csv", "markdown")


class InputError(click.ClickException):
    """Bad input (a spec, a file, a value): one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"costlab: error: {self.format_message()}", err=True)


class Group(click.Group):
    """Turns costlab's own errors into exit code 2 with one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CostlabError as e:
            raise InputError(str(e)) from None


def _input(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Any:
    if value is None:
        return None
    from .shapes import parse_input

    try:
        return parse_input(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _batch(ctx: click.Context, param: click.Parameter, value: str) -> Any:
    from .shapes import parse_dim

    try:
        return parse_dim(value, "batch")
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _conventions() -> List[str]:
    from .conventions import CONVENTIONS

    return list(CONVENTIONS)


input_option = click.option("--input", "input_shape", callback=_input, metavar="CxHxW",
                            help="Input shape without batch, e.g. 3x224x224 or 3xHxW (names make costs formulas).")
batch_option = click.option("--batch", default="1", callback=_batch, show_default=True, help="Batch size (a number or a name).")
mode_option = click.option("--mode", type=click.Choice(["infer", "train"]), default="infer", show_default=True,
                           help="train also counts training-only layers (auxiliary classifiers).")
convention_option = click.option("--convention", type=click.Choice(_conventions()), default="macs", show_default=True,
                                 help="What to count; see README 'Counting conventions'.")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically) instead of stdout.")


profile_options = [
    click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True),
    click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32", show_default=True),
    click.option("--channels-last", is_flag=True, help="Run in channels_last memory format."),
    click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True, help="Timed runs (median)."),
    click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True, help="Untimed runs first."),
]


def _profile_options(fn: Any) -> Any:
    for option in reversed(profile_options):
        fn = option(fn)
    return fn


def _analyze_all(sources: Sequence[str], input_shape: Any, batch: Any, mode: str, convention: str) -> List[Any]:
    from .analysis import analyze
    from .sources import load_source

    return [analyze(load_source(s, input_shape, batch, mode), input_shape, batch, mode, convention) for s in sources]


def _emit(text: str, output: Optional[str]) -> None:
    if output:
        from .files import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costlab")
def main() -> None:
    """costlab: what each layer of a CNN costs (MACs, params, activations), and why."""


@main.command("list")
@click.option("--types", is_flag=True, help="List the layer types a spec file can use, with their fields.")
def list_command(types: bool) -> None:
    """The built-in models with a one-line description and their totals."""
    from tabulate import tabulate

    if types:
        from .blocks import BLOCKS
        from .fields import describe_fields
        from .registry import aliases_of, all_types
        from .spec import STRUCTURAL

        rows = [[t.op, ", ".join(aliases_of(t.op)), describe_fields(t.cls), t.doc] for t in all_types() if not t.internal]
        rows += [[name, "", ", ".join(keys), "structural block"] for name, keys in STRUCTURAL.items()]
        rows += [[name, "", ", ".join(keys), (fn.__doc__ or "").strip().splitlines()[0]] for name, (fn, keys) in BLOCKS.items()]
        click.echo(tabulate(rows, headers=["type", "aliases", "fields", "what"], disable_numparse=True))
        return
    from . import zoo
    from .analysis import analyze
    from .numbers import format_si
    from .shapes import format_shape

    rows = []
    for name in zoo.names():
        graph = zoo.load(name)
        t = analyze(graph).total()
        rows.append([name, format_shape(graph.input_shape), format_si(t.macs), format_si(t.params), graph.description])
    click.echo(tabulate(rows, headers=["model", "input", "MACs", "params", "description"], disable_numparse=True))


@main.command()
@click.argument("source")
@input_option
@batch_option
@mode_option
@convention_option
@click.option("--depth", type=click.IntRange(min=1), help="Merge layers into blocks by the first N parts of their names.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--no-formulas", is_flag=True, help="Leave the formula column out of tables.")
@output_option
def analyze(source: str, input_shape: Any, batch: Any, mode: str, convention: str, depth: Optional[int],
            fmt: str, no_formulas: bool, output: Optional[str]) -> None:
    """Per-layer cost of SOURCE: a built-in model, a spec file, or module:factory."""
    (analysis,) = _analyze_all([source], input_shape, batch, mode, convention)
    analysis = analysis.by_depth(depth)
    from .render import data, table

    if fmt == "json":
        text = data.to_json([analysis])
    elif fmt == "csv":
        text = data.to_csv([analysis])
    else:
        text = table.analysis_table(analysis, fmt, formulas=not no_formulas)
    _emit(text, output)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@input_option
@batch_option
@mode_option
@convention_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--formulas/--no-formulas", default=None, help="Show per-layer arithmetic (default: when the models are small).")
@click.option("--measure", is_flag=True, help="Also time each model's forward pass and print the speed-up next to the MACs ratio.")
@_profile_options
@output_option
def compare(sources: Sequence[str], input_shape: Any, batch: Any, mode: str, convention: str, fmt: str,
            formulas: Optional[bool], measure: bool, device: str, dtype: str, channels_last: bool, repeats: int, warmup: int,
            output: Optional[str]) -> None:
    """Totals of two or more models side by side, with ratios against the first."""
    if len(sources) < 2:
        raise click.UsageError("compare needs at least two models, e.g. costlab compare naive bottleneck")
    analyses = _analyze_all(sources, input_shape, batch, mode, convention)
    from .render import data, table

    if measure:
        from .bridge.profile import profile_source
        from .render.table import measure_lines

        timed = [profile_source(s, input_shape, device=device, dtype=dtype, batch=int(batch), channels_last=channels_last,
                                warmup=warmup, repeats=repeats)[1] for s in sources]
        click.echo(measure_lines(analyses, timed), nl=False)

    if fmt == "json":
        text = data.to_json(analyses)
    elif fmt == "csv":
        text = data.to_csv(analyses)
    else:
        text = table.compare_table(analyses, fmt)
        small = all(sum(1 for r in a.rows if r.macs != 0 or r.params) <= 12 for a in analyses)
        if formulas or (formulas is None and small):
            blocks = "\n".join(table.formulas_block(a) for a in analyses)
            text += "\n" + (f"```\n{blocks}```\n" if fmt == "markdown" else blocks)
    _emit(text, output)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--against", metavar="SOURCE", help="Also compare block by block with another model (e.g. torchvision:googlenet).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) when costlab has no formula for an op of the model.")
@click.option("--all", "all_rows", is_flag=True, help="List modules with nothing to count too.")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True, help="Block depth for --against.")
@input_option
@mode_option
def verify(sources: Sequence[str], against: Optional[str], strict: bool, all_rows: bool, depth: int, input_shape: Any, mode: str) -> None:
    """Check costlab's numbers against fvcore and PyTorch, module by module (needs the torch extra).

    SOURCE is built as a real module (spec files, built-in models) or constructed with random weights
    (torchvision:NAME, module:factory); fvcore traces it; each module is exact, explained (a documented
    difference of convention) or a mismatch. Exit 1 on any mismatch.
    """
    try:
        from .bridge.verify import verify_source
    except ImportError as e:
        raise InputError(f"verify needs the torch extra (pip install 'costlab[torch]'): {e}") from None
    from .render.verify import summary_table, verification_table

    def run(source: str) -> Any:
        return verify_source(source, input_shape, mode)

    if len(sources) == 1:
        results = [run(sources[0])]
        click.echo(verification_table(results[0], all_rows), nl=False)
    else:
        from tqdm import tqdm

        results = []
        for source in tqdm(sources, desc="verifying", unit="model", file=click.get_text_stream("stderr")):
            results.append(run(source))
        click.echo(summary_table(results), nl=False)
    failed = any(not v.ok for v in results) or (strict and any(v.costlab_unsupported for v in results))
    if against:
        from .blockdiff import compare_blocks
        from .render.verify import block_table

        a, b = _analyze_all([sources[0], against], input_shape, 1, mode, "macs")
        click.echo("\n" + block_table(compare_blocks(a, b, depth), a.model, b.model), nl=False)
    if failed:
        raise SystemExit(1)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Chart file (.png or .svg).")
@click.option("--kind", type=click.Choice(["layers", "ops", "cumulative", "compare", "roofline", "sweep"]), default=None,
              help="layers (default for one model), ops, cumulative, compare (default for several), "
                   "roofline (profiles the model on the CPU first; see costlab profile for options).")
@click.option("--depth", type=click.IntRange(min=1), default=None, help="Blocks for the layers chart (default: 1).")
@input_option
@batch_option
@mode_option
def chart(sources: Sequence[str], output: str, kind: Optional[str], depth: Optional[int], input_shape: Any, batch: Any, mode: str) -> None:
    """Draw MACs and params per layer or block, by layer type, cumulatively, or compare models."""
    from .render.charts import KINDS, compare_figure, save

    analyses = _analyze_all(sources, input_shape, batch, mode, "macs")
    kind = kind or ("compare" if len(analyses) > 1 else "layers")
    if kind == "sweep":
        raise click.UsageError("use costlab sweep SOURCE --chart FILE for resolution sweeps")
    if kind == "roofline":
        if len(sources) != 1:
            raise click.UsageError("a roofline chart shows one model")
        from .bridge.profile import profile_source
        from .render.profile import roofline_chart

        analysis, measured = profile_source(sources[0], input_shape, batch=int(batch))
        roof = _roof("cpu", "float32", False, None, None)
        save(roofline_chart(analysis, measured, roof, "float32", f"{sources[0]}: roofline"), output)
        click.echo(f"wrote {output}")
        return
    if kind == "compare":
        if len(analyses) < 2:
            raise click.UsageError("a compare chart needs two or more models")
        fig = compare_figure(analyses)
    else:
        if len(analyses) != 1:
            raise click.UsageError(f"a {kind} chart shows one model; use --kind compare for several")
        analysis = analyses[0].by_depth(depth or 1) if kind == "layers" else analyses[0]
        fig = KINDS[kind](analysis)
    save(fig, output)
    click.echo(f"wrote {output}")


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The .html file to write (atomically).")
@click.option("--verify", "with_verify", is_flag=True, help="Run the fvcore check and show its status per layer (torch extra).")
@click.option("--profile", "with_profile", is_flag=True, help="Time each layer on the CPU and add the profile and a roofline (torch extra).")
@input_option
@batch_option
@mode_option
@convention_option
def report(sources: Sequence[str], output: str, with_verify: bool, with_profile: bool, input_shape: Any, batch: Any, mode: str,
           convention: str) -> None:
    """One self-contained HTML report: totals, charts, a sortable and filterable layer table."""
    from .files import write_atomic
    from .render.report import render_report

    analyses = _analyze_all(sources, input_shape, batch, mode, convention)
    verifications = None
    if with_verify:
        from .bridge.verify import verify_source

        verifications = [verify_source(s, input_shape, mode) for s in sources]
    profiles = None
    if with_profile:
        from .bridge.profile import profile_source
        from .render.charts import svg_text
        from .render.profile import profile_table, roofline_chart

        roof = _roof("cpu", "float32", False, None, None)
        profiles = []
        for s in sources:
            analysis, measured = profile_source(s, input_shape, batch=int(batch))
            profiles.append((profile_table(analysis, measured, roof, "float32"),
                             svg_text(roofline_chart(analysis, measured, roof, "float32", f"{s}: roofline"))))
    write_atomic(output, render_report(analyses, verifications, profiles))
    click.echo(f"wrote {output}")


def _roof(device: str, dtype: str, calibrate_: bool, peak_tflops: Optional[float], bandwidth_gbs: Optional[float]) -> Any:
    """The roofline device: flags, else a datasheet GPU, else a measurement (--calibrate, or always on a CPU)."""
    from .bridge.profile import _device_name, calibrate
    from .roofline import Device, known_device

    name = _device_name(device)
    known = None if calibrate_ else known_device(name) if device == "cuda" else None
    if known is None and (peak_tflops is None or bandwidth_gbs is None):
        peak, bandwidth = calibrate(device, dtype)
        known = Device(f"{name} (measured)", {dtype: peak}, bandwidth, "costlab --calibrate: matmul and copy on this machine")
    if peak_tflops is not None or bandwidth_gbs is not None:
        base = known
        known = Device(name, {dtype: peak_tflops * 1e12 if peak_tflops else base.peak_flops[dtype]},
                       bandwidth_gbs * 1e9 if bandwidth_gbs else base.bandwidth, "given by flags")
    return known


@main.command()
@click.argument("source")
@input_option
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@_profile_options
@click.option("--calibrate", "calibrate_", is_flag=True, help="Measure the device's peak FLOP/s and bandwidth for the roofline.")
@click.option("--peak-tflops", type=float, help="Override the roofline's peak (TFLOP/s).")
@click.option("--bandwidth-gbs", type=float, help="Override the roofline's memory bandwidth (GB/s).")
@click.option("--all", "all_rows", is_flag=True, help="Also list layers without multiply-adds.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw the roofline (.png or .svg).")
def profile(source: str, input_shape: Any, batch: int, device: str, dtype: str, channels_last: bool, repeats: int, warmup: int,
            calibrate_: bool, peak_tflops: Optional[float], bandwidth_gbs: Optional[float], all_rows: bool, chart: Optional[str]) -> None:
    """Measured time per layer next to MACs, achieved TFLOP/s, arithmetic intensity and the roofline bound."""
    try:
        from .bridge.profile import profile_source
    except ImportError as e:
        raise InputError(f"profile needs the torch extra (pip install 'costlab[torch]'): {e}") from None
    from .render.profile import profile_table

    analysis, measured = profile_source(source, input_shape, device=device, dtype=dtype, batch=batch,
                                        channels_last=channels_last, warmup=warmup, repeats=repeats)
    roof = _roof(device, dtype, calibrate_, peak_tflops, bandwidth_gbs)
    click.echo(profile_table(analysis, measured, roof, dtype, only_costly=not all_rows), nl=False)
    if chart:
        from .render.charts import save
        from .render.profile import roofline_chart

        save(roofline_chart(analysis, measured, roof, dtype, f"{source}: roofline, {dtype}"), chart)
        click.echo(f"wrote {chart}")


@main.command()
@click.option("--config", type=click.Path(dir_okay=False), help="costlab.toml or pyproject.toml (default: found from here up).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "github"]), default="table", show_default=True,
              help="github: workflow annotations (::error file=...,line=...::) for failed limits.")
def check(config: Optional[str], fmt: str) -> None:
    """Hold models to their budgets: exit 0 all pass, 1 a limit is exceeded, 2 a config error."""
    from pathlib import Path

    from .budgets import find_config, run_checks
    from .render.check import check_json, check_table, github_annotations

    path = Path(config) if config else find_config(Path.cwd())
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())  # annotations name files relative to the repository root
    outcomes = run_checks(path)
    shown = {"table": lambda: check_table(outcomes), "json": lambda: check_json(outcomes, str(path)),
             "github": lambda: github_annotations(outcomes, str(path))}[fmt]()
    click.echo(shown, nl=False)
    if not all(o.ok for o in outcomes):
        raise SystemExit(1)


@main.group()
def baseline() -> None:
    """Save a model's costs, and review changes against them."""


@baseline.command("save")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Baseline file to write (JSON).")
@input_option
@batch_option
@mode_option
def baseline_save(source: str, output: str, input_shape: Any, batch: Any, mode: str) -> None:
    """Write SOURCE's analysis (costlab.analysis/1 JSON) as a baseline to commit."""
    from .files import write_atomic
    from .render.data import to_json

    (analysis,) = _analyze_all([source], input_shape, batch, mode, "macs")
    write_atomic(output, to_json([analysis]))
    t = analysis.total()
    click.echo(f"saved {analysis.model}: {t.macs:,} MACs, {t.params:,} params -> {output}")


@baseline.command("diff")
@click.argument("baseline_file", type=click.Path(dir_okay=False))
@click.argument("source")
@click.option("--max-growth", default="0%", show_default=True, help="Allowed growth of total MACs and params (e.g. 2%).")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True, help="Compare blocks at this depth.")
def baseline_diff(baseline_file: str, source: str, max_growth: str, depth: int) -> None:
    """Per-block and total changes of SOURCE against a saved baseline; exit 1 past --max-growth."""
    from pathlib import Path

    from .baseline import diff, growth_failures, load_baseline, parse_growth, review_lines
    from .shapes import format_shape

    allowed = parse_growth(max_growth)
    doc = load_baseline(Path(baseline_file))
    shape = tuple(doc["input"])
    (analysis,) = _analyze_all([source], shape, doc["batch"], doc["mode"], "macs")
    lines = review_lines(diff(doc, analysis, depth))
    t = analysis.total()
    click.echo(f"{source} vs baseline {baseline_file} ({doc['model']}, input {format_shape(shape)}, mode {doc['mode']}):")
    click.echo("\n".join(f"  {line}" for line in lines) if lines else "  no change")
    click.echo(f"  total: {doc['totals']['macs']:,} -> {int(t.macs):,} MACs; {doc['totals']['params']:,} -> {t.params:,} params")
    failures = growth_failures(doc, analysis, allowed)
    for failure in failures:
        click.echo(f"FAIL: {failure}")
    if failures:
        raise SystemExit(1)


@main.command()
@click.argument("source")
@click.option("--resolution", "resolutions", default="128:512:32", show_default=True,
              help="Square input sizes: START:STOP:STEP (inclusive), a comma list, or one size.")
@click.option("--width", "widths", help="Sweep width multipliers instead (START:STOP:STEP or a list), at the default input.")
@click.option("--budget", help="Report the largest resolution (or width) within this many MACs (e.g. 1.5G).")
@batch_option
@mode_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw MACs and params against resolution (.png or .svg).")
def sweep(source: str, resolutions: str, widths: Optional[str], budget: Optional[str], batch: Any, mode: str, fmt: str,
          chart: Optional[str]) -> None:
    """Cost of SOURCE at many input resolutions, from one symbolic formula in the resolution R
    (or at many width multipliers: conv and hidden linear channels scaled, one analysis per point)."""
    from .numbers import format_si, parse_si
    from .sources import load_source
    from .sweep import largest_within, parse_factors, parse_range, resolution_sweep, width_sweep

    sizes = parse_range(resolutions)
    limit = None
    if budget is not None:
        try:
            limit = parse_si(budget)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--budget") from None
    from tqdm import tqdm

    def progress(items: Any) -> Any:
        return tqdm(items, desc="sweep", unit="pt", file=click.get_text_stream("stderr"), disable=len(sizes) < 2000)

    by = "width" if widths else "resolution"
    if widths:
        points = width_sweep(load_source(source), parse_factors(widths), None, batch, mode)
    else:
        points = resolution_sweep(load_source(source), sizes, batch, mode, progress)
    from .render.sweep import sweep_text

    click.echo(sweep_text(points, source, fmt, by), nl=False)
    if chart:
        from .render.charts import sweep_chart

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


if __name__ == "__main__":  # pragma: no cover
    main()
