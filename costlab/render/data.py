"""Analysis -> plain data (the JSON contract) and its serialisations: json and csv."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Dict, List

from ..numbers import is_int
from ..shapes import Shape


def _value(x: Any) -> Any:
    """Exact ints stay ints; symbolic expressions become their formula text."""
    return int(x) if is_int(x) else str(x)


def _shape(shape: Shape) -> List[Any]:
    return [_value(d) for d in shape]


def analysis_dict(analysis: Any) -> Dict[str, Any]:
    """The ``costlab.analysis/1`` document; keys in a fixed order, integers exact."""
    from ..analysis import SCHEMA
    from ..conventions import get_convention

    totals = analysis.total()
    doc: Dict[str, Any] = {
        "schema": SCHEMA,
        "model": analysis.model,
        "input": _shape(analysis.input),
        "batch": _value(analysis.batch),
        "mode": analysis.mode,
        "convention": analysis.convention,
        "totals": {
            "macs": _value(totals.macs),
            "params": totals.params,
            "biases": totals.biases,
            "activations": _value(totals.activations),
        },
        "layers": [],
    }
    with_cost = analysis.convention != "macs"
    if with_cost:
        doc["totals"]["cost"] = _value(analysis.total_cost())
        doc["cost_unit"] = get_convention(analysis.convention).unit
    for row in analysis.rows:
        layer = {
            "name": row.name,
            "op": row.op,
            "in_shapes": [_shape(s) for s in row.in_shapes],
            "out_shape": _shape(row.out_shape),
            "macs": _value(row.macs),
            "params": row.params,
            "biases": row.biases,
            "activations": _value(row.activations),
            "formula": row.formula,
        }
        if with_cost:
            layer["cost"] = _value(analysis.cost(row))
        doc["layers"].append(layer)
    return doc


def to_json(analyses: List[Any]) -> str:
    """One analysis as a document, several as a list; byte-identical for the same input."""
    docs = [analysis_dict(a) for a in analyses]
    return dumps(docs[0] if len(docs) == 1 else docs)


_SCALAR_LIST = re.compile(r'\[\s*((?:-?\d+|"[^"\n\\]*")(?:,\s*(?:-?\d+|"[^"\n\\]*"))*)\s*\]')


def dumps(doc: Any) -> str:
    """Indented JSON with lists of scalars (shapes) kept on one line; ends with a newline."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return _SCALAR_LIST.sub(lambda m: "[" + ", ".join(p.strip() for p in m.group(1).split(",")) + "]", text) + "\n"


def to_csv(analyses: List[Any]) -> str:
    """One row per layer (model column first), exact integers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "name", "op", "in_shapes", "out_shape", "macs", "params", "biases", "activations", "formula"])
    for analysis in analyses:
        for layer in analysis_dict(analysis)["layers"]:
            writer.writerow([
                analysis.model, layer["name"], layer["op"],
                " ".join("x".join(map(str, s)) for s in layer["in_shapes"]),
                "x".join(map(str, layer["out_shape"])),
                layer["macs"], layer["params"], layer["biases"], layer["activations"], layer["formula"],
            ])
    return out.getvalue()
