"""The one registry of op families: spec name -> everything the rest of costlab knows about the op.

Modelled on ``register_flop_formula`` in PyTorch's torch/utils/flop_counter.py: a decorator that
refuses duplicates, so each op has exactly one formula. One ``register`` call carries the layer
dataclass, its cost formula (any rank), the other tools' counting rules as data (``fvcore``,
``torch``: see ``costlab.conventions.Rule``), how width sweeps scale it (``widen``), how block diffs
describe it (``describe``), and the names the torch bridge captures it under (``aten``: ATen op
names; ``functions``: torch functions recorded as one op). The bridge keeps its capture handlers and
torch builders in decorator registries keyed by those names and classes; a test checks that every
registered op has all of these, or an explicit ``NA("why")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Tuple, Type, Union

from .shapes import Shape

Formula = Callable[[Any, Tuple[Shape, ...]], "LayerCost"]


@dataclass(frozen=True)
class NA:
    """An explicit "not applicable" for one part of a registration, with the reason."""

    reason: str


# widen: how a width multiplier scales a layer: fn(layer, factor, in_channels, head) -> layer, or FOLLOWS
# (head: no weighted layer reads its output, as a classifier's; in_channels: before widening)
FOLLOWS = NA("has no width of its own: its output follows its input")
Widen = Union[Callable[[Any, float, Any, bool], Any], NA]


Text = Union[str, Callable[[], str]]
"""Formula text, or a function that builds it: text is built only when it is shown."""


def text_of(text: Text) -> str:
    """The formula text itself (built now if it was deferred)."""
    return text if isinstance(text, str) else text()


class LayerCost(NamedTuple):
    """What one layer costs for given input shapes.

    macs: multiply-accumulates; params: weights + biases (+ norm affine); biases: the bias part of
    params (conv, linear and recurrent biases; norm shifts are params, not biases). The formula
    texts (``macs_text``, ``params_text``) are built from the same numbers, when first read through
    ``macs_formula`` / ``params_formula`` (a formula passes a function, so analyses that print no
    text never build it). A NamedTuple: analyses build one per layer, and tuples are cheap to make.
    """

    out_shape: Shape
    macs: Any
    params: int
    biases: int
    macs_text: Text
    params_text: Text = ""
    label: str = ""  # the row's op name when it is not the registered one (captured ops)

    @property
    def macs_formula(self) -> str:
        """The MACs arithmetic, e.g. '(14x14x48) x (5x5x480) = 112,896,000'."""
        return text_of(self.macs_text)

    @property
    def params_formula(self) -> str:
        """The params arithmetic ('' when the layer has none)."""
        return text_of(self.params_text)

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickled with its texts built (the functions that build them may be local)."""
        return (LayerCost, (*self[:4], self.macs_formula, self.params_formula, self.label))


@dataclass(frozen=True)
class LayerType:
    """A registered op: its spec name, dataclass, formula, input count, and its family's facts.

    kind: 'weighted' (has a width: conv, linear, ...), 'norm', 'pool', 'resample', 'wiring',
    'elementwise', 'lookup', 'recorded'.
    """

    op: str
    cls: type
    formula: Formula
    min_inputs: int
    max_inputs: Optional[int]
    doc: str
    internal: bool = False  # created by the torch bridge only; not accepted in spec files
    kind: str = ""
    rules: Dict[str, Any] = field(default_factory=dict)  # convention name -> conventions.Rule
    widen: Optional[Widen] = None
    describe: Optional[Union[Callable[[Any], str], NA]] = None
    aten: Union[Tuple[str, ...], NA, None] = None
    functions: Tuple[str, ...] = ()


_BY_OP: Dict[str, LayerType] = {}
_BY_CLASS: Dict[type, LayerType] = {}
_ALIASES: Dict[str, str] = {}


def register(
    op: str, cls: Type[Any], *, aliases: Tuple[str, ...] = (), inputs: Tuple[int, Optional[int]] = (1, 1), internal: bool = False,
    kind: str = "", fvcore: Any = None, torch: Any = None, widen: Optional[Widen] = None,
    describe: Optional[Union[Callable[[Any], str], NA]] = None, aten: Union[Tuple[str, ...], NA, None] = None,
    functions: Tuple[str, ...] = (),
) -> Callable[[Formula], Formula]:
    """Register ``formula`` for layers of ``cls`` under the spec name ``op`` (and ``aliases``).

    fvcore / torch: how fvcore's FlopCountAnalysis and torch's FlopCounterMode count the op
    (``conventions.Rule``); widen: ``fn(layer, factor, in_channels, head) -> layer`` or ``FOLLOWS``;
    describe: ``fn(layer) -> 'conv 3x3'`` for block diffs, or ``NA``; aten: the ATen op names the
    bridge captures as this layer; functions: torch functions recorded as one op of this layer.
    """

    def decorate(formula: Formula) -> Formula:
        for name in (op, *aliases):
            if name in _BY_OP or name in _ALIASES:
                raise RuntimeError(f"layer type {name!r} is registered twice")
        if cls in _BY_CLASS:
            raise RuntimeError(f"{cls.__name__} already has a formula")
        rules = {name: rule for name, rule in (("fvcore", fvcore), ("torch", torch)) if rule is not None}
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        entry = LayerType(op, cls, formula, inputs[0], inputs[1], doc, internal, kind, rules, widen, describe, aten, functions)
        _BY_OP[op] = entry
        _BY_CLASS[cls] = entry
        for alias in aliases:
            _ALIASES[alias] = op
        return formula

    return decorate


def _ensure_loaded() -> None:
    from . import formulas  # noqa: F401  (registers every formula on import)


def lookup(op: str) -> Optional[LayerType]:
    """The layer type for a spec name or alias, or None."""
    _ensure_loaded()
    return _BY_OP.get(_ALIASES.get(op, op))


def for_layer(layer: Any) -> LayerType:
    """The layer type of a layer instance (KeyError if its class has no formula)."""
    try:
        return _BY_CLASS[type(layer)]
    except KeyError:
        _ensure_loaded()
        return _BY_CLASS[type(layer)]


def all_types() -> Iterator[LayerType]:
    """Every registered layer type, in registration order."""
    _ensure_loaded()
    return iter(_BY_OP.values())


def aliases_of(op: str) -> Tuple[str, ...]:
    """The other spec names of ``op``."""
    _ensure_loaded()
    return tuple(a for a, o in _ALIASES.items() if o == op)
