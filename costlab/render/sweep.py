"""Sweep results as a table, CSV or JSON."""

from __future__ import annotations

from typing import Any, List

from tabulate import tabulate

from ..numbers import format_int, format_si


def sweep_text(points: List[Any], source: str, fmt: str) -> str:
    """One row per resolution: exact and SI MACs, params, activations."""
    if fmt == "json":
        from .data import dumps

        return dumps({"schema": "costlab.sweep/1", "model": source,
                      "points": [{"resolution": p.resolution, "macs": p.macs, "params": p.params, "activations": p.activations} for p in points]})
    if fmt == "csv":
        lines = ["resolution,macs,params,activations"] + [f"{p.resolution},{p.macs},{p.params},{p.activations}" for p in points]
        return "\n".join(lines) + "\n"
    rows = [[f"{p.resolution}x{p.resolution}", format_si(p.macs), format_int(p.macs), format_si(p.params), format_si(p.activations)] for p in points]
    return tabulate(rows, ["input", "MACs", "exact MACs", "params", "activations"], disable_numparse=True) + "\n"
