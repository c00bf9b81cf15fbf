"""One training step per row: forward, recomputed forward, backward (input and weight gradients).

``train_step(graph, analysis, ...)`` is the entry point; its result is plain data for the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

from .backward import Backward, backward
from .grad import GradNeeds, matches, needs
from .optimizer import Optimizer, get_optimizer


@dataclass(frozen=True)
class TrainRow:
    """One layer in a training step; counts under the step's convention (MACs by default)."""

    name: str
    op: str
    forward: Any
    recompute: Any
    grad_input: Any
    grad_weight: Any
    trainable: int  # trainable parameter elements this row owns (each counted once in the model)
    text: str
    counted: bool = True
    checkpointed: bool = False  # matched by --recompute: its forward runs again in the backward
    row: Any = field(default=None, compare=False, repr=False)

    @property
    def backward(self) -> Any:
        return self.grad_input + self.grad_weight

    @property
    def total(self) -> Any:
        return self.forward + self.recompute + self.backward


@dataclass(frozen=True)
class TrainStep:
    """A training step: rows, the optimizer's update, and what needed a gradient."""

    analysis: Any
    rows: Tuple[TrainRow, ...]
    needs: Dict[str, GradNeeds]
    optimizer: Optimizer
    trainable: int  # trainable parameter elements (each parameter once)
    frozen: Tuple[str, ...]
    recompute: Tuple[str, ...]
    convention: str

    def total(self, what: str) -> Any:
        """Sum of a TrainRow attribute (forward, recompute, grad_input, grad_weight, backward, total)."""
        return sum((getattr(r, what) for r in self.rows), 0)

    @property
    def update_ops(self) -> int:
        """The optimizer's elementwise operations for one step (not MACs)."""
        return self.optimizer.ops * self.trainable

    def by_module(self, what: str = "backward") -> Dict[str, Any]:
        """A TrainRow attribute summed per module and every enclosing one ('' = the whole model).

        Row names are module names or 'module#op'; ops of the top-level module belong to ''."""
        sums: Dict[str, Any] = {}
        for r in self.rows:
            module = r.name.split("#", 1)[0]
            parts = module.split(".") if module else []
            for depth in range(len(parts) + 1):
                key = ".".join(parts[:depth])
                sums[key] = sums.get(key, 0) + getattr(r, what)
        return sums

    @property
    def uncounted(self) -> List[TrainRow]:
        return [r for r in self.rows if not r.counted]


def _forward(row: Any, convention: str) -> Any:
    return row.macs if convention == "macs" else 2 * row.macs


def train_step(graph: Any, analysis: Any, frozen: Sequence[str] = (), recompute: Sequence[str] = (),
               optimizer: str = "sgd", convention: str = "macs") -> TrainStep:
    """Forward + backward per row of ``analysis`` (of ``graph``), with frozen and recomputed layers by glob."""
    opt = get_optimizer(optimizer)
    need = needs(graph, analysis.rows, frozen)
    rows: List[TrainRow] = []
    seen: Dict[str, int] = {}
    for row in analysis.rows:
        n = need[row.name]
        b: Backward = backward(row, n, convention)
        fwd = _forward(row, convention)
        checkpointed = matches(row.name, recompute) and n.output
        again = fwd if checkpointed else 0
        own = 0
        for key, size in n.trainable:
            if key not in seen:
                seen[key] = size
                own += size
        rows.append(TrainRow(row.name, row.op, fwd, again, b.grad_input, b.grad_weight, own, b.text, b.counted, checkpointed, row))
    return TrainStep(analysis, tuple(rows), need, opt, sum(seen.values()), tuple(frozen), tuple(recompute), convention)
