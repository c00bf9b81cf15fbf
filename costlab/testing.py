"""A pytest helper: hold a model to a budget in a project's own tests.

    from costlab.testing import assert_within_budget

    def test_googlenet_budget():
        assert_within_budget("googlenet", macs="1.6G", params="7M")
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .budgets import LIMITS, Budget, Limit, analyze_budget, evaluate
from .numbers import parse_si
from .render.check import check_table


def assert_within_budget(source: str, *, input: Optional[str] = None, batch: int = 1, mode: str = "infer",
                         blocks: Optional[Dict[str, Dict[str, Any]]] = None, **limits: Any) -> None:
    """Raise AssertionError, with the `costlab check` table as its message, when a limit is exceeded.

    ``limits``: macs, params, activations (SI strings or ints); ``blocks``: {pattern: {quantity: limit}}.
    """
    unknown = set(limits) - set(LIMITS)
    if unknown:
        raise TypeError(f"unknown limit(s) {sorted(unknown)}; use {', '.join(LIMITS)}")
    entries = [Limit(source, "", q, parse_si(v), 0) for q, v in limits.items()]
    for pattern, block_limits in (blocks or {}).items():
        entries += [Limit(source, pattern, q, parse_si(v), 0) for q, v in block_limits.items()]
    budget = Budget(source, source, input, batch, mode, tuple(entries))
    outcomes = evaluate(budget, analyze_budget(budget))
    if not all(o.ok for o in outcomes):
        raise AssertionError("model over budget:\n" + check_table(outcomes))
