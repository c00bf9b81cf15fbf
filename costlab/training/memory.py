"""What autograd saves for backward, per op family (PyTorch 2.14, CPU kernels), at a dtype.

Read off torch's derivatives.yaml and checked with torch.autograd.graph.saved_tensors_hooks (tests):
conv saves its input and weight; linear and matmul save each operand only when the other one needs a
gradient; ReLU, sigmoid, tanh and softmax save their output, GELU, SiLU, hardswish, ReLU6 and leaky ReLU
their input; max pool its input and int64 indices; average pool its input (adaptive pooling to 1x1 runs
as a mean and saves nothing); batch norm its input, weight, running mean and variance and two
per-channel statistics; layer and group norm their input, weight (and layer norm its bias) and mean and
rstd per normalized group (the statistics in the input's dtype: checked at float32 and bfloat16); LRN its input, the padded squares and two maps; dropout its
mask (CPU: a tensor of the input's dtype); attention q, k, v, its output and a float32 logsumexp per
query; adds, concat, flatten and means nothing. An op with no rule here is listed, never a silent zero.

A saved tensor is an input (a value another row produced, counted once however many rows save it), the
row's own output, a parameter or buffer (resident anyway, reported apart), or a new tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from ..roofline import DTYPE_BYTES
from ..shapes import product
from .grad import GradNeeds
from ..keyed import registrar

INDEX_BYTES = 8  # int64 indices
STAT_BYTES = 4  # attention's logsumexp is float32 (norms' statistics are in the input's dtype on the CPU)


@dataclass(frozen=True)
class Saved:
    """One tensor saved for backward: what it is and its bytes.

    kind: 'input' (``index`` says which), 'output', 'param' (weights, biases and buffers: resident
    anyway) or 'new' (indices, statistics, masks).
    """

    kind: str
    bytes: Any
    index: int = 0
    what: str = ""


Rule = Callable[[Any, GradNeeds, int], List[Saved]]
RULES: Dict[str, Rule] = {}
NOTHING = ("add", "concat", "cat", "flatten", "identity", "mean", "sum", "sub", "neg", "parameters")
OUTPUT_SAVERS = ("relu", "sigmoid", "tanh", "softmax", "log_softmax")
INPUT_SAVERS = ("gelu", "silu", "hardswish", "relu6", "hardtanh", "leaky_relu", "elu", "hardsigmoid", "mish")


saved_rule = registrar(RULES, "saved-tensor rule")  # @saved_rule("conv", ...): one rule per op name


def _input(row: Any, i: int, size: int) -> Saved:
    return Saved("input", product(row.in_shapes[i]) * size, i, f"input {i}")


def _output(row: Any, size: int) -> Saved:
    return Saved("output", product(row.out_shape) * size, 0, "output")


def _weights(row: Any, size: int, what: str = "weight") -> Saved:
    return Saved("param", (row.params - row.biases) * size, 0, what)


@saved_rule("conv2d")
def conv(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    return [_input(row, 0, size), _weights(row, size)]


@saved_rule("linear")
def linear(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    saved = [_input(row, 0, size)] if need.weight else []
    return saved + ([_weights(row, size)] if need.any_input else [])


@saved_rule("matmul", "mul")
def products(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    """Each operand when the other needs a gradient (a product with a number saves nothing)."""
    if len(row.in_shapes) != 2:
        return []
    a, b = ((*need.inputs, False, False))[:2]
    return ([_input(row, 0, size)] if b else []) + ([_input(row, 1, size)] if a else [])


@saved_rule("attention")
def attention(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    q = row.in_shapes[0]
    return [_input(row, i, size) for i in range(3)] + [_output(row, size), Saved("new", product(q[:-1]) * STAT_BYTES, 0, "logsumexp")]


@saved_rule("maxpool")
def max_pool(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    return [_input(row, 0, size), Saved("new", product(row.out_shape) * INDEX_BYTES, 0, "indices (int64)")]


@saved_rule("avgpool")
def avg_pool(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    return [_input(row, 0, size)]


@saved_rule("adaptive_avgpool")
def adaptive_pool(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    """Pooling to 1x1 runs as a mean (nothing saved); other sizes save the input."""
    return [] if tuple(row.out_shape[2:]) == (1, 1) else [_input(row, 0, size)]


@saved_rule("batchnorm")
def batch_norm(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    c = row.in_shapes[0][1]
    saved = [_input(row, 0, size), Saved("param", 2 * c * size, 0, "running mean and var")]
    if row.params:
        saved.append(Saved("param", c * size, 0, "weight"))
    return [*saved, Saved("new", 2 * c * size, 0, "save_mean and save_invstd")]


@saved_rule("layernorm")
def layer_norm(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    dims = row.layer.dims if hasattr(row.layer, "dims") else 1
    groups = product(row.in_shapes[0][:-dims])
    saved = [_input(row, 0, size), Saved("new", 2 * groups * size, 0, "mean and rstd")]
    return saved + ([Saved("param", row.params * size, 0, "weight and bias")] if row.params else [])


@saved_rule("groupnorm")
def group_norm(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    n = row.in_shapes[0][0]
    saved = [_input(row, 0, size), Saved("new", 2 * n * row.layer.groups * size, 0, "mean and rstd")]
    return saved + ([Saved("param", (row.params - row.biases) * size, 0, "weight")] if row.params else [])


@saved_rule("lrn")
def lrn(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    """CPU's composite LRN: the input, the squares padded to C + size - 1 channels, and two maps."""
    n, c, *rest = row.in_shapes[0]
    padded = n * (c + row.layer.size - 1) * product(rest) * size
    return [_input(row, 0, size), Saved("new", padded, 0, "padded squares"), Saved("new", 2 * product(row.out_shape) * size, 0, "two maps")]


@saved_rule("dropout", "native_dropout")
def dropout(row: Any, need: GradNeeds, size: int) -> List[Saved]:
    if getattr(row.layer, "p", 0.5) == 0:
        return []
    return [Saved("new", product(row.out_shape) * size, 0, "mask")]


def _activation_kind(row: Any) -> str:
    return row.layer.kind if row.op == "activation" else row.op


def saved(row: Any, need: GradNeeds, dtype: str = "float32") -> Optional[List[Saved]]:
    """What autograd keeps for ``row``'s backward at ``dtype`` (none when nothing needs a gradient);
    None when costlab has no rule for the op (listed as uncounted)."""
    if not need.output:
        return []
    size = DTYPE_BYTES[dtype]
    kind = _activation_kind(row)
    if kind in OUTPUT_SAVERS:
        return [_output(row, size)]
    if kind in INPUT_SAVERS:
        return [_input(row, 0, size)]
    if kind in NOTHING:
        return []
    rule = RULES.get(kind)
    return None if rule is None else rule(row, need, size)
