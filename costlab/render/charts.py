"""Charts with matplotlib's object API on the Agg backend (PNG or SVG), written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from ..errors import CostlabError


def _figure(rows: int = 1, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(8, height * rows), layout="constrained")


def save(fig: Any, path: str) -> None:
    """Render to PNG or SVG by the file's suffix, then write atomically."""
    from ..files import write_atomic

    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg"):
        raise CostlabError(f"{path}: charts are written as .png or .svg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=suffix)
    write_atomic(path, buffer.getvalue())


def sweep_chart(points: List[Any], source: str, path: str, budget: Optional[int] = None, by: str = "resolution") -> None:
    """MACs (and params) against input resolution or width multiplier, with the budget line when given."""
    fig = _figure(2, 3.2)
    macs_ax, params_ax = fig.subplots(2, 1, sharex=True)
    xs = [p.resolution if by == "resolution" else p.width for p in points]
    macs_ax.plot(xs, [p.macs / 1e9 for p in points], marker="." if len(xs) < 60 else None)
    macs_ax.set_ylabel("GMACs")
    macs_ax.set_title(f"{source}: cost against {'input resolution' if by == 'resolution' else 'width multiplier'}")
    if budget is not None:
        macs_ax.axhline(budget / 1e9, color="tab:red", linestyle="--", label=f"budget {budget / 1e9:g} GMACs")
        macs_ax.legend()
    params_ax.plot(xs, [p.params / 1e6 for p in points], color="tab:green")
    params_ax.set_ylabel("params (M)")
    params_ax.set_xlabel("input resolution (R x R)" if by == "resolution" else "width multiplier")
    for ax in (macs_ax, params_ax):
        ax.grid(alpha=0.3)
    save(fig, path)


def layer_data(analysis: Any) -> List[Tuple[str, Any, int, float]]:
    """(name, MACs, params, share of MACs in %) per row, in depth order."""
    total = analysis.total().macs
    return [(r.name, r.macs, r.params, 100 * r.macs / total if total else 0.0) for r in analysis.rows]


def op_data(analysis: Any) -> List[Tuple[str, Any, float]]:
    """(layer type, MACs, share %) by type, largest first, types with no MACs left out."""
    total = analysis.total().macs
    ops = [(op, t.macs, 100 * t.macs / total if total else 0.0) for op, t in analysis.by_op().items() if t.macs]
    return sorted(ops, key=lambda o: -o[1])


def cumulative_data(analysis: Any) -> List[Tuple[str, Any]]:
    """(name, MACs so far) along the depth of the network."""
    running, out = 0, []
    for r in analysis.rows:
        running += r.macs
        out.append((r.name, running))
    return out


def compare_data(analyses: Sequence[Any]) -> List[Tuple[str, Any, int, str, str]]:
    """(model, MACs, params, MACs ratio text, params ratio text) against the first model."""
    from .table import ratio_text

    base = analyses[0].total()
    out = []
    for i, a in enumerate(analyses):
        t = a.total()
        out.append((a.model, t.macs, t.params, "baseline" if i == 0 else ratio_text(base.macs, t.macs, "MACs"),
                    "baseline" if i == 0 else ratio_text(base.params, t.params, "params")))
    return out


def _numeric(analysis: Any) -> None:
    if not isinstance(analysis.total().macs, int):
        raise CostlabError(f"{analysis.model}: charts need a numeric input (no symbols)")


def layers_figure(analysis: Any) -> Any:
    """MACs and params per layer (or block) as bars along depth, MACs bars labelled with their share."""
    _numeric(analysis)
    data = layer_data(analysis)
    fig = _figure(2, 3.4)
    macs_ax, params_ax = fig.subplots(2, 1, sharex=True)
    xs = range(len(data))
    bars = macs_ax.bar(xs, [d[1] / 1e6 for d in data], color="tab:blue")
    if len(data) <= 40:
        macs_ax.bar_label(bars, labels=[f"{d[3]:.0f}%" if d[3] >= 1 else "" for d in data], fontsize=7)
    macs_ax.set_ylabel("MMACs")
    macs_ax.set_title(f"{analysis.model}: cost per {'block' if len(data) <= 40 else 'layer'} (share of MACs on bars)")
    params_ax.bar(xs, [d[2] / 1e6 for d in data], color="tab:green")
    params_ax.set_ylabel("params (M)")
    params_ax.set_xticks(list(xs), [d[0] for d in data], rotation=90, fontsize=7 if len(data) <= 40 else 4)
    return fig


def ops_figure(analysis: Any) -> Any:
    """Share of MACs by layer type."""
    _numeric(analysis)
    data = op_data(analysis)
    fig = _figure(1, 0.5 + 0.4 * max(len(data), 2))
    ax = fig.subplots()
    bars = ax.barh([d[0] for d in data][::-1], [d[2] for d in data][::-1], color="tab:purple")
    ax.bar_label(bars, labels=[f"{d[2]:.1f}%" for d in data][::-1], fontsize=8)
    ax.set_xlabel("share of MACs (%)")
    ax.set_title(f"{analysis.model}: MACs by layer type")
    return fig


def cumulative_figure(analysis: Any) -> Any:
    """Cumulative MACs along the depth of the network."""
    _numeric(analysis)
    data = cumulative_data(analysis)
    fig = _figure(1, 3.4)
    ax = fig.subplots()
    ax.plot(range(len(data)), [d[1] / 1e9 for d in data], drawstyle="steps-post")
    ax.set_ylabel("cumulative GMACs")
    ax.set_xlabel("layer index along depth")
    ax.set_title(f"{analysis.model}: where the MACs accumulate")
    ax.grid(alpha=0.3)
    return fig


def compare_figure(analyses: Sequence[Any]) -> Any:
    """Totals side by side (MACs and params), each bar labelled with its ratio to the first model."""
    for a in analyses:
        _numeric(a)
    data = compare_data(analyses)
    fig = _figure(1, 3.6)
    macs_ax, params_ax = fig.subplots(1, 2)
    names = [d[0] for d in data]
    for ax, values, labels, unit, color in (
        (macs_ax, [d[1] for d in data], [d[3] for d in data], "MACs", "tab:blue"),
        (params_ax, [d[2] for d in data], [d[4] for d in data], "params", "tab:green"),
    ):
        bars = ax.bar(names, values, color=color)
        ax.bar_label(bars, labels=labels, fontsize=8)
        ax.set_title(unit)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.suptitle("comparison against " + names[0])
    return fig


def svg_text(fig: Any) -> str:
    """A figure as inline SVG markup (for self-contained HTML)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    import re

    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "costlab"}):  # stable element ids: the same report twice is identical
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)


KINDS = {"layers": layers_figure, "ops": ops_figure, "cumulative": cumulative_figure}


def roofline_figure(measured: Sequence[Any], device: Any, dtype: str, title: str) -> Any:
    """Log-log roofline: intensity (FLOP/byte) against achieved FLOP/s, the device's roof, a dot per layer."""
    points = [m for m in measured if m.intensity and m.achieved > 0]
    if not points:
        raise CostlabError("nothing to plot: no timed layer with multiply-adds")
    fig = _figure(1, 4.5)
    ax = fig.subplots()
    lo = min(m.intensity for m in points) / 2
    hi = max(max(m.intensity for m in points) * 2, device.peak_flops[dtype] / device.bandwidth * 4)
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(xs, [device.bound(x, dtype) for x in xs], color="black", label=f"{device.name} roof")
    ax.scatter([m.intensity for m in points], [m.achieved for m in points], s=12, color="tab:blue", label="layers")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig
