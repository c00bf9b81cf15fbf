"""Profile tables: counted cost next to measured time, achieved FLOP/s and the roofline bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from tabulate import tabulate

from ..numbers import format_si
from ..roofline import Device, traffic


@dataclass(frozen=True)
class Measured:
    """One module: MACs, bytes, seconds, achieved FLOP/s, intensity, the roofline bound."""

    name: str
    macs: int
    bytes: int
    seconds: float
    achieved: float
    intensity: Optional[float]
    bound: float


def measured_rows(analysis: Any, profile: Any, device: Device, dtype: str) -> List[Measured]:
    """Rows grouped by module (captured 'module#op' rows join their module), for modules that were timed."""
    macs: Dict[str, int] = {}
    moved: Dict[str, int] = {}
    for row in analysis.rows:
        unit = row.name.split("#", 1)[0]
        macs[unit] = macs.get(unit, 0) + int(row.macs)
        moved[unit] = moved.get(unit, 0) + int(traffic(row, dtype).total)
    out = []
    for unit, seconds in profile.per_module.items():
        if unit not in macs:
            continue
        ai = 2 * macs[unit] / moved[unit] if moved[unit] else None
        out.append(Measured(unit, macs[unit], moved[unit], seconds, 2 * macs[unit] / seconds if seconds > 0 else 0.0, ai,
                            device.bound(ai, dtype)))
    return out


def profile_table(analysis: Any, profile: Any, device: Device, dtype: str, only_costly: bool = True) -> str:
    """Per layer: MACs, time, achieved TFLOP/s, intensity, roofline bound and its share; then the whole pass."""
    rows = []
    measured = measured_rows(analysis, profile, device, dtype)
    for m in measured:
        if only_costly and not m.macs:
            continue
        rows.append([m.name, format_si(m.macs), f"{m.seconds * 1e3:.3f}", f"{m.achieved / 1e12:.3f}",
                     "-" if m.intensity is None else f"{m.intensity:.1f}", f"{m.bound / 1e12:.2f}",
                     f"{100 * m.achieved / m.bound:.1f}%" if m.bound else ""])
    total_macs = int(analysis.total().macs)
    layer_sum = sum(profile.per_module.values())
    headers = ["layer", "MACs", "time ms", "achieved TFLOP/s", "FLOP/byte", "roofline TFLOP/s", "of roofline"]
    lines = [
        f"{profile.model} on {profile.device_name} ({profile.device}), {dtype}, batch {profile.batch}; roofline: {device.name} "
        f"(peak {device.peak_flops[dtype] / 1e12:.2f} TFLOP/s, {device.bandwidth / 1e9:.1f} GB/s; {device.source})",
        tabulate(rows, headers, disable_numparse=True),
        f"whole forward: {total_macs:,} MACs in {profile.forward * 1e3:.3f} ms (median) = "
        f"{2 * total_macs / profile.forward / 1e12:.3f} TFLOP/s; per-layer times sum to {layer_sum * 1e3:.3f} ms of "
        f"{profile.forward_hooked * 1e3:.3f} ms with hooks ({profile.overhead_text()})",
    ]
    return "\n".join(lines) + "\n"


def roofline_chart(analysis: Any, profile: Any, device: Device, dtype: str, title: str) -> Any:
    """The roofline figure of a profiled analysis (for `costlab profile --chart`, `chart --kind roofline`, reports)."""
    from .charts import roofline_figure

    return roofline_figure(measured_rows(analysis, profile, device, dtype), device, dtype, title)

