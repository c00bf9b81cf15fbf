"""How many (query, key) pairs an attention computes: densely, or only the ones its mask keeps.

Query i of the L new tokens sits at position p = T + i after T cached tokens. Densely it meets
every one of the T + L keys. Causally it meets the p + 1 keys at positions 0..p, and with a
sliding window of W at most the last W of them (key j is kept when p - W < j <= p, as Mistral's
mask and Hugging Face's ``sliding_window`` mask do). All functions work for ints and sympy symbols.
"""

from __future__ import annotations

from typing import Any, Optional

from ..numbers import is_int


def visible_cache(cache: Any, window: Optional[int]) -> Any:
    """Cached tokens an attention still holds: all of them, or the last ``window - 1`` with a sliding
    window (the new token makes ``window``: Mistral's rolling buffer; transformers' DynamicSlidingWindowLayer
    keeps ``sliding_window - 1``)."""
    if window is None:
        return cache
    if is_int(cache):
        return min(cache, window - 1)
    import sympy

    return sympy.Min(cache, window - 1)


def keys(length: Any, cache: Any, window: Optional[int]) -> Any:
    """Keys each new query is multiplied with in a dense (masked) matmul: the visible cache + L."""
    return visible_cache(cache, window) + length


def dense_pairs(length: Any, cache: Any) -> Any:
    """L x (T + L): every query against every key (what a masked matmul computes)."""
    return length * (cache + length)


def _window_prefix(n: Any, window: int) -> Any:
    """sum over x = 1..n of min(x, W): the pairs of the first n queries of a causal window-W attention."""
    if is_int(n):
        m = min(n, window)
        return m * (m + 1) // 2 + (n - m) * window
    import sympy

    m = sympy.Min(n, window)
    return m * (m + 1) / 2 + (n - m) * window


def kept_pairs(length: Any, cache: Any, causal: bool, window: Optional[int]) -> Any:
    """The (query, key) pairs the mask keeps.

    causal: L*T + L(L+1)/2 (each query sees itself and everything before it); with a window W:
    sum over p = T..T+L-1 of min(p + 1, W). Not causal: L x (T + L) (bidirectional attention keeps all).
    """
    if not causal:
        return dense_pairs(length, cache)
    if window is None:
        triangle = length * (length + 1) // 2 if is_int(length) else length * (length + 1) / 2  # sympy keeps /2 exact
        return length * cache + triangle
    return _window_prefix(cache + length, window) - _window_prefix(cache, window)


def pairs_text(length: Any, cache: Any, causal: bool, window: Optional[int]) -> str:
    """How the kept pairs are counted: 'causal keeps 4096(4096+1)/2 = 8,390,656 pairs per head'."""
    from ..numbers import format_int
    from ..shapes import format_dim

    n, t = format_dim(length), format_dim(cache)
    if not causal:
        how = f"{n}x({t}+{n})" if cache != 0 else f"{n}x{n}"
        rule = "bidirectional keeps"
    elif window is None:
        how = f"{n}x{t} + {n}({n}+1)/2" if cache != 0 else f"{n}({n}+1)/2"
        rule = "causal keeps"
    else:
        last = format_dim(cache + length - 1) if is_int(cache) and is_int(length) else f"{t}+{n}-1"
        how = f"sum of min(p+1, {window}) over positions p = {t}..{last}"
        rule = f"causal, window {window}, keeps"
    kept = kept_pairs(length, cache, causal, window)
    value = format_int(kept) if is_int(kept) else None
    return f"{rule} {how}{f' = {value}' if value and value != how else ''} pairs per head"
