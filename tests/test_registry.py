"""Every registered op family carries everything the rest of costlab needs, or says why not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from costlab.conventions import Rule
from costlab.registry import NA, all_types, for_layer
from costlab.layers import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

TYPES = list(all_types())


@pytest.mark.parametrize("entry", TYPES, ids=[t.op for t in TYPES])
def test_every_op_family_is_complete(entry):
    assert entry.doc and entry.kind
    assert set(entry.rules) == {"fvcore", "torch"} and all(isinstance(r, Rule) for r in entry.rules.values())
    assert all(r.note for r in entry.rules.values() if r.per == "zero")  # a tool's 0 always says why
    assert callable(entry.widen) or isinstance(entry.widen, NA)
    assert callable(entry.describe) or isinstance(entry.describe, NA)
    assert isinstance(entry.aten, (tuple, NA))
    assert entry.aten or entry.functions or isinstance(entry.aten, NA), "captured from no op and no function"


def test_capture_handlers_functions_and_builders_match_the_families():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")  # registers torch.ops.torchvision
    from costlab.bridge.build import BUILDERS
    from costlab.bridge.functions import FUNCTIONS, owner
    from costlab.bridge.ops import HANDLERS

    declared_ops = {name for t in TYPES if isinstance(t.aten, tuple) for name in t.aten}
    declared_functions = {name for t in TYPES for name in t.functions}
    assert declared_ops == set(HANDLERS)
    assert declared_functions == set(FUNCTIONS)
    for name in declared_ops:  # every name is a real op of this torch
        namespace, op = name.split(".") if "." in name else ("aten", name)
        assert hasattr(getattr(torch.ops, namespace), op), name
    for name in declared_functions:
        holder, attr = owner(name)
        assert callable(getattr(holder, attr)), name
    for t in TYPES:
        assert t.cls in BUILDERS or t.internal, f"{t.op} has no torch builder"


def test_a_new_rank_is_one_subclass():
    """Conv3d is Conv2d's family with rank 3: the same formula, rules, builder and capture handler."""
    entries = [for_layer(cls(out_channels=2, kernel=1)) for cls in (Conv1d, Conv2d, Conv3d)]
    assert len({(e.formula, e.kind, e.widen, tuple(e.rules.values()), e.aten) for e in entries}) == 1


positive = st.integers(1, 4)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 2), c_in=positive, c_out=positive, g=st.sampled_from([1, 2]), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 1), size=st.integers(4, 9), rank=st.sampled_from([1, 2, 3]))
def test_transposed_conv_is_the_adjoint_of_conv(n, c_in, c_out, g, k, s, p, size, rank):
    """conv(C_out -> C_in) maps the transposed conv's output back to its input: the same MACs, the same weights."""
    conv_cls = (Conv1d, Conv2d, Conv3d)[rank - 1]
    t_cls = (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)[rank - 1]
    c_in, c_out = c_in * g, c_out * g
    if p * 2 >= k + (size - 1) * s:
        return
    t = t_cls(out_channels=c_out, kernel=k, stride=s, padding=p, groups=g)
    up = for_layer(t).formula(t, ((n, c_in, *(size,) * rank),))
    c = conv_cls(out_channels=c_in, kernel=k, stride=s, padding=p, groups=g)
    down = for_layer(c).formula(c, (up.out_shape,))
    assert down.out_shape == (n, c_in, *(size,) * rank)
    assert down.macs == up.macs and down.params - down.biases == up.params - up.biases


@settings(max_examples=60, deadline=None)
@given(c_in=positive, c_out=positive, k=st.integers(1, 3), s=st.integers(1, 2), p=st.integers(0, 1), size=st.integers(3, 9))
def test_nd_conv_with_unit_axes_equals_the_lower_rank_conv(c_in, c_out, k, s, p, size):
    """A 3-D conv whose extra axes have size 1 and kernel 1 costs what the 2-D (and the 1-D) conv costs."""
    one = Conv1d(out_channels=c_out, kernel=k, stride=s, padding=p)
    two = Conv2d(out_channels=c_out, kernel=(1, k), stride=(1, s), padding=(0, p))
    three = Conv3d(out_channels=c_out, kernel=(1, 1, k), stride=(1, 1, s), padding=(0, 0, p))
    costs = [for_layer(layer).formula(layer, (shape,)) for layer, shape in
             ((one, (1, c_in, size)), (two, (1, c_in, 1, size)), (three, (1, c_in, 1, 1, size)))]
    assert len({(c.macs, c.params, c.out_shape[-1]) for c in costs}) == 1


def test_readme_spec_reference_is_generated_from_the_registry():
    """README's layer reference is exactly what the registry says (regenerate: python -m costlab.specref)."""
    from pathlib import Path

    from costlab.specref import section

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert section() in readme
    for entry in TYPES:
        assert (f"`{entry.op}`" in section()) != entry.internal


