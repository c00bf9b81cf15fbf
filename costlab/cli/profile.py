"""costlab profile: measured time per layer next to the counted cost (torch extra)."""

from __future__ import annotations

from typing import Any, Optional

import click

from .errors import InputError
from .options import input_option, profile_options


def roof(device: str, dtype: str, calibrate_: bool, peak_tflops: Optional[float], bandwidth_gbs: Optional[float]) -> Any:
    """The roofline device: flags, else a datasheet GPU, else a measurement (--calibrate, or always on a CPU)."""
    from ..bridge.profile import _device_name, calibrate
    from ..roofline import Device, known_device

    name = _device_name(device)
    known = None if calibrate_ else known_device(name) if device == "cuda" else None
    if known is None and (peak_tflops is None or bandwidth_gbs is None):
        peak, bandwidth = calibrate(device, dtype)
        known = Device(f"{name} (measured)", {dtype: peak}, bandwidth, "costlab --calibrate: matmul and copy on this machine")
    if peak_tflops is not None or bandwidth_gbs is not None:
        base = known
        known = Device(name, {dtype: peak_tflops * 1e12 if peak_tflops else base.peak_flops[dtype]},
                       bandwidth_gbs * 1e9 if bandwidth_gbs else base.bandwidth, "given by flags")
    return known


@click.command()
@click.argument("source")
@input_option()
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@profile_options()
@click.option("--calibrate", "calibrate_", is_flag=True, help="Measure the device's peak FLOP/s and bandwidth for the roofline.")
@click.option("--peak-tflops", type=float, help="Override the roofline's peak (TFLOP/s).")
@click.option("--bandwidth-gbs", type=float, help="Override the roofline's memory bandwidth (GB/s).")
@click.option("--all", "all_rows", is_flag=True, help="Also list layers without multiply-adds.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw the roofline (.png or .svg).")
def profile(source: str, input_shape: Any, batch: int, device: str, dtype: str, channels_last: bool, repeats: int, warmup: int,
            calibrate_: bool, peak_tflops: Optional[float], bandwidth_gbs: Optional[float], all_rows: bool, chart: Optional[str]) -> None:
    """Measured time per layer next to MACs, achieved TFLOP/s, arithmetic intensity and the roofline bound."""
    try:
        from ..bridge.profile import profile_source
    except ImportError as e:
        raise InputError(f"profile needs the torch extra (pip install 'costlab[torch]'): {e}") from None
    from ..render.profile import profile_table

    analysis, measured = profile_source(source, input_shape, device=device, dtype=dtype, batch=batch,
                                        channels_last=channels_last, warmup=warmup, repeats=repeats)
    device_roof = roof(device, dtype, calibrate_, peak_tflops, bandwidth_gbs)
    click.echo(profile_table(analysis, measured, device_roof, dtype, only_costly=not all_rows), nl=False)
    if chart:
        from ..render.charts import save
        from ..render.profile import roofline_chart

        save(roofline_chart(analysis, measured, device_roof, dtype, f"{source}: roofline, {dtype}"), chart)
        click.echo(f"wrote {chart}")
