"""costlab verify: costlab's numbers against fvcore and PyTorch (torch extra)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence

import click

from .common import analyze_all, emit, progress
from .errors import CheckFailed, torch_extra_error
from .options import depth_option, format_option, input_option, mode_option, output_option, strict_option

UNIT_KEYS = ("name", "macs", "ours", "fvcore", "params", "torch_params", "status", "note")


def _verification_dict(v: Any) -> Dict[str, Any]:
    return {"model": v.model, "ok": v.ok, "macs": v.macs, "ours": v.ours, "fvcore": v.fvcore, "params": v.params,
            "torch_params": v.torch_params, "fvcore_unsupported": dict(sorted(v.fvcore_unsupported.items())),
            "costlab_unsupported": list(v.costlab_unsupported),
            "units": [{k: getattr(u, k) for k in UNIT_KEYS} for u in v.units]}


def _machine_text(results: List[Any], fmt: str, blocks: Optional[List[Any]]) -> str:
    from ..render.records import document, records_csv

    if fmt == "json":
        fields: Dict[str, Any] = {"ok": all(v.ok for v in results), "models": [_verification_dict(v) for v in results]}
        if blocks is not None:
            fields["against"] = [asdict(d) for d in blocks]
        return document("costlab.verify/1", **fields)
    rows = [{"model": v.model, **{k: getattr(u, k) for k in UNIT_KEYS}} for v in results for u in v.units]
    return records_csv(rows, ["model", *UNIT_KEYS])


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--against", metavar="SOURCE", help="Also compare block by block with another model (e.g. torchvision:googlenet).")
@strict_option()
@click.option("--all", "all_rows", is_flag=True, help="List modules with nothing to count too.")
@depth_option(default=1, help="Block depth for --against.")
@input_option(symbolic=False)
@mode_option()
@format_option(help="json and csv hold every module of every model.")
@output_option()
def verify(sources: Sequence[str], against: Optional[str], strict: bool, all_rows: bool, depth: int, input_shape: Any, mode: str,
           fmt: str, output: Optional[str]) -> None:
    """Check costlab's numbers against fvcore and PyTorch, module by module (needs the torch extra).

    SOURCE is built as a real module (spec files, built-in models) or constructed with random weights
    (torchvision:NAME, module:factory); fvcore traces it; each module is exact, explained (a documented
    difference of convention) or a mismatch. Exit 1 on any mismatch. The batch is 1, and the counts
    are MACs and fvcore's rules side by side (no --batch or --convention).
    """
    try:
        from ..bridge.verify import verify_source
    except ImportError as e:
        raise torch_extra_error("verify", e) from None
    from ..render.verify import block_table, summary_table, verification_table

    results = [verify_source(s, input_shape, mode) for s in progress(sources, "verifying", "model", minimum=2)]
    blocks = None
    if against:
        from ..blockdiff import compare_blocks

        a, b = analyze_all([sources[0], against], input_shape, 1, mode, "macs")
        blocks = compare_blocks(a, b, depth)
    if fmt in ("json", "csv"):
        text = _machine_text(results, fmt, blocks)
    else:
        tablefmt = "github" if fmt == "markdown" else "simple"
        text = verification_table(results[0], all_rows, tablefmt) if len(results) == 1 else summary_table(results, tablefmt)
        if blocks is not None:
            text += "\n" + block_table(blocks, a.model, b.model, tablefmt)
    emit(text, output)
    if any(not v.ok for v in results) or (strict and any(v.costlab_unsupported for v in results)):
        raise CheckFailed()
