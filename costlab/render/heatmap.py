"""Heatmap of a grid: MACs (or params, activations) over input resolution x width multiplier."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..numbers import format_si
from .charts import save


def grid_heatmap(grid: Any, path: str, metric: str = "macs", budget: Optional[int] = None, batch_index: int = 0) -> None:
    """One cell per (resolution, width) at one batch size, log-scaled colours, the budget as a contour.

    Writes PNG or SVG (by the suffix) atomically.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    values = np.asarray(getattr(grid, metric)[batch_index], dtype=np.float64)  # (resolution, width)
    fig = Figure(figsize=(8, 6), layout="constrained")
    ax = fig.subplots()
    widths = np.asarray(grid.width, dtype=np.float64)
    sizes = np.asarray(grid.resolution, dtype=np.float64)
    extent = (widths.min(), widths.max(), sizes.min(), sizes.max())
    positive = values[values > 0]
    norm = LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size and positive.min() < positive.max() else None
    image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, norm=norm, cmap="viridis", interpolation="nearest")
    unit = {"macs": "MACs", "params": "params", "activations": "activations"}[metric]
    fig.colorbar(image, ax=ax, label=unit)
    if budget is not None and len(widths) > 1 and len(sizes) > 1 and values.min() <= budget <= values.max():
        contour = ax.contour(widths, sizes, values, levels=[budget], colors="tab:red", linewidths=1.5)
        ax.clabel(contour, fmt={budget: f"budget {format_si(budget)} {unit}"})
    ax.set_xlabel("width multiplier")
    ax.set_ylabel("input resolution (R x R)")
    ax.set_title(f"{grid.model}: {unit} at batch {int(grid.batch[batch_index])}")
    save(fig, path)
