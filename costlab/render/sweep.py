"""Sweep results as a table, Markdown, CSV or JSON."""

from __future__ import annotations

from typing import Any, List

from tabulate import tabulate

from ..numbers import format_int, format_si


def sweep_text(points: List[Any], source: str, fmt: str, by: str = "resolution") -> str:
    """One row per resolution: exact and SI MACs, params, activations."""
    if fmt == "json":
        from .data import dumps

        return dumps({"schema": "costlab.sweep/1", "model": source,
                      "points": [{"resolution": p.resolution, "width": p.width, "macs": p.macs, "params": p.params, "activations": p.activations} for p in points]})
    if fmt == "csv":
        lines = ["resolution,width,macs,params,activations"] + [f"{p.resolution},{p.width:g},{p.macs},{p.params},{p.activations}" for p in points]
        return "\n".join(lines) + "\n"
    rows = [[f"{p.resolution}x{p.resolution}", f"{p.width:g}", format_si(p.macs), format_int(p.macs), format_si(p.params), format_int(p.params),
             format_si(p.activations)] for p in points]
    headers = ["input", "width", "MACs", "exact MACs", "params", "exact params", "activations"]
    return tabulate(rows, headers, tablefmt="github" if fmt == "markdown" else "simple", disable_numparse=True) + "\n"
