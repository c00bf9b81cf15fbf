"""Charts with matplotlib's object API on the Agg backend (PNG or SVG), written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, List, Optional

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


def sweep_chart(points: List[Any], source: str, path: str, budget: Optional[int] = None) -> None:
    """MACs (and params) against input resolution, with the budget line when given."""
    fig = _figure(2, 3.2)
    macs_ax, params_ax = fig.subplots(2, 1, sharex=True)
    xs = [p.resolution for p in points]
    macs_ax.plot(xs, [p.macs / 1e9 for p in points], marker="." if len(xs) < 60 else None)
    macs_ax.set_ylabel("GMACs")
    macs_ax.set_title(f"{source}: cost against input resolution")
    if budget is not None:
        macs_ax.axhline(budget / 1e9, color="tab:red", linestyle="--", label=f"budget {budget / 1e9:g} GMACs")
        macs_ax.legend()
    params_ax.plot(xs, [p.params / 1e6 for p in points], color="tab:green")
    params_ax.set_ylabel("params (M)")
    params_ax.set_xlabel("input resolution (R x R)")
    for ax in (macs_ax, params_ax):
        ax.grid(alpha=0.3)
    save(fig, path)
