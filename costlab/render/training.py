"""Training charts: memory over the forward/backward schedule (peak marked) and the train/infer split per block."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ..analysis import prefix
from ..errors import CostlabError
from ..numbers import format_bytes, is_int


def schedule_data(memory: Any) -> List[Tuple[int, str, str, int]]:
    """(step index, phase, layer, live bytes) over the training schedule; numeric only."""
    if not all(is_int(p.bytes) for p in memory.timeline):
        raise CostlabError("the memory chart needs a numeric --input and --batch")
    return [(i, p.phase, p.name, int(p.bytes)) for i, p in enumerate(memory.timeline)]


def split_data(step: Any, depth: int = 1) -> Dict[str, Tuple[Any, Any]]:
    """Per block: (forward MACs, backward + recompute MACs)."""
    out: Dict[str, Tuple[Any, Any]] = {}
    for r in step.rows:
        key = prefix(r.name, depth)
        f, b = out.get(key, (0, 0))
        out[key] = (f + r.forward, b + r.backward + r.recompute)
    return out


def training_figure(training: Any, title: str) -> Any:
    """Two panels: live bytes over the schedule (forward, then backward; the peak marked) and per-block
    forward vs backward MACs."""
    from .charts import _figure

    points = schedule_data(training.memory)
    fig = _figure(rows=2)
    ax, bars = fig.subplots(2, 1)
    forward = [p for p in points if p[1] == "forward"]
    backward = [p for p in points if p[1] == "backward"]
    ax.plot([p[0] for p in forward], [p[3] / 2**20 for p in forward], label="forward", color="tab:blue")
    ax.plot([p[0] for p in backward], [p[3] / 2**20 for p in backward], label="backward", color="tab:orange")
    peak = max(points, key=lambda p: p[3])
    ax.plot([peak[0]], [peak[3] / 2**20], "o", color="tab:red")
    ax.annotate(f"peak {format_bytes(peak[3])}\n{peak[1]} {peak[2]}", (peak[0], peak[3] / 2**20), textcoords="offset points",
                xytext=(6, -24), fontsize=8)
    ax.set_xlabel("schedule step (layers in order, then in reverse)")
    ax.set_ylabel("live memory (MiB)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    split = split_data(training.step)
    names = list(split)
    bars.bar(range(len(names)), [split[n][0] / 1e6 for n in names], label="forward")
    bars.bar(range(len(names)), [split[n][1] / 1e6 for n in names], bottom=[split[n][0] / 1e6 for n in names], label="backward")
    bars.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    bars.set_ylabel("MMACs")
    bars.legend()
    return fig
