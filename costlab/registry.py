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

import sys
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
_ORIGIN: Dict[str, str] = {}  # op -> the module whose body registered it (costlab.formulas.conv)
_ALL_LOADED = False


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
    origin = sys._getframe(1).f_globals.get("__name__", "")  # the family module calling register()

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
        _ORIGIN[op] = origin
        for alias in aliases:
            _ALIASES[alias] = op
        return formula

    return decorate


def _ensure_loaded() -> None:
    """Import every op family (for whole-registry queries)."""
    global _ALL_LOADED
    if not _ALL_LOADED:
        from . import formulas

        formulas.load_all()
        _ALL_LOADED = True


def _load_family(family: str) -> None:
    """Import one op family module of costlab.formulas ('conv'), which registers its ops."""
    import importlib

    importlib.import_module(f"{__package__}.formulas.{family}")


def lookup(op: str) -> Optional[LayerType]:
    """The layer type for a spec name or alias, or None. Imports only the op's family
    (costlab/formulas/_index.py says which)."""
    entry = _BY_OP.get(_ALIASES.get(op, op))
    if entry is None and not _ALL_LOADED:
        from .formulas._index import OPS

        family = OPS.get(op)
        if family is not None:
            _load_family(family)
            entry = _BY_OP.get(_ALIASES.get(op, op))
    return entry


def for_layer(layer: Any) -> LayerType:
    """The layer type of a layer instance (KeyError if its class has no formula)."""
    cls = type(layer)
    try:
        return _BY_CLASS[cls]
    except KeyError:
        from .formulas._index import CLASSES

        family = CLASSES.get(f"{cls.__module__}.{cls.__qualname__}")
        if family is not None:
            _load_family(family)
        else:
            _ensure_loaded()
        return _BY_CLASS[cls]


def _family_rank(entry: LayerType) -> int:
    """Where ``entry``'s family comes in costlab.formulas.families() (registered elsewhere: last)."""
    from .formulas import families

    names = families()
    module, _, family = _ORIGIN.get(entry.op, "").rpartition(".")
    return names.index(family) if module == f"{__package__}.formulas" and family in names else len(names)


def all_types() -> Iterator[LayerType]:
    """Every registered layer type, in the order of a full import: family by family as
    costlab.formulas.families() lists them, each in its own order (whatever was imported before)."""
    _ensure_loaded()
    return iter(sorted(_BY_OP.values(), key=_family_rank))


def aliases_of(op: str) -> Tuple[str, ...]:
    """The other spec names of ``op``."""
    _ensure_loaded()
    return tuple(a for a, o in _ALIASES.items() if o == op)


def origins() -> Dict[str, Dict[str, str]]:
    """What costlab/formulas/_index.py must hold: {"OPS": spec name or alias -> family ('conv'),
    "CLASSES": layer class ('costlab.formulas.conv.Conv2d') -> family}, for every op a family registers."""
    _ensure_loaded()
    prefix = f"{__package__}.formulas."
    family = {op: module[len(prefix):] for op, module in _ORIGIN.items() if module.startswith(prefix)}
    ops = dict(family)
    ops.update((alias, family[op]) for alias, op in _ALIASES.items() if op in family)
    classes = {f"{cls.__module__}.{cls.__qualname__}": family[e.op] for cls, e in _BY_CLASS.items() if e.op in family}
    return {"OPS": ops, "CLASSES": classes}
