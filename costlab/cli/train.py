"""costlab train: the cost of a training step per layer (forward, input and weight gradients), its memory, and what fits."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import click

from .common import emit
from .options import batch_option, depth_option, format_option, input_option, output_option


@click.command()
@click.argument("source")
@input_option()
@batch_option()
@click.option("--frozen", multiple=True, metavar="GLOB", help="Layers whose parameters get no gradient (glob on layer names; repeatable).")
@click.option("--recompute", multiple=True, metavar="GLOB", help="Layers recomputed in the backward (activation checkpointing; repeatable).")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "adamw"]), default="sgd", show_default=True)
@click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32", show_default=True)
@click.option("--precision", type=click.Choice(["pure", "mixed"]), default="pure", show_default=True,
              help="mixed: fp32 master weights and optimizer state beside --dtype parameters and gradients.")
@click.option("--convention", type=click.Choice(["macs", "flops", "torch"]), default="macs", show_default=True,
              help="torch: exactly FlopCounterMode's backward count, its grouped-conv weight-gradient bug included.")
@click.option("--memory", "memory", metavar="SIZE|DEVICE", help="Find the largest batch (or, with a named input such as 3xRxR, resolution) "
              "whose training peak fits: 24GiB, 80GB, or h100 / h200 / a100.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Also draw memory over the schedule and forward vs backward per block (.png/.svg).")
@depth_option()
@format_option(["table", "json", "markdown"])
@output_option()
def train(source: str, input_shape: Any, batch: Any, frozen: Sequence[str], recompute: Sequence[str], optimizer: str, dtype: str,
          precision: str, convention: str, memory: Optional[str], chart: Optional[str], depth: Optional[int], fmt: str,
          output: Optional[str]) -> None:
    """A training step of SOURCE (in train mode: auxiliary heads included): per layer forward MACs, input and
    weight gradients, recomputed forward and saved activation bytes; totals, the optimizer's update, memory,
    the peak over the forward/backward schedule, and with --memory the largest batch that fits."""
    from ..training.fit import memory_limit
    from ..training.report import train_document, train_source, train_table, uncounted_lines

    limit = None
    if memory is not None:
        try:
            limit = memory_limit(memory)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="'--memory'") from None
    if limit is not None and not isinstance(batch, int):
        raise click.BadParameter("finding what fits needs a number, not a name", param_hint="'--batch'")
    result = train_source(source, input_shape, batch, frozen, recompute, optimizer, dtype, precision, convention, limit)
    if fmt == "json":
        from ..render.data import dumps

        text = dumps(train_document(result, depth))
    else:
        text = train_table(result, fmt, depth)
    emit(text, output)
    if chart:
        from ..render.training import training_figure
        from .common import save_chart

        save_chart(training_figure(result, f"{source}: one training step, batch {batch}, {dtype}"), chart)
    for line in uncounted_lines(result):
        click.echo(line, err=True)
