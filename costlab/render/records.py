"""Any result that is a list of records (dicts with plain values) as a table, Markdown, CSV or JSON.

Commands whose human table is built elsewhere use this for their machine formats: json (exact
integers, fixed key order, a ``schema`` first) and csv (one record per line, spreadsheet formulas
neutralised).
"""

from __future__ import annotations

import csv
import io
from typing import Any, Dict, List, Mapping, Optional, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: text starting with = + - @ gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Header line and one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def records_csv(records: Sequence[Mapping[str, Any]], headers: Optional[Sequence[str]] = None) -> str:
    """Records as CSV; columns are ``headers`` or the first record's keys."""
    keys = list(headers if headers is not None else (records[0].keys() if records else []))
    return csv_text(keys, [[r.get(k) for k in keys] for r in records])


def records_table(records: Sequence[Mapping[str, Any]], fmt: str = "table", headers: Optional[Sequence[str]] = None) -> str:
    """Records as a plain or GitHub-Markdown table (values shown as they are)."""
    keys = list(headers if headers is not None else (records[0].keys() if records else []))
    from .table import table_text

    rows = [["" if r.get(k) is None else r.get(k) for k in keys] for r in records]
    return table_text(rows, keys, fmt) + "\n"


def document(schema: str, **fields: Any) -> str:
    """A JSON document with ``schema`` first, then ``fields`` in the order given; ends with a newline."""
    from .data import dumps

    doc: Dict[str, Any] = {"schema": schema}
    doc.update(fields)
    return dumps(doc)


def records(rows: List[Any], keys: Sequence[str]) -> List[Dict[str, Any]]:
    """Objects (dataclasses, namedtuples) as dicts of the named attributes."""
    return [{k: getattr(r, k) for k in keys} for r in rows]
