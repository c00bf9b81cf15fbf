"""Backward multiply-adds per op family: the gradient of the input and of the weight, by the same formulas
as the forward pass.

conv and linear: the input gradient is the transposed product of the output gradient with the weight
(conv_transpose of grad_out: N*H_out*W_out*C_out*(C_in/groups)*kh*kw, the forward count), the weight
gradient the product of the input with the output gradient (the same count, groups respected).
matmul and einsum: one product of the same size per operand that needs a gradient. attention: with
P = softmax(q k^T), dV = P^T dO (L*S*Ev), dP = dO V^T (L*S*Ev, needed for q or k), dQ = dS K (L*S*E),
dK = dS^T Q (L*S*E). An op with no forward multiply-adds (norms, pooling, activations, adds, concat,
reshapes) has none in its gradient either; an op with forward MACs and no rule here is listed as
uncounted, never a silent zero.

Conventions: ``macs`` (default), ``flops`` (2 per MAC), and ``torch``: exactly what
torch.utils.flop_counter.FlopCounterMode counts for the backward ops (2 per MAC), bug included: its
convolution_backward rule builds the weight gradient's count from the input's full channel count
(conv_flop_count(t(x_shape), t(grad_out_shape), ...) with x transposed to (C_in, N, ...)), so a
grouped conv's weight gradient is counted ``groups`` times over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from ..numbers import format_int
from .grad import GradNeeds
from ..keyed import registrar

CONVENTIONS = ("macs", "flops", "torch")


@dataclass(frozen=True)
class Backward:
    """Backward MACs of one row, split into input gradient and weight gradient; text says how."""

    grad_input: Any
    grad_weight: Any
    text: str
    counted: bool = True  # False: the op has forward MACs but no backward rule (listed as uncounted)

    @property
    def total(self) -> Any:
        return self.grad_input + self.grad_weight


Rule = Callable[[Any, GradNeeds, str], Backward]
RULES: Dict[str, Rule] = {}


backward_rule = registrar(RULES, "backward rule")  # Register a backward rule for op names (refuses duplicates, like the forward registry).


def _parts(grad_in: Any, grad_w: Any, why_in: str, why_w: str) -> str:
    shown = []
    shown.append(f"grad input {format_int(grad_in)}" if grad_in != 0 else f"no grad input ({why_in})")
    shown.append(f"grad weight {format_int(grad_w)}" if grad_w != 0 else f"no grad weight ({why_w})")
    return "; ".join(shown)


@backward_rule("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "linear")
def weighted(row: Any, need: GradNeeds, convention: str) -> Backward:
    """Input gradient = forward MACs (a transposed product with the weight), weight gradient = forward MACs."""
    grad_in = row.macs if need.any_input else 0
    grad_w = row.macs if need.weight else 0
    if convention == "torch" and grad_w != 0:
        grad_w = grad_w * getattr(row.layer, "groups", 1)  # FlopCounterMode's convolution_backward ignores groups
    why_in = "its input is the graph input or needs no gradient"
    return Backward(grad_in, grad_w, _parts(grad_in, grad_w, why_in, "frozen" if row.params else "no weight"))


@backward_rule("matmul", "einsum")
def products(row: Any, need: GradNeeds, convention: str) -> Backward:
    """One product of the forward's size per operand that needs a gradient."""
    grad_in = sum((row.macs for n in need.inputs if n), 0)
    return Backward(grad_in, 0, f"grad of {sum(need.inputs)} operand(s) x {format_int(row.macs)} = {format_int(grad_in)}")


@backward_rule("attention")
def attention(row: Any, need: GradNeeds, convention: str) -> Backward:
    """dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q (the unfused path that FlopCounterMode sees on meta)."""
    q, k, v = row.in_shapes
    lead = 1
    for d in q[:-2]:
        lead = lead * d
    (length, e), s, ev = q[-2:], k[-2], v[-1]
    need_q, need_k, need_v = ((*need.inputs, False, False, False))[:3]
    grad_p = lead * length * s * ev if (need_q or need_k) else 0
    terms = [lead * length * s * ev if need_v else 0, grad_p, lead * length * s * e if need_q else 0,
             lead * length * s * e if need_k else 0]
    total = sum(terms, 0)
    return Backward(total, 0, f"dV + dP + dQ + dK = {' + '.join(format_int(t) for t in terms)} = {format_int(total)}")


def backward(row: Any, need: GradNeeds, convention: str = "macs") -> Backward:
    """The backward cost of one row under a convention (macs, flops, torch)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"training costs are counted under {', '.join(CONVENTIONS)}, not {convention!r}")
    if not need.output:
        return Backward(0, 0, "no backward (nothing here needs a gradient)")
    rule: Optional[Rule] = RULES.get(row.op)
    if rule is None:
        if row.macs == 0 and row.op != "unsupported":
            return Backward(0, 0, "0 MACs (its gradient is elementwise, a reduction or data movement)")
        return Backward(0, 0, f"no backward rule for {row.op}: counted as 0, listed as uncounted", counted=False)
    result = rule(row, need, convention)
    if convention == "macs":
        return result
    return Backward(2 * result.grad_input, 2 * result.grad_weight, result.text + " (x2: FLOPs)")
