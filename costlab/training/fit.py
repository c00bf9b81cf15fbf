"""Will it fit: the largest batch (or input resolution) whose training peak fits a memory size.

Every point of the schedule is affine in the batch (each tensor is per-sample bytes x N, or does not
depend on N: parameters, optimizer state, batch norm statistics), so two plans (N and N + 1) give the
peak at every batch exactly: peak(N) = max_i(a_i + b_i N). Resolutions are searched (the peak does not
decrease as the input grows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional

from ..numbers import parse_bytes
from ..roofline import DEVICES
from .schedule import Memory

# Memory per device of costlab/roofline.py's table (datasheets: H100 SXM 80GB, H200 141GB, A100 80GB; HBM
# capacities are binary). The usable amount is a little less (CUDA context, allocator).
DEVICE_MEMORY: Dict[str, int] = {"h100": 80 * 2**30, "h200": 141 * 2**30, "a100": 80 * 2**30}


def memory_limit(text: str) -> int:
    """Bytes from '24GiB', '80GB', or a device name of the roofline table ('h100')."""
    key = text.strip().lower()
    if key in DEVICES:
        return DEVICE_MEMORY[key]
    try:
        return parse_bytes(text)
    except ValueError:
        raise ValueError(f"memory {text!r} is neither a size like 24GiB nor a device ({', '.join(DEVICE_MEMORY)})") from None


@dataclass(frozen=True)
class Fit:
    """The largest value that fits (0 if none), the peak there and the layer where it occurs."""

    value: int
    peak: int
    where: str
    limit: int


def largest_batch(plan_at: Callable[[int], Memory], limit: int, start: int = 1) -> Fit:
    """The largest batch whose training peak is at most ``limit`` bytes, from plans at ``start`` and ``start + 1``
    (batch norm in training needs 2 or more values per channel: pass start=2 where it matters)."""
    a, b = plan_at(start).timeline, plan_at(start + 1).timeline
    if len(a) != len(b):
        raise ValueError("the schedule changed with the batch size")
    best: Optional[int] = None
    for p, q in zip(a, b):
        slope = q.bytes - p.bytes
        base = p.bytes - slope * start
        if base > limit:
            return Fit(0, base, p.name, limit)
        if slope > 0:
            n = (limit - base) // slope
            best = n if best is None else min(best, n)
    if best is None:
        raise ValueError("the peak does not grow with the batch")
    peak = max(zip(a, b), key=lambda pq: pq[0].bytes + (pq[1].bytes - pq[0].bytes) * (best - start))
    return Fit(best, peak[0].bytes + (peak[1].bytes - peak[0].bytes) * (best - start), f"{peak[0].phase} {peak[0].name}", limit)


def largest_resolution(plan_at: Callable[[int], Memory], limit: int, low: int, high: int) -> Fit:
    """The largest R in [low, high] whose training peak at an R x R input is at most ``limit`` (bisection)."""
    def peak(r: int) -> int:
        return plan_at(r).peak.bytes

    if peak(low) > limit:
        return Fit(0, peak(low), "", limit)
    lo, hi = low, high
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if peak(mid) <= limit:
            lo = mid
        else:
            hi = mid - 1
    p = plan_at(lo).peak
    return Fit(lo, p.bytes, f"{p.phase} {p.name}", limit)
