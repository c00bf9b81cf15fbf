"""Plain and GitHub-Markdown tables without importing tabulate on the start-up path.

``tabulate(rows, headers, tablefmt, disable_numparse=True)`` returns exactly what the tabulate package
returns for the cases costlab prints (ASCII text cells, one line each, left-aligned); anything else
(wide or non-ASCII characters, multi-line cells, other formats) is handed to the tabulate package
itself. A test compares the two on random tables.
"""

from __future__ import annotations

from typing import Any, List, Sequence

MIN_PADDING = 2  # tabulate's room around a header


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def tabulate(rows: Sequence[Sequence[Any]], headers: Sequence[Any] = (), tablefmt: str = "simple", disable_numparse: bool = True) -> str:
    """A table in tabulate's 'simple' or 'github' format (see the module docstring)."""
    cells = [[_text(v) for v in row] for row in rows]
    names = ["" if h is None else str(h) for h in headers]  # headers keep their spaces; cells are stripped
    plain = tablefmt in ("simple", "github") and disable_numparse and names and all(len(r) == len(names) for r in cells)
    if plain:
        joined = "".join(names) + "".join("".join(r) for r in cells)
        plain = joined.isascii() and joined.isprintable()
    if not plain:
        from tabulate import tabulate as real

        return real(rows, headers, tablefmt=tablefmt, disable_numparse=disable_numparse)
    widths = [max([len(n) + MIN_PADDING] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    if tablefmt == "simple":
        lines = [_simple(names, widths), "  ".join("-" * w for w in widths)] + [_simple(r, widths) for r in cells]
    else:
        lines = [_github(names, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [_github(r, widths) for r in cells]
    return "\n".join(lines)


def _simple(cells: List[str], widths: List[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


def _github(cells: List[str], widths: List[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
