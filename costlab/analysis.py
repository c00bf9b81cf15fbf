"""Run the formulas over a graph: per-layer rows, totals, grouping by block and by op.

``analyze`` is the core entry point; ``Analysis`` is plain data that every renderer, checker and
comparer reads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional, Tuple

from .collector import collector_paused
from .conventions import get_convention
from .document import SCHEMA as SCHEMA  # re-exported: the schema name belongs to the document
from .document import analysis_dict
from .errors import FieldError, SpecError
from .graph import INPUT, Graph
from .numbers import format_int
from .registry import Text, for_layer, text_of
from .shapes import Dim, Shape

if TYPE_CHECKING:
    from .inputs import InputSpec

MODES = ("infer", "train")
_SEPARATOR = re.compile(r"[.#]")  # dotted groups; '#' separates a captured module from its ops


class Row(NamedTuple):
    """One layer's cost (or a group's, summed). MACs, activations and cost carry the batch.

    ``cost`` is the count under the analysis's convention; ``layer`` is the layer description
    (None for merged rows). The formula texts are built when first read (``macs_formula``,
    ``params_formula``, ``formula``); ``macs_text`` / ``params_text`` hold them or the function that
    builds them. Equality compares the costs and texts, not ``layer`` (as the texts describe it).
    """

    name: str
    op: str
    in_shapes: Tuple[Shape, ...]
    out_shape: Shape
    macs: Dim
    params: int
    biases: int
    activations: Dim
    macs_text: Text
    params_text: Text = ""
    cost: Dim = 0
    layer: Any = None

    @property
    def macs_formula(self) -> str:
        """The MACs arithmetic, e.g. '(14x14x48) x (5x5x480) = 112,896,000'."""
        return text_of(self.macs_text)

    @property
    def params_formula(self) -> str:
        """The params arithmetic ('' when the row has none)."""
        return text_of(self.params_text)

    @property
    def formula(self) -> str:
        """MACs and params arithmetic in one line."""
        params = self.params_formula
        return f"{self.macs_formula}; params {params}" if params else self.macs_formula

    def _key(self) -> Tuple[Any, ...]:
        return (*self[:8], self.macs_formula, self.params_formula, self.cost)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Row) and self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickled with its texts built (the functions that build them may be local)."""
        return (Row, (*self[:8], self.macs_formula, self.params_formula, self.cost, self.layer))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields[:8], self[:8]))
        return f"Row({fields}, macs_formula={self.macs_formula!r}, params_formula={self.params_formula!r}, cost={self.cost!r})"


@dataclass(frozen=True)
class Totals:
    """Sums over rows: MACs, params, biases, activations (output elements)."""

    macs: Dim
    params: int
    biases: int
    activations: Dim


@dataclass(frozen=True)
class Uncounted:
    """An op costlab could not count: its name (aten.upsample_bilinear2d), how often it ran, and where."""

    op: str
    count: int
    modules: Tuple[str, ...]  # the modules it ran in, '(top level)' for the model's own forward

    def text(self) -> str:
        """'aten.upsample_bilinear2d x2 in classifier, (top level)'."""
        return f"{self.op} x{self.count} in {', '.join(self.modules)}"


@dataclass(frozen=True)
class Coverage:
    """Which ops an analysis counted: with a rule and a count, with a rule that counts 0 under the convention
    (a ReLU under macs), and without a rule (never a silent zero: these are always shown)."""

    counted: int = 0
    zero: int = 0
    uncounted: Tuple[Uncounted, ...] = ()

    @property
    def ops(self) -> int:
        """Every op (row) of the analysis."""
        return self.counted + self.zero + sum(u.count for u in self.uncounted)

    @property
    def fraction(self) -> Any:
        """Ops with a rule / all ops, as an exact Fraction (1 when nothing is uncounted)."""
        from fractions import Fraction

        return Fraction(self.counted + self.zero, self.ops) if self.ops else Fraction(1)

    @property
    def basis_points(self) -> int:
        """The fraction in hundredths of a percent, rounded down (10000 = 100%: every op has a rule)."""
        return int(self.fraction * 10000)

    def lines(self) -> List[str]:
        """'not counted: aten.x x2 in a, b', one line per op; none when everything was counted."""
        return [f"not counted: {u.text()}" for u in self.uncounted]


