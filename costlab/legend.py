"""Readable symbolic results: every derived size (floor/ceiling of the input's names) gets a short
name, defined once in a legend.

With ``--input 3xHxW`` a deep network's sizes nest (``ceiling(ceiling(floor(H/2 + 1/2)/2 - 1/2)/2 -
1/2)``) and its costs repeat them. ``name_sizes`` names each derived size after its input symbol in
order of appearance (H1, H2, ...; D1, ... for a size of several symbols), each defined from the
names before it (``H2 = ceiling(H1/2 - 1/2)``), and rewrites the rows with the names. The
substitution is exact: evaluating the legend in order and then a row gives the numeric analysis
(tests check this). JSON and CSV keep the full expressions (the contract); tables use the names.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Dict, List, Sequence, Tuple

from .numbers import expr_text, is_int

Legend = List[Tuple[Any, Any]]  # (name symbol, definition in the input's names and earlier names)


def _derived_sizes(analyses: Sequence[Any]) -> List[Any]:
    """Every non-trivial symbolic size in the analyses' shapes, in order of first appearance."""
    seen: Dict[Any, None] = {}
    for analysis in analyses:
        for row in analysis.rows:
            for shape in (*row.in_shapes, row.out_shape):
                for dim in shape:
                    if not is_int(dim) and not getattr(dim, "is_Symbol", False) and not getattr(dim, "is_Number", False):
                        seen.setdefault(dim, None)
    return list(seen)


def _names(sizes: List[Any]) -> Dict[Any, Any]:
    """{size expression: new symbol}: H1, H2, ... after the size's one input symbol, else D1, D2, ..."""
    import sympy

    taken = {str(s) for size in sizes for s in size.free_symbols}
    counters: Dict[str, int] = {}
    names: Dict[Any, Any] = {}
    for size in sizes:
        symbols = sorted(str(s) for s in size.free_symbols)
        stem = symbols[0] if len(symbols) == 1 else "D"
        while True:
            counters[stem] = counters.get(stem, 0) + 1
            name = f"{stem}{counters[stem]}"
            if name not in taken:
                break
        taken.add(name)
        names[size] = sympy.Symbol(name, integer=True, positive=True)
    return names


def _pattern(size: Any) -> "re.Pattern[str]":
    """Where ``size`` stands whole in formula text: '(H + 2)' for a sum (a sum inside a product or a
    shape is always parenthesised; a bare 'H + 2' may be the tail of '128*H + 256'), else the call
    'floor(H/2 + 1/2)' not glued to a longer name or call."""
    body = re.escape(expr_text(size))
    if size.is_Add:
        return re.compile(rf"\({body}\)")
    return re.compile(rf"\({body}\)|(?<![\w.]){body}(?![\w(])")


def name_sizes(analyses: Sequence[Any]) -> Tuple[List[Any], Legend]:
    """The analyses with derived sizes replaced by short names, and the legend defining the names.

    Integer analyses come back unchanged with an empty legend.
    """
    sizes = _derived_sizes(analyses)
    if not sizes:
        return list(analyses), []
    names = _names(sizes)
    legend = [(names[size], size.xreplace({s: n for s, n in names.items() if s != size})) for size in sizes]
    patterns = [(_pattern(size), str(name)) for size, name in sorted(names.items(), key=lambda item: -len(expr_text(item[0])))]

    def value(v: Any) -> Any:
        return v if is_int(v) else v.xreplace(names)

    def text(formula: str) -> str:
        for pattern, short in patterns:
            formula = pattern.sub(short, formula)
        return formula

    def shape(s: Any) -> Any:
        return tuple(value(d) for d in s)

    renamed = []
    for analysis in analyses:
        rows = tuple(r._replace(in_shapes=tuple(shape(s) for s in r.in_shapes), out_shape=shape(r.out_shape), macs=value(r.macs),
                                activations=value(r.activations), cost=value(r.cost), macs_text=text(r.macs_formula))
                     for r in analysis.rows)
        renamed.append(replace(analysis, rows=rows))
    return renamed, legend


def legend_text(legend: Legend, fmt: str = "table") -> str:
    """'where H1 = floor(H/2 + 1/2), ...' one definition a line ('' without a legend)."""
    if not legend:
        return ""
    lines = [f"{name} = {expr_text(definition)}" for name, definition in legend]
    if fmt == "markdown":
        return "\nwhere\n\n```\n" + "\n".join(lines) + "\n```\n"
    return "\nwhere\n" + "".join(f"  {line}\n" for line in lines)


def evaluate(legend: Legend, values: Dict[str, int]) -> Dict[Any, int]:
    """The legend's names as integers at the input's values ({'H': 224, 'W': 224}), in order."""
    import sympy

    known: Dict[Any, int] = {sympy.Symbol(k, integer=True, positive=True): v for k, v in values.items()}
    for name, definition in legend:
        known[name] = int(definition.xreplace(known))
    return known
