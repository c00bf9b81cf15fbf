"""One op vocabulary for reports: built-in models say 'activation' and 'concat', captured ones the ATen
names ('relu', 'cat'); a report shows both under costlab's registered names, so layer-type charts and
comparisons line up. Exported data (CSV, JSON) keeps each row's own op, as ``costlab analyze`` does.
"""

from __future__ import annotations

from functools import lru_cache

# ATen names of captured zero-MAC ops -> the registered op a spec file would use
_ATEN = {
    "cat": "concat", "stack": "concat", "add": "add", "sum": "add", "mean": "adaptive_avgpool",
    "max_pool2d": "maxpool", "max_pool2d_with_indices": "maxpool", "avg_pool2d": "avgpool",
    "adaptive_avg_pool2d": "adaptive_avgpool", "native_batch_norm": "batchnorm", "batch_norm": "batchnorm",
    "native_layer_norm": "layernorm", "native_group_norm": "groupnorm", "softmax": "softmax", "_softmax": "softmax",
    "view": "flatten", "flatten": "flatten", "reshape": "flatten", "dropout": "dropout", "native_dropout": "dropout",
}
_ACTIVATIONS = {"relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid", "hardtanh", "leaky_relu",
                "elu", "mish", "softplus", "prelu", "selu", "clamp"}


@lru_cache(maxsize=512)
def canonical_op(op: str) -> str:
    """The registered name of an op: canonical_op('relu') == 'activation', canonical_op('cat') == 'concat';
    a name costlab does not know is returned as it is."""
    from ..registry import lookup

    bare = op.rstrip("_")
    if bare in _ACTIVATIONS:
        return "activation"
    entry = lookup(op)
    if entry is not None and not entry.internal:
        return entry.op
    return _ATEN.get(bare, op)