def parse_coverage(text: Any) -> int:
    """A required coverage, '100%' or '99.5%', in basis points (10000 = 100%); ValueError otherwise."""
    from decimal import Decimal, InvalidOperation

    raw = str(text).strip()
    try:
        value = Decimal(raw[:-1] if raw.endswith("%") else "x")
    except InvalidOperation:
        raise ValueError(f"coverage is a percentage like \"100%\", got {text!r}") from None
    if not 0 <= value <= 100 or (value * 100) != int(value * 100):
        raise ValueError(f"coverage must be between 0% and 100% (at most two decimals), got {text!r}")
    return int(value * 100)


def coverage_of(rows: List[Row]) -> Coverage:
    """The coverage of per-op rows (before any merging by depth)."""
    counted = zero = 0
    missing: Dict[str, Dict[str, int]] = {}
    for row in rows:
        if row.op == "unsupported":
            module = row.name.split("#", 1)[0] or "(top level)"
            where = missing.setdefault(str(getattr(row.layer, "kind", row.name)), {})
            where[module] = where.get(module, 0) + 1
        elif row.cost != 0:
            counted += 1
        else:
            zero += 1
    uncounted = tuple(Uncounted(op, sum(where.values()), tuple(where)) for op, where in missing.items())
    return Coverage(counted, zero, uncounted)


@dataclass(frozen=True)
class Analysis:
    """The cost of one model at one input, batch, mode and convention."""

    model: str
    input: Shape
    batch: Dim
    mode: str
    convention: str
    rows: Tuple[Row, ...]
    description: str = ""
    groups: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    coverage: Coverage = Coverage()
    assumptions: Tuple[str, ...] = ()  # what a capture assumed where it needed values (captured models)
    inputs: str = ""  # the inputs, when more than one CxHxW image (captured models)

    @property
    def uncounted(self) -> Tuple[Uncounted, ...]:
        """The ops costlab could not count (empty when every op has a rule)."""
        return self.coverage.uncounted

    def total(self) -> Totals:
        """Totals over every row."""
        return _totals(list(self.rows))

    def cost(self, row: Row) -> Dim:
        """A row's count under this analysis's convention."""
        return row.cost

    def total_cost(self) -> Dim:
        """The convention's total."""
        return sum((r.cost for r in self.rows), 0)

    def by_depth(self, depth: Optional[int]) -> "Analysis":
        """Rows merged by the first ``depth`` parts of their names (None: unchanged)."""
        if depth is None:
            return self
        if depth < 1:
            raise ValueError("depth must be at least 1")
        group_ops = dict(self.groups)
        merged: Dict[str, List[Row]] = {}
        for row in self.rows:
            merged.setdefault(prefix(row.name, depth), []).append(row)
        rows = tuple(_merge(key, rows, group_ops.get(key, "group")) for key, rows in merged.items())
        return Analysis(self.model, self.input, self.batch, self.mode, self.convention, rows, self.description, self.groups,
                        self.coverage, self.assumptions, self.inputs)

    def by_op(self) -> Dict[str, Totals]:
        """Totals per layer type, in order of first appearance."""
        ops: Dict[str, List[Row]] = {}
        for row in self.rows:
            ops.setdefault(row.op, []).append(row)
        return {op: _totals(rows) for op, rows in ops.items()}

    def to_dict(self) -> Dict[str, Any]:
        """The JSON contract (schema costlab.analysis/1): exact integers, stable key order."""
        return analysis_dict(self)


def prefix(name: str, depth: int) -> str:
    """The first ``depth`` parts of a layer name: prefix('inception_3a.b1.conv', 1) == 'inception_3a'."""
    cuts = [m.start() for m in _SEPARATOR.finditer(name) if m.start() > 0]  # '#cat' (top-level op) is one part
    return name if len(cuts) < depth else name[: cuts[depth - 1]]


