"""Cost formulas, one pure function per layer type; importing this package registers them all."""

from . import conv, elementwise, matmul, pool  # noqa: F401
from ..llm import formulas as _transformer  # noqa: F401  (embedding, attention, MoE, ...)
