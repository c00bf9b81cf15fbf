"""Transformer results: sequence-length sweeps (costlab.llm.seqsweep) as a table, CSV, JSON and a chart;
prefill and decode on the roofline (costlab.llm.phases)."""

from __future__ import annotations

from typing import Any, List, Optional

from ..numbers import format_int, format_si

KEYS = ("length", "macs", "causal_macs", "attention", "causal_attention", "mlp", "kv_cache_bytes")


def seq_sweep_text(points: List[Any], source: str, fmt: str, crossings: Any, longest: Optional[int] = None) -> str:
    """One row per length; the lengths where attention overtakes the MLP (dense, causal) after tables."""
    dense, causal = crossings
    if fmt == "json":
        from .records import document

        return document("costlab.seqsweep/1", model=source, attention_overtakes_mlp={"dense": dense, "causal": causal},
                        longest_input=longest,
                        points=[{k: getattr(p, k) for k in KEYS} for p in points])
    if fmt == "csv":
        from .records import csv_text

        return csv_text(KEYS, [[getattr(p, k) for k in KEYS] for p in points])
    from tabulate import tabulate

    rows = [[format_int(p.length), format_si(p.macs), format_si(p.causal_macs), format_si(p.attention), format_si(p.causal_attention),
             format_si(p.mlp), f"{p.attention / p.mlp:.2f}" if p.mlp else "", format_si(p.kv_cache_bytes)] for p in points]
    headers = ["L", "MACs", "MACs (causal)", "attention", "attention (causal)", "MLP", "attention/MLP", "KV cache (fp16 bytes)"]
    text = tabulate(rows, headers, tablefmt="github" if fmt == "markdown" else "simple", disable_numparse=True) + "\n"
    return text + crossing_line(dense, causal, longest)


def crossing_line(dense: Optional[int], causal: Optional[int], longest: Optional[int] = None) -> str:
    """'attention (QK^T + AV) overtakes the MLP at L = 16,513 (dense) and L = 33,024 (causal)'."""
    if dense is None:
        return "attention (QK^T + AV) never overtakes the MLP (no MLP rows)\n"
    beyond = f" (by the formulas: the model takes at most {longest:,} tokens)" if longest is not None and dense > longest else ""
    return (f"attention (QK^T + AV) overtakes the MLP from L = {dense:,} counted densely, "
            f"L = {causal:,} counting only the pairs the causal mask keeps{beyond}\n")


def seq_sweep_figure(points: List[Any], source: str, crossings: Any) -> Any:
    """MACs of attention (dense, causal), the MLPs and the whole model against L, log-log."""
    from .charts import _figure

    fig = _figure(1, 4.2)
    ax = fig.subplots()
    xs = [p.length for p in points]
    ax.plot(xs, [p.macs for p in points], color="black", label="whole model (dense)")
    ax.plot(xs, [p.mlp for p in points], color="tab:green", label="MLPs")
    ax.plot(xs, [p.attention for p in points], color="tab:red", label="attention QK^T + AV (dense)")
    ax.plot(xs, [p.causal_attention for p in points], color="tab:red", linestyle="--", label="attention (causal pairs only)")
    for value, style in zip(crossings, ("-", "--")):
        if value is not None and xs[0] <= value <= xs[-1]:
            ax.axvline(value, color="gray", linestyle=style, linewidth=0.8)
            ax.text(value, 0.5, f"attention = MLP at L = {value:,}", transform=ax.get_xaxis_transform(), rotation=90, fontsize=8,
                    va="center", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length L (prefill, batch 1)")
    ax.set_ylabel("MACs")
    ax.set_title(f"{source}: cost against sequence length")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def phases_roofline_figure(costs: List[Any], device: Any, dtype: str) -> Any:
    """Each (model, phase) at its arithmetic intensity on the device's roofline: the attainable FLOP/s
    there (min(peak, bandwidth x intensity)), decode on the slope, prefill under the flat roof."""
    from .charts import _figure

    fig = _figure(1, 4.5)
    ax = fig.subplots()
    ridge = device.peak_flops[dtype] / device.bandwidth
    points = [(label, float(c.intensity)) for label, c in costs]
    lo = min(min(i for _, i in points) / 4, ridge / 100)
    hi = max(max(i for _, i in points) * 4, ridge * 10)
    xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    ax.plot(xs, [device.bound(x, dtype) for x in xs], color="black", label=f"{device.name}, {dtype} ({device.source})")
    for (label, intensity), marker in zip(points, "os^vDP*X" * 4):
        ax.scatter([intensity], [device.bound(intensity, dtype)], marker=marker, s=40, label=f"{label}: {intensity:.1f} FLOP/byte", zorder=3)
    ax.axvline(ridge, color="gray", linestyle=":", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("attainable FLOP/s (roofline bound)")
    ax.set_title(f"prefill and decode on the roofline (ridge {ridge:.0f} FLOP/byte)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return fig
