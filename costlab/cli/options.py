"""Options and parameter types shared by several commands: each one is declared here once."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

import click

FORMATS = ("table", "json", "csv", "markdown")

Decorator = Callable[[Any], Any]


NUMBERS_ONLY = "names such as H make costs formulas: costlab analyze and compare take those"


def _numeric(value: Any) -> bool:
    from ..numbers import is_int

    return is_int(value)


class TextType(click.ParamType):
    """A parameter parsed from text by ``parse``; its ValueError (or CostlabError) is click's one-line usage error."""

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Any:
        if not isinstance(value, str):
            return value  # a default already parsed, or a value given in Python
        from ..errors import CostlabError

        try:
            return self.parse(value)
        except (ValueError, CostlabError) as e:
            self.fail(str(e), param, ctx)

    def parse(self, text: str) -> Any:
        raise NotImplementedError


class ShapeType(TextType):
    """An input shape without batch: 3x224x224, or (when ``symbolic``) 3xHxW: costs become formulas.

    With ``several`` also a PyTorch model's inputs (costlab/inputs.py): several tensors, dtypes, keyword
    arguments (input_ids:128:int64,attention_mask:128:int64) or an inputs factory (mymod:make_inputs)."""

    name = "CxHxW"

    def __init__(self, symbolic: bool = True, several: bool = True) -> None:
        self.symbolic = symbolic
        self.several = several

    def parse(self, text: str) -> Any:
        from ..inputs import Inputs, parse_inputs

        shape = parse_inputs(text)
        if isinstance(shape, Inputs):
            if not self.several:
                raise ValueError(f"{text!r}: this command takes one input shape CxHxW")
            dims = [d for t in shape.tensors for d in t.shape]
        else:
            dims = list(shape)
        if not self.symbolic and not all(_numeric(d) for d in dims):
            raise ValueError(f"{text!r}: needs numbers like 3x224x224 ({NUMBERS_ONLY})")
        return shape


class DimType(TextType):
    """One dimension: a positive integer or (when ``symbolic``) a name."""

    def __init__(self, what: str, symbolic: bool = True) -> None:
        self.what = what
        self.symbolic = symbolic
        self.name = "N|NAME" if symbolic else "N"

    def parse(self, text: str) -> Any:
        from ..shapes import parse_dim

        dim = parse_dim(text, self.what)
        if not self.symbolic and not _numeric(dim):
            raise ValueError(f"{text!r}: needs a positive integer ({NUMBERS_ONLY})")
        return dim


class SIType(TextType):
    """A whole number, optionally with an SI suffix: 1.5G, 7M, 2_000 (costlab.numbers.parse_si);
    ``positive``: more than 0."""

    name = "NUMBER"

    def __init__(self, positive: bool = False) -> None:
        self.positive = positive

    def parse(self, text: str) -> Any:
        from ..numbers import parse_si

        number = parse_si(text)
        if self.positive and number <= 0:
            raise ValueError(f"must be more than 0, got {text!r}")
        return number


class PercentType(TextType):
    """A percentage such as 2% (costlab.baseline.parse_growth), as a Decimal fraction."""

    name = "PERCENT"

    def parse(self, text: str) -> Any:
        from ..baseline import parse_growth
        from ..errors import CostlabError

        try:
            return parse_growth(text)
        except CostlabError as e:
            raise ValueError(str(e).removeprefix("--max-growth: ")) from None


SHAPE = ShapeType()
NUMERIC_SHAPE = ShapeType(symbolic=False)
ONE_SHAPE = ShapeType(symbolic=False, several=False)
INPUT_HELP = ("several inputs: 3x8x8,3x8x8; keyword and integer inputs: input_ids:128:int64,attention_mask:128:int64; "
              "or a function returning them: mymod:make_inputs")
BATCH = DimType("batch")
NUMERIC_BATCH = DimType("batch", symbolic=False)
SI = SIType()
POSITIVE_SI = SIType(positive=True)
PERCENT = PercentType()


def _conventions() -> List[str]:
    from ..conventions import CONVENTIONS

    return list(CONVENTIONS)


