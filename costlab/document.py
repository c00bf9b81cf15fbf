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
    # coverage (additive keys: the rest of costlab.analysis/1 is unchanged): ops without a costlab rule,
    # and, for captured models, the inputs when more than one image and what the capture assumed
    doc["uncounted"] = [{"op": u.op, "count": u.count, "modules": list(u.modules)} for u in analysis.uncounted]
    if analysis.inputs:
        doc["inputs"] = analysis.inputs
    if analysis.assumptions:
        doc["assumptions"] = list(analysis.assumptions)
    return doc


def compare_records(analyses: List[Any]) -> List[Dict[str, Any]]:
    """One record per model: totals and each ratio against the first model (``other / first``; None
    when it is not a constant), with the words the table shows ('21.4x fewer MACs')."""
    from .conventions import get_convention
    from .ratios import ratio, ratio_text

    base = analyses[0]
    with_cost = base.convention != "macs"
    unit = get_convention(base.convention).unit
    base_totals, base_cost = base.total(), base.total_cost()
    out = []
    for a in analyses:
        t = a.total()
        record: Dict[str, Any] = {"model": a.model, "input": "x".join(str(d) for d in shape_list(a.input)),
                                  "macs": value(t.macs), "params": t.params}
        if with_cost:
            record["cost"] = value(a.total_cost())
        record["macs_vs_first"] = ratio(base_totals.macs, t.macs)
        record["params_vs_first"] = ratio(base_totals.params, t.params)
        if with_cost:
            record["cost_vs_first"] = ratio(base_cost, a.total_cost())
        first = a is base
        record["macs_change"] = "baseline" if first else ratio_text(base_totals.macs, t.macs, "MACs")
        record["params_change"] = "baseline" if first else ratio_text(base_totals.params, t.params, "params")
        if with_cost:
            record["cost_change"] = "baseline" if first else ratio_text(base_cost, a.total_cost(), unit)
        out.append(record)
    return out
