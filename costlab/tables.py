"""Big result tables out: CSV, JSON or Parquet by the file's suffix, always written atomically.

A table is a mapping of column name -> 1-d numpy array (int64, float64, bool, object for Python
ints past int64 or strings). Integers are written exactly; floats in their shortest round-trip form.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional

import numpy as np

from .errors import CostlabError

FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str, fmt: Optional[str] = None) -> str:
    """The format named, or the one the suffix says (.csv, .json, .parquet)."""
    if fmt:
        return fmt
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise CostlabError(f"{path}: unknown table format (use .csv, .json or .parquet)")
    return found


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary path beside ``path``, renamed into place when the block succeeds (removed if not)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CostlabError(f"{target}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(folder))
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _text(column: np.ndarray) -> np.ndarray:
    """A column as strings: ints exactly, floats by repr (shortest round trip), None as empty."""
    if column.dtype.kind in "iu":
        return column.astype(str)
    if column.dtype.kind == "b":
        return np.where(column, "true", "false")
    if column.dtype.kind == "f":
        values, inverse = np.unique(column, return_inverse=True)
        return np.array([repr(float(v)) for v in values], dtype=object)[inverse.ravel()]
    from .render.records import csv_cell  # text a spreadsheet would run as a formula gets a leading quote

    return np.array([_csv_field(str(csv_cell(v))) if isinstance(v, str) else ("" if v is None else str(v)) for v in column.tolist()],
                    dtype=object)


def _csv_field(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n\r') else text


def plain(value: Any) -> Any:
    """numpy scalars as Python ints, floats and bools (for JSON)."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def json_rows(columns: Mapping[str, np.ndarray]) -> list:
    """One dict per row with plain Python values (exact integers, None for missing)."""
    names = list(columns)
    return [dict(zip(names, (plain(v) for v in values))) for values in zip(*(np.asarray(columns[n]).tolist() for n in names))]


def to_csv_text(columns: Mapping[str, np.ndarray], chunk: int = 200_000) -> Iterator[str]:
    """CSV lines in chunks: a header, then one row per index."""
    names = list(columns)
    yield ",".join(names) + "\n"
    length = len(next(iter(columns.values()))) if columns else 0
    for start in range(0, length, chunk):
        parts = [_text(np.asarray(columns[n][start:start + chunk])) for n in names]
        rows = parts[0].astype(object)
        for p in parts[1:]:
            rows = rows + "," + p.astype(object)
        yield "\n".join(rows.tolist()) + "\n"


def write_table(columns: Mapping[str, np.ndarray], path: str, fmt: Optional[str] = None,
                meta: Optional[Dict[str, Any]] = None) -> None:
    """Write ``columns`` to ``path`` atomically as CSV, JSON ({"schema", meta..., "rows": [{...}]}) or Parquet."""
    kind = table_format(path, fmt)
    if kind == "parquet":
        table = arrow_table(columns, path)
        import pyarrow.parquet as pq

        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        if kind == "csv":
            for piece in to_csv_text(columns):
                handle.write(piece)
        elif kind == "json":
            handle.write(json.dumps({**(meta or {}), "rows": json_rows(columns)}, indent=1) + "\n")
        else:
            raise CostlabError(f"{path}: unknown table format {kind!r} (use csv, json or parquet)")


def arrow_table(columns: Mapping[str, np.ndarray], path: str = "") -> Any:
    """A pyarrow Table; integers past int64 are refused by name (Parquet cannot hold them exactly)."""
    try:
        import pyarrow as pa
    except ImportError:
        raise CostlabError("Parquet output needs pyarrow (pip install 'costlab[scale]')") from None
    arrays = {}
    for name, column in columns.items():
        column = np.asarray(column)
        if column.dtype == object and all(isinstance(v, int) or v is None for v in column.tolist()):
            if any(v is not None and not -2**63 <= v < 2**63 for v in column.tolist()):
                raise CostlabError(f"{path}: column '{name}' holds integers beyond int64, which Parquet cannot store "
                                   "exactly; write .csv or .json instead")
            arrays[name] = pa.array(column.tolist(), type=pa.int64())
        else:
            arrays[name] = pa.array(column.tolist() if column.dtype == object else column)
    return pa.table(arrays)