def combine(*decorators: Decorator) -> Decorator:
    """Apply several option decorators in the order listed (first = first in --help)."""

    def apply(fn: Any) -> Any:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def input_option(symbolic: bool = True, several: bool = True) -> Decorator:
    """--input CxHxW; ``symbolic=False`` for commands that build or draw the model (numbers only);
    ``several=False`` for commands that take one image only."""
    if not several:
        return click.option("--input", "input_shape", type=ONE_SHAPE, metavar="CxHxW",
                            help="Input shape without batch, e.g. 3x224x224 (default: the model's).")
    if symbolic:
        return click.option("--input", "input_shape", type=SHAPE, metavar="CxHxW",
                            help=f"Input shape without batch, e.g. 3x224x224 or 3xHxW (names make costs formulas); {INPUT_HELP}.")
    return click.option("--input", "input_shape", type=NUMERIC_SHAPE, metavar="CxHxW",
                        help=f"Input shape without batch, e.g. 3x224x224 (default: the model's); {INPUT_HELP}.")


def batch_option(symbolic: bool = True) -> Decorator:
    """--batch N (or a name such as B, when ``symbolic``)."""
    if symbolic:
        return click.option("--batch", type=BATCH, default="1", show_default=True, help="Batch size (a number or a name).")
    return click.option("--batch", type=NUMERIC_BATCH, default="1", show_default=True, help="Batch size.")


def strict_option() -> Decorator:
    """--strict: exit 1 when an op of the model has no costlab rule (analyze, compare, check, verify)."""
    return click.option("--strict", is_flag=True,
                        help="Fail (exit 1) when costlab has no rule for an op of the model (it is listed on stderr either way).")


def mode_option() -> Decorator:
    return click.option("--mode", type=click.Choice(["infer", "train"]), default="infer", show_default=True,
                        help="train also counts training-only layers (auxiliary classifiers).")


def convention_option() -> Decorator:
    return click.option("--convention", type=click.Choice(_conventions()), default="macs", show_default=True,
                        help="What to count; see README 'Counting conventions'.")


def output_option(required: bool = False, help: str = "Write to FILE (atomically) instead of stdout.") -> Decorator:
    return click.option("-o", "--output", type=click.Path(dir_okay=False), required=required, help=help)


FORMAT_HELP = "table for a terminal, markdown for a pull-request comment, json and csv for programs (exact integers)."


def format_option(choices: Sequence[str] = FORMATS, default: str = "table", help: Optional[str] = None) -> Decorator:
    """--format: how the result is printed (or written with -o)."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
                        help=help or FORMAT_HELP)


def depth_option(default: Optional[int] = None, help: str = "Merge layers into blocks by the first N parts of their names.") -> Decorator:
    return click.option("--depth", type=click.IntRange(min=1), default=default, show_default=default is not None, help=help)


def profile_options() -> Decorator:
    """How a model is timed: device, dtype, memory format, repeats, warm-up."""
    return combine(
        click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True, help="Where to time the model."),
        click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32", show_default=True,
                     help="Parameter and input type while timing."),
        click.option("--channels-last", is_flag=True, help="Run in channels_last memory format."),
        click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True, help="Timed runs (median)."),
        click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True, help="Untimed runs first."),
    )


def analysis_options(convention: bool = True, symbolic: bool = True) -> Decorator:
    """--input, --batch, --mode (and --convention): what every analysing command takes."""
    options = [input_option(symbolic), batch_option(symbolic), mode_option()]
    if convention:
        options.append(convention_option())
    return combine(*options)


SEQ = DimType("sequence length")
CONTEXT = DimType("context")


def sequence_options() -> Decorator:
    """--phase, --seq, --context: transformers (costlab.llm.phases)."""
    return combine(
        click.option("--phase", type=click.Choice(["prefill", "decode"]), default=None,
                     help="Transformers: prefill (--seq prompt tokens) or decode (one token after --context cached ones)."),
        click.option("--seq", type=SEQ, metavar="L", help="Transformers: prompt length, a number or a name (default: the model's, 512)."),
        click.option("--context", type=CONTEXT, metavar="T", help="Transformers: tokens already in the KV cache (a number or a name)."),
    )