def test_width_multiplier_scales_every_family_that_has_a_width():
    """widen() asks each family: embeddings and recurrent layers scale, the classifier keeps its outputs."""
    from costlab.analysis import analyze
    from costlab.spec import graph_from_data
    from costlab.sweep import widen

    lm = graph_from_data({"name": "lm", "input": "35", "layers": [
        {"type": "embedding", "num_embeddings": 1000, "embedding_dim": 64},
        {"type": "lstm", "hidden_size": 128, "num_layers": 2, "batch_first": True},
        {"type": "linear", "out_features": 1000}]}, "lm.yaml")
    half = [n.layer for n in widen(lm, 0.5).nodes]
    assert (half[0].embedding_dim, half[1].hidden_size, half[2].out_features) == (32, 64, 1000)
    # 35 steps x (4x64x(32+64) + 4x64x(64+64)) = 35 x 57,344 = 2,007,040, + the decoder 35 x 64 x 1000 = 2,240,000
    assert analyze(widen(lm, 0.5)).total().macs == 2_007_040 + 2_240_000


def test_keyed_tables_refuse_a_second_rule_for_a_key():
    """Capture handlers, torch builders, array and backward rules share costlab.keyed.registrar: one rule per key."""
    from costlab.keyed import registrar

    table: dict = {}
    register = registrar(table, "thing")
    register("a", "b")(len)
    with pytest.raises(RuntimeError, match="'a' has two things"):
        register("a")(str)
    assert table == {"a": len, "b": len}


@pytest.mark.parametrize("name", ["macs", "flops", "fvcore", "torch"])
def test_a_conventions_per_mac_shortcut_agrees_with_its_count(name):
    """analyze() multiplies by ``per_mac`` instead of calling ``count`` (a hot loop): both must give
    the same cost on every row, symbolic ones included (googlenet at 3xHxW; its auxiliary heads,
    counted in train mode, need a numeric size)."""
    from costlab import analyze, load_source
    from costlab.conventions import get_convention
    from costlab.shapes import parse_input

    convention = get_convention(name)
    graph = load_source("googlenet")
    for mode, shape in (("infer", (3, 224, 224)), ("train", (3, 224, 224)), ("infer", parse_input("3xHxW"))):
        rows = analyze(graph, shape, mode=mode, convention=name).rows
        assert [r.cost for r in rows] == [convention.count(r, mode) for r in rows]
        if convention.per_mac:
            assert [r.cost for r in rows] == [convention.per_mac * r.macs for r in rows]
def test_the_family_index_is_generated_from_the_registrations():
    """costlab/formulas/_index.py (which family module registers each spec name, alias and layer class)
    is exactly what the registrations say; regenerate with `python -m costlab.formulas`."""
    from pathlib import Path

    from costlab.formulas import _index, families, index_source
    from costlab.registry import origins

    assert {"OPS": _index.OPS, "CLASSES": _index.CLASSES} == origins()
    assert Path(_index.__file__).read_text(encoding="utf-8") == index_source()
    assert set(_index.OPS.values()) == set(families())


LAZY_PROBE = """
import json, sys
from costlab.registry import all_types, for_layer, lookup
loaded = lambda: sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("costlab.formulas."))
steps = {"start": loaded()}
assert lookup("relu").op == "activation" and lookup("no-such-op") is None
steps["relu"] = loaded()
from costlab.layers import Conv2d
steps["Conv2d"] = loaded()
assert for_layer(Conv2d(out_channels=1, kernel=1)).op == "conv2d"
from costlab.llm.layers import Rotary
assert for_layer(Rotary(head_dim=8)).op == "rotary"
steps["Rotary"] = loaded()
steps["order"] = [t.op for t in all_types()]
print(json.dumps(steps))
"""


def test_a_lookup_imports_only_the_family_it_needs():
    """lookup / for_layer / costlab.layers import one op family at a time; all_types() then lists every
    op in the order of a full import, whatever was imported first."""
    import json
    import subprocess
    import sys

    steps = json.loads(subprocess.run([sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, check=True).stdout)
    assert steps["start"] == []
    assert steps["relu"] == ["_index", "elementwise", "text"]
    assert steps["Conv2d"] == ["_index", "conv", "elementwise", "text"]
    assert steps["Rotary"] == ["_index", "conv", "elementwise", "embedding", "text", "transformer"]
    assert steps["order"] == [t.op for t in TYPES]  # as in a process that imported them all at once


def test_costlab_layers_exports_every_name():
    """``from costlab.layers import *`` still gives every class (each family imported on first use)."""
    import costlab.layers

    namespace: dict = {}
    exec("from costlab.layers import *", namespace)
    assert set(costlab.layers.__all__) <= set(namespace)
    assert costlab.layers.BatchNorm is costlab.layers.BatchNorm2d and "relu" in costlab.layers.ACTIVATIONS
    assert all(getattr(costlab.layers, name).__name__ == name for name in costlab.layers.__all__
               if isinstance(getattr(costlab.layers, name), type) and name != "BatchNorm")
    with pytest.raises(AttributeError):
        costlab.layers.NoSuchLayer  # noqa: B018
