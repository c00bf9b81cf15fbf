"""The ``costlab.analysis/1`` document: an Analysis as plain data (dicts, lists, exact ints).

This is the JSON contract (README "JSON"); serialising it (``render/data.py``) and reading it back
(``baseline.py``) are elsewhere. Neither the analysis nor this module imports a renderer.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .numbers import is_int
from .shapes import Shape

SCHEMA = "costlab.analysis/1"


def value(x: Any) -> Any:
    """Exact ints stay ints; symbolic expressions become their formula text."""
    return int(x) if is_int(x) else str(x)


def shape_list(shape: Shape) -> List[Any]:
    """A shape as a list of ints (or formula strings)."""
    return [value(d) for d in shape]


def analysis_dict(analysis: Any) -> Dict[str, Any]:
    """The ``costlab.analysis/1`` document; keys in a fixed order, integers exact."""
    from .conventions import get_convention

    totals = analysis.total()
    doc: Dict[str, Any] = {
        "schema": SCHEMA,
        "model": analysis.model,
        "input": shape_list(analysis.input),
        "batch": value(analysis.batch),
        "mode": analysis.mode,
        "convention": analysis.convention,
        "totals": {
            "macs": value(totals.macs),
            "params": totals.params,
            "biases": totals.biases,
            "activations": value(totals.activations),
        },
        "layers": [],
    }
    with_cost = analysis.convention != "macs"
    if with_cost:
        doc["totals"]["cost"] = value(analysis.total_cost())
        doc["cost_unit"] = get_convention(analysis.convention).unit
    for row in analysis.rows:
        layer = {
            "name": row.name,
            "op": row.op,
            "in_shapes": [shape_list(s) for s in row.in_shapes],
            "out_shape": shape_list(row.out_shape),
            "macs": value(row.macs),
            "params": row.params,
            "biases": row.biases,
            "activations": value(row.activations),
            "formula": row.formula,
        }
        if with_cost:
            layer["cost"] = value(analysis.cost(row))
        doc["layers"].append(layer)
    return doc
