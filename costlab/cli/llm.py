"""costlab phases: a transformer's prefill and decode side by side (KV cache, bytes, intensity, roofline)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from .common import emit, numeric_batch, save_chart
from .options import CONTEXT, SEQ, format_option, output_option


def _costs(sources: Sequence[str], seq: Any, context: Any, dtype: str, batch: int) -> List[Tuple[str, str, Any]]:
    """(model, phase, PhaseCost): a prefill of --seq tokens and a decode step after --context, per model."""
    from ..llm.phases import phase_cost
    from ..sources import load_source

    costs = []
    for source in sources:
        graph = load_source(source)
        prompt = seq if seq is not None else graph.input_shape[0]
        tokens = context if context is not None else prompt
        for phase in ("prefill", "decode"):
            costs.append((source, phase, phase_cost(graph, phase, prompt, tokens if phase == "decode" else None, dtype, batch)))
    return costs


def _record(source: str, phase: str, cost: Any, dtype: str, device: str, human: bool) -> Dict[str, Any]:
    from ..numbers import format_int, format_si, is_int
    from ..roofline import DEVICES

    roof = DEVICES[device]
    numeric = is_int(cost.causal_macs) and is_int(cost.bytes)
    show = format_si if human else (lambda v: v if is_int(v) else str(v))
    exact = format_int if human else show
    record = {
        "model": source, "phase": phase, "tokens": exact(cost.tokens), "context": exact(cost.context),
        "MACs": show(cost.macs), "MACs (causal)": show(cost.causal_macs), "params": show(cost.params),
        "active params": show(cost.active_params), "KV bytes/token": exact(cost.kv_bytes_per_token),
        "KV cache bytes": show(cost.kv_cache_bytes), "bytes moved": show(cost.bytes),
        "FLOP/byte": str(cost.intensity), f"{device} bound": "", f"{device} ms (roofline)": "",
    }
    if numeric:
        memory_bound = float(cost.bytes) / roof.bandwidth > 2 * float(cost.causal_macs) / roof.peak_flops[dtype]
        ms = 1e3 * cost.seconds(roof, dtype)
        record.update({"FLOP/byte": f"{float(cost.intensity):.1f}" if human else float(cost.intensity),
                       f"{device} bound": "memory" if memory_bound else "compute",
                       f"{device} ms (roofline)": f"{ms:.3g}" if human else ms})
    return record


@click.command("phases")
@click.argument("sources", nargs=-1, required=True)
@click.option("--seq", type=SEQ, metavar="L", help="Prompt length for prefill (default: the model's, 512); a number or a name.")
@click.option("--context", type=CONTEXT, metavar="T", help="Tokens in the KV cache for the decode step (default: --seq).")
@click.option("--dtype", type=click.Choice(["float16", "bfloat16", "float32"]), default="float16", show_default=True,
              help="Bytes per weight, activation and cache element.")
@click.option("--device", "device", type=click.Choice(["h100", "h200", "a100"]), default="h100", show_default=True,
              help="Datasheet roofline (costlab/roofline.py) for the time bound.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences at once.")
@format_option()
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw each phase on the device's roofline (.png or .svg).")
@output_option()
def phases(sources: Sequence[str], seq: Any, context: Any, dtype: str, device: str, batch: int, fmt: str, chart: Optional[str],
           output: Optional[str]) -> None:
    """Prefill (--seq tokens) and one decode step (1 token after --context cached) of each transformer:
    MACs dense and causal, params (active: MoE), KV cache per token and in total, bytes moved, FLOPs per
    byte, and the roofline's lower bound on the time: decode reads every weight for one token, so it is
    memory-bound."""
    from ..render.records import document, records_csv, records_table

    from ..numbers import is_int

    costs = _costs(sources, seq, context, dtype, batch)
    records = [_record(m, p, c, dtype, device, human=fmt in ("table", "markdown")) for m, p, c in costs]
    if chart:
        if not all(is_int(c.causal_macs) for _, _, c in costs):
            raise click.UsageError("a roofline chart needs numbers: give --seq and --context as numbers")
        from ..render.llm import phases_roofline_figure
        from ..roofline import DEVICES

        save_chart(phases_roofline_figure([(f"{m} {p}", c) for m, p, c in costs], DEVICES[device], dtype), chart)
    if fmt == "json":
        text = document("costlab.phases/1", dtype=dtype, device=device, phases=records)
    elif fmt == "csv":
        text = records_csv(records)
    else:
        text = records_table(records, fmt)
    emit(text, output)


def seq_sweep_command(source: str, lengths: str, batch: Any, fmt: str, chart: Optional[str], output: Optional[str],
                      budget: Optional[int] = None) -> None:
    """costlab sweep SOURCE --seq ...: prefill cost against sequence length, where attention overtakes the
    MLP, and (--budget) the longest swept length within a MACs budget."""
    from ..llm.seqsweep import crossover, longest_input, parse_lengths, seq_sweep
    from ..render.llm import seq_sweep_figure, seq_sweep_text
    from ..sources import load_source

    n = numeric_batch(batch, "a sequence sweep")
    graph = load_source(source)
    points = seq_sweep(graph, parse_lengths(lengths), n)
    crossings = (crossover(graph, False, n), crossover(graph, True, n))
    if chart:
        save_chart(seq_sweep_figure(points, source, crossings), chart)
    text = seq_sweep_text(points, source, fmt, crossings, longest_input(graph))
    if budget is not None and fmt in ("table", "markdown"):
        from ..numbers import format_si

        within = [p for p in points if p.macs <= budget]
        text += (f"longest length within {format_si(budget)} MACs: L = {within[-1].length:,} ({within[-1].macs:,} MACs)\n" if within
                 else f"no length in the sweep stays within {format_si(budget)} MACs\n")
    emit(text, output)
