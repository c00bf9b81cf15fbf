"""costlab profile: measured time per layer next to the counted cost (torch extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import click

if TYPE_CHECKING:
    from ..roofline import Device

from .common import emit, save_chart
from .errors import torch_extra_error
from .options import format_option, input_option, output_option, profile_options


def roof(device: str, dtype: str, calibrate_: bool, peak_tflops: Optional[float], bandwidth_gbs: Optional[float]) -> "Device":
    """The roofline device: flags, else a datasheet GPU, else a measurement (--calibrate, or always on a CPU)."""
    from ..bridge.profile import _device_name, calibrate
    from ..roofline import Device, known_device

    name = _device_name(device)
    known = None if calibrate_ else known_device(name) if device == "cuda" else None
    if known is None and (peak_tflops is None or bandwidth_gbs is None):
        peak, bandwidth = calibrate(device, dtype)
        known = Device(f"{name} (measured)", {dtype: peak}, bandwidth, "costlab --calibrate: matmul and copy on this machine")
    if known is None:  # both flags given, no datasheet: the flags are the whole roof
        assert peak_tflops is not None and bandwidth_gbs is not None
        return Device(name, {dtype: peak_tflops * 1e12}, bandwidth_gbs * 1e9, "given by flags")
    if peak_tflops is not None or bandwidth_gbs is not None:
        known = Device(name, {dtype: peak_tflops * 1e12 if peak_tflops else known.peak_flops[dtype]},
                       bandwidth_gbs * 1e9 if bandwidth_gbs else known.bandwidth, "given by flags")
    return known


def _profile_text(analysis: Any, measured: Any, device_roof: Any, dtype: str, all_rows: bool, fmt: str) -> str:
    from ..render.profile import measured_rows, profile_table
    from ..render.records import document, records, records_csv

    if fmt == "table":
        return profile_table(analysis, measured, device_roof, dtype, only_costly=not all_rows)
    keys = ("name", "macs", "bytes", "seconds", "achieved", "intensity", "bound")
    rows = [r for r in records(measured_rows(analysis, measured, device_roof, dtype), keys) if all_rows or r["macs"]]
    if fmt == "csv":
        return records_csv(rows)
    return document("costlab.profile/1", model=measured.model, device=measured.device, device_name=measured.device_name,
                    dtype=dtype, batch=measured.batch, roofline={"name": device_roof.name, "peak_flops": device_roof.peak_flops[dtype],
                                                                 "bandwidth": device_roof.bandwidth, "source": device_roof.source},
                    forward_seconds=measured.forward, forward_hooked_seconds=measured.forward_hooked, layers=rows)


@click.command()
@click.argument("source")
@input_option(symbolic=False, several=False)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size of the timed runs.")
@profile_options()
@click.option("--calibrate", "calibrate_", is_flag=True, help="Measure the device's peak FLOP/s and bandwidth for the roofline.")
@click.option("--peak-tflops", type=click.FloatRange(min=0, min_open=True), help="Override the roofline's peak (TFLOP/s).")
@click.option("--bandwidth-gbs", type=click.FloatRange(min=0, min_open=True), help="Override the roofline's memory bandwidth (GB/s).")
@click.option("--all", "all_rows", is_flag=True, help="Also list layers without multiply-adds.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw the roofline (.png or .svg).")
@format_option(["table", "json", "csv"], help="json and csv: seconds, FLOP/s and bytes as plain numbers.")
@output_option()
def profile(source: str, input_shape: Any, batch: int, device: str, dtype: str, channels_last: bool, repeats: int, warmup: int,
            calibrate_: bool, peak_tflops: Optional[float], bandwidth_gbs: Optional[float], all_rows: bool, chart: Optional[str],
            fmt: str, output: Optional[str]) -> None:
    """Measured time per layer next to MACs, achieved TFLOP/s, arithmetic intensity and the roofline bound.

    Spec files and built-in models are profiled at inference (no --mode), costs in MACs (no --convention).
    """
    try:
        from ..bridge.profile import profile_source
    except ImportError as e:
        raise torch_extra_error("profile", e) from None

    analysis, measured = profile_source(source, input_shape, device=device, dtype=dtype, batch=batch,
                                        channels_last=channels_last, warmup=warmup, repeats=repeats)
    device_roof = roof(device, dtype, calibrate_, peak_tflops, bandwidth_gbs)
    emit(_profile_text(analysis, measured, device_roof, dtype, all_rows, fmt), output)
    if chart:
        from ..render.profile import roofline_chart

        save_chart(roofline_chart(analysis, measured, device_roof, dtype, f"{source}: roofline, {dtype}"), chart)
        click.echo(f"wrote {chart}", err=output is None and fmt != "table")
