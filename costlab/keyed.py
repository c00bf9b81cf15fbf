"""One decorator factory for every keyed table of rules (capture handlers, torch builders, array rules,
backward rules...): a function registered under keys, a key registered twice refused, as PyTorch's
``register_flop_formula`` does."""

from __future__ import annotations

from typing import Any, Callable, Dict, TypeVar

V = TypeVar("V", bound=Callable[..., Any])


def registrar(table: Dict[Any, V], what: str) -> Callable[..., Callable[[V], V]]:
    """``handles = registrar(HANDLERS, "capture handler")``; then ``@handles("addmm", "mm")`` puts the
    decorated function in ``table`` under each key (RuntimeError naming the key when one is taken)."""

    def register(*keys: Any) -> Callable[[V], V]:
        def decorate(fn: V) -> V:
            for key in keys:
                if key in table:
                    raise RuntimeError(f"{getattr(key, '__name__', repr(key))} has two {what}s")
                table[key] = fn
            return fn

        return decorate

    return register