def _totals(rows: List[Row]) -> Totals:
    return Totals(
        sum((r.macs for r in rows), 0), sum(r.params for r in rows), sum(r.biases for r in rows), sum((r.activations for r in rows), 0)
    )


def _merge(name: str, rows: List[Row], op: str) -> Row:
    if len(rows) == 1 and rows[0].name == name:
        return rows[0]
    t = _totals(rows)
    costly = [r for r in rows if r.macs != 0]
    macs_text: Text = costly[0].macs_text if len(costly) == 1 else "0 MACs"
    if len(costly) > 1:
        macs_text = partial(_sum_text, tuple(r.macs for r in costly), t.macs)
    cost = sum((r.cost for r in rows), 0)
    return Row(name, op, rows[0].in_shapes, rows[-1].out_shape, t.macs, t.params, t.biases, t.activations, macs_text, "", cost)


_new_row = partial(tuple.__new__, Row)  # Row(*fields) without the Python-level __new__: one per layer of every analysis


def _sum_text(parts: Tuple[Dim, ...], total: Dim) -> str:
    """'1,505,280 + 3,763,200 = 5,268,480'."""
    return f"{' + '.join(format_int(m) for m in parts)} = {format_int(total)}"


def analyze(
    graph: Graph,
    input_shape: Optional[InputSpec] = None,
    batch: Dim = 1,
    mode: str = "infer",
    convention: str = "macs",
) -> Analysis:
    """Cost every layer of ``graph`` for an input (CxHxW, default the graph's) and batch size.

    ``mode='infer'`` skips train-only layers (GoogLeNet's auxiliary classifiers); ``'train'``
    counts them. Shape problems raise SpecError naming the graph's source, the layer and the field.
    Captured graphs carry the shapes PyTorch reported and are analysed at those.
    """
    with collector_paused():  # rows make no cycles: the collector's passes were 60% of 100,000 layers
        return _analyze(graph, input_shape, batch, mode, convention)


def _analyze(graph: Graph, input_shape: Optional[InputSpec], batch: Dim, mode: str, convention: str) -> Analysis:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    rules = get_convention(convention)
    count, per_mac = rules.count, rules.per_mac
    if graph.batch is not None:  # captured: analysed at the input and batch it was captured at
        batch, shape_in = graph.batch, graph.input_shape
    elif input_shape is None or type(input_shape) is tuple:  # one CxHxW image: costlab.inputs is not imported
        shape_in = tuple(input_shape or graph.input_shape)
    else:
        from .inputs import plain_shape

        shape_in = tuple(plain_shape(input_shape, graph.source or graph.name) or graph.input_shape)
    shapes: Dict[str, Shape] = {INPUT: (batch, *shape_in)}
    shape_of = shapes.__getitem__
    rows: List[Row] = []
    skip_train_only = mode == "infer"
    for node in graph.nodes:  # the hot loop of every analysis: kept lean (one Row per layer, texts deferred)
        if node.train_only and skip_train_only:
            continue
        layer, name = node.layer, node.name
        ins = node.recorded if node.recorded is not None else tuple(map(shape_of, node.inputs))
        entry = for_layer(layer)
        try:
            out, macs, params, biases, macs_text, params_text, label = entry.formula(layer, ins)
        except FieldError as e:
            raise SpecError(e.message, source=graph.source or graph.name, layer=name, field=e.field) from None
        shapes[name] = out
        if node.params is not None:
            params, biases, params_text = node.params.params, node.params.biases, node.params.text
        row = _new_row((name, label or entry.op, ins, out, macs, params, biases, math.prod(out), macs_text, params_text,
                        per_mac * macs if per_mac else 0, layer))
        if not per_mac:  # a convention with its own rule per op: count the row, then record the count
            counted = count(row, mode)
            row = row._replace(cost=counted) if counted != 0 else row
        rows.append(row)
    return Analysis(graph.name, shape_in, batch, mode, convention, tuple(rows), graph.description, graph.groups,
                    coverage_of(rows), graph.assumptions, graph.inputs)
