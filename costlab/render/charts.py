"""Charts with matplotlib's object API on the Agg backend (PNG or SVG), written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from ..errors import CostlabError
from ..numbers import format_si


DPI = 200  # PNG resolution: sharp on HiDPI screens (an 8-inch figure is 1600 px wide)


def _figure(rows: int = 1, height: float = 4.0, width: float = 8.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height * rows), layout="constrained", dpi=DPI)


def chart_format(path: str) -> str:
    """'png' or 'svg', by the file's suffix; a CostlabError for any other (checked before anything is written)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg"):
        raise CostlabError(f"{path}: charts are written as .png or .svg")
    return suffix


def save(fig: Any, path: str) -> None:
    """Render to PNG or SVG by the file's suffix, then write atomically."""
    from ..files import write_atomic

    suffix = chart_format(path)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    import matplotlib

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "costlab", "svg.fonttype": "none"}):  # SVG text stays text
        fig.savefig(buffer, format=suffix, dpi=DPI, metadata={"Date": None} if suffix == "svg" else None)
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


def _si_axis(axis: Any) -> None:
    """Ticks in costlab's K/M/G units (never '1e10' offsets or raw 600000)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=2))
    axis.set_major_formatter(FuncFormatter(lambda x, _: format_si(round(x)) if x >= 0 else ""))


def _nothing(ax: Any, title: str, reason: str) -> None:
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, f"nothing to chart: {reason}", ha="center", va="center", transform=ax.transAxes, color="0.4")


def _hbars(ax: Any, names: Sequence[str], values: Sequence[Any], labels: Sequence[str], color: str, title: str) -> None:
    """Horizontal bars from the top, labelled at their ends; the axis leaves room for the labels."""
    if not any(values):
        _nothing(ax, title, "every value is 0")
        return
    ys = range(len(values))
    bars = ax.barh(list(ys), list(values), color=color)
    ax.bar_label(bars, labels=list(labels), padding=3, fontsize=8)
    ax.set_yticks(list(ys), list(names), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(values) * 1.35)
    _si_axis(ax.xaxis)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)


def _limit(data: List[Tuple[str, Any, int, float]], limit: int = 40) -> List[Tuple[str, Any, int, float]]:
    """At most ``limit`` rows: the largest by MACs in their order, the rest summed into one 'other' row."""
    if len(data) <= limit:
        return data
    keep = set(sorted(range(len(data)), key=lambda i: -data[i][1])[: limit - 1])
    rest = [d for i, d in enumerate(data) if i not in keep]
    other = (f"other ({len(rest)})", sum(d[1] for d in rest), sum(d[2] for d in rest), sum(d[3] for d in rest))
    return [d for i, d in enumerate(data) if i in keep] + [other]


def layers_figure(analysis: Any) -> Any:
    """MACs and params per layer (or block) as horizontal bars in network order, labelled with value and share."""
    _numeric(analysis)
    data = _limit(layer_data(analysis))
    total_params = analysis.total().params
    fig = _figure(1, 0.8 + 0.22 * len(data), width=11)
    macs_ax, params_ax = fig.subplots(1, 2, sharey=True)
    names = [d[0] for d in data]
    _hbars(macs_ax, names, [d[1] for d in data], [f"{format_si(d[1], True)} · {d[3]:.1f}%" if d[1] else "" for d in data],
           "tab:blue", f"{analysis.model}: MACs (total {format_si(analysis.total().macs, True)})")
    _hbars(params_ax, names, [d[2] for d in data],
           [f"{format_si(d[2], True)} · {100 * d[2] / total_params:.1f}%" if d[2] else "" for d in data],
           "tab:green", f"params (total {format_si(total_params, True)})")
    return fig


def ops_figure(analysis: Any) -> Any:
    """Share of MACs by layer type (one vocabulary for built-in and captured models)."""
    from .vocabulary import canonical_op

    _numeric(analysis)
    merged: dict = {}
    for op, macs, share in op_data(analysis):
        m, s = merged.get(canonical_op(op), (0, 0.0))
        merged[canonical_op(op)] = (m + macs, s + share)
    data = sorted(merged.items(), key=lambda kv: -kv[1][0])
    fig = _figure(1, 0.9 + 0.3 * max(len(data), 2))
    ax = fig.subplots()
    title = f"{analysis.model}: MACs by layer type"
    if not data:
        _nothing(ax, title, "no layer has MACs")
        return fig
    _hbars(ax, [d[0] for d in data], [d[1][0] for d in data], [f"{format_si(d[1][0], True)} · {d[1][1]:.1f}%" for d in data],
           "tab:purple", title)
    return fig


def cumulative_figure(analysis: Any) -> Any:
    """Cumulative MACs along the depth of the network (integer layer positions, K/M/G ticks)."""
    from matplotlib.ticker import MaxNLocator

    _numeric(analysis)
    data = cumulative_data(analysis)
    fig = _figure(1, 3.4)
    ax = fig.subplots()
    title = f"{analysis.model}: where the MACs accumulate"
    if sum(1 for r in analysis.rows if r.macs) < 2:
        _nothing(ax, title, "fewer than two layers have MACs")
        return fig
    ax.plot(range(1, len(data) + 1), [d[1] for d in data], drawstyle="steps-post")
    ax.set_ylim(0, data[-1][1] * 1.05)
    _si_axis(ax.yaxis)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("cumulative MACs")
    ax.set_xlabel("layer (network order)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def compare_figure(analyses: Sequence[Any]) -> Any:
    """Totals side by side (MACs and params), each bar labelled with its value and its ratio to the first model."""
    for a in analyses:
        _numeric(a)
    data = compare_data(analyses)
    fig = _figure(1, 0.9 + 0.45 * len(data), width=11)
    macs_ax, params_ax = fig.subplots(1, 2, sharey=True)
    names = [d[0] for d in data]
    _hbars(macs_ax, names, [d[1] for d in data], [f"{format_si(d[1], True)} ({d[3]})" for d in data], "tab:blue", "MACs")
    _hbars(params_ax, names, [d[2] for d in data], [f"{format_si(d[2], True)} ({d[4]})" for d in data], "tab:green", "params")
    for ax in (macs_ax, params_ax):
        if ax.axison:
            ax.set_xlim(0, ax.get_xlim()[1] * 1.3)  # room for the ratio text
    fig.suptitle("comparison against " + names[0])
    return fig


def svg_text(fig: Any) -> str:
    """A figure as inline SVG markup (for self-contained HTML)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    import re

    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "costlab", "svg.fonttype": "none"}):  # stable ids; text as <text>
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
