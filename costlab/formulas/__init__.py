"""Cost formulas, one pure function per layer type; importing this package registers them all."""

from . import conv, elementwise, matmul, pool  # noqa: F401
