"""costlab verify: costlab's numbers against fvcore and PyTorch (torch extra)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import click

from .common import analyze_all
from .errors import CheckFailed, InputError
from .options import depth_option, input_option, mode_option


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--against", metavar="SOURCE", help="Also compare block by block with another model (e.g. torchvision:googlenet).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) when costlab has no formula for an op of the model.")
@click.option("--all", "all_rows", is_flag=True, help="List modules with nothing to count too.")
@depth_option(default=1, help="Block depth for --against.")
@input_option()
@mode_option()
def verify(sources: Sequence[str], against: Optional[str], strict: bool, all_rows: bool, depth: int, input_shape: Any, mode: str) -> None:
    """Check costlab's numbers against fvcore and PyTorch, module by module (needs the torch extra).

    SOURCE is built as a real module (spec files, built-in models) or constructed with random weights
    (torchvision:NAME, module:factory); fvcore traces it; each module is exact, explained (a documented
    difference of convention) or a mismatch. Exit 1 on any mismatch.
    """
    try:
        from ..bridge.verify import verify_source
    except ImportError as e:
        raise InputError(f"verify needs the torch extra (pip install 'costlab[torch]'): {e}") from None
    from ..render.verify import summary_table, verification_table

    def run(source: str) -> Any:
        return verify_source(source, input_shape, mode)

    if len(sources) == 1:
        results = [run(sources[0])]
        click.echo(verification_table(results[0], all_rows), nl=False)
    else:
        from tqdm import tqdm

        results = []
        for source in tqdm(sources, desc="verifying", unit="model", file=click.get_text_stream("stderr")):
            results.append(run(source))
        click.echo(summary_table(results), nl=False)
    failed = any(not v.ok for v in results) or (strict and any(v.costlab_unsupported for v in results))
    if against:
        from ..blockdiff import compare_blocks
        from ..render.verify import block_table

        a, b = analyze_all([sources[0], against], input_shape, 1, mode, "macs")
        click.echo("\n" + block_table(compare_blocks(a, b, depth), a.model, b.model), nl=False)
    if failed:
        raise CheckFailed()
