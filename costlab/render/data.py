"""The analysis document (costlab/document.py) serialised: json and csv."""

from __future__ import annotations

import json
import re
from typing import Any, List

from ..document import analysis_dict


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
    """One row per layer (model column first), exact integers; a ``cost`` column when a convention
    other than macs is counted (as in JSON)."""
    from .records import csv_text

    with_cost = any(a.convention != "macs" for a in analyses)
    headers = ["model", "name", "op", "in_shapes", "out_shape", "macs", "params", "biases", "activations"]
    headers += ["cost", "formula"] if with_cost else ["formula"]
    rows = []
    for analysis in analyses:
        for layer in analysis_dict(analysis)["layers"]:
            row = [analysis.model, layer["name"], layer["op"],
                   " ".join("x".join(map(str, s)) for s in layer["in_shapes"]),
                   "x".join(map(str, layer["out_shape"])),
                   layer["macs"], layer["params"], layer["biases"], layer["activations"]]
            row += [layer.get("cost", layer["macs"]), layer["formula"]] if with_cost else [layer["formula"]]
            rows.append(row)
    return csv_text(headers, rows)
