"""Optimizer update cost and state, per parameter element, read off torch.optim's single-tensor code
(torch/optim/sgd.py ``_single_tensor_sgd``, torch/optim/adam.py ``_single_tensor_adam``, PyTorch 2.14).

Costs are elementwise arithmetic operations per parameter element in the steady state (not MACs):
each multiply, add, subtract, divide or square root is one; ``add_(x, alpha=a)`` is a multiply and an
add (one add when a is 1); ``lerp_(x, w)`` is a - w*(a - x): three; ``addcmul_``/``addcdiv_`` with a
value: three. Per-tensor scalar work (the step counter, bias corrections) is not per element.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class Optimizer:
    """Elementwise ops and state tensors (in parameter-sized units) per parameter element."""

    name: str
    ops: int
    states: int  # parameter-sized state tensors (momentum 1, Adam 2)
    step_tensor: bool  # Adam keeps a float32 scalar 'step' tensor per parameter tensor
    source: str
    code: Tuple[str, ...]


OPTIMIZERS: Dict[str, Optimizer] = {o.name: o for o in (
    Optimizer("sgd", 2, 0, False, "torch/optim/sgd.py _single_tensor_sgd (momentum=0)",
              ("param.add_(grad, alpha=-lr)  # 2",)),
    Optimizer("momentum", 4, 1, False, "torch/optim/sgd.py _single_tensor_sgd (momentum>0, dampening=0)",
              ("buf.mul_(momentum).add_(grad, alpha=1 - dampening)  # 1 + 1", "param.add_(buf, alpha=-lr)  # 2")),
    Optimizer("adam", 13, 2, True, "torch/optim/adam.py _single_tensor_adam (weight_decay=0)",
              ("exp_avg.lerp_(grad, 1 - beta1)  # 3", "exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # 1 + 3",
               "denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)  # 3",
               "param.addcdiv_(exp_avg, denom, value=-step_size)  # 3")),
    Optimizer("adamw", 14, 2, True, "torch/optim/adam.py _single_tensor_adam (decoupled_weight_decay=True, AdamW)",
              ("param.mul_(1 - lr * weight_decay)  # 1", "... then Adam's 13")),
)}


def get_optimizer(name: str) -> Optimizer:
    """The optimizer called ``name`` (ValueError listing the known ones)."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r} (known: {', '.join(OPTIMIZERS)})") from None
