"""The spec loader's shortcuts for big specs give what the plain paths give: shared layers keep
values of different types apart, the first problem reported is the same, fast-made nodes equal
constructed ones, definition order is kept only when it is a topological order, the collector's
state comes back, and the data limits report the limit the in-order walk meets first."""

import gc
import json
import pickle
from dataclasses import fields, replace

import pytest

from costlab.dataload import MAX_DEPTH, MAX_NODES, DataError, loads
from costlab.errors import SpecError
from costlab.fields import parse_layer
from costlab.formulas.conv import Conv2d
from costlab.graph import Node
from costlab.spec import graph_from_data, load_spec


def graph(layers, input="3x8x8"):
    return graph_from_data({"name": "t", "input": input, "layers": layers}, "t.json")


def error(layers):
    with pytest.raises(SpecError) as caught:
        graph(layers)
    return caught.value


CONV = {"type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1, "bias": False}


def test_identical_layer_mappings_share_one_frozen_layer():
    g = graph([dict(CONV, name="a"), dict(CONV, name="b"), dict(CONV, name="c", kernel=[3, 3]), dict(CONV, name="d", kernel=1)])
    a, b, c, d = (n.layer for n in g.nodes)
    assert a is b and a == parse_layer(Conv2d, CONV, ignore=("type",)) == Conv2d(4, (3, 3), padding=(1, 1), bias=False)
    assert c is not a and c == a  # [3, 3] is another mapping, with the same meaning
    assert d.kernel == (1, 1)


@pytest.mark.parametrize("good, bad, field, message", [
    ({"bias": True}, {"bias": 1}, "bias", "must be true or false, got 1"),
    ({"out_channels": 1}, {"out_channels": True}, "out_channels", "must be a positive integer, got True"),
    ({"kernel": 3}, {"kernel": 3.0}, "kernel", "must be a positive integer, got 3.0"),
    ({"kernel": [1, 1]}, {"kernel": [True, 1]}, "kernel", "must be a positive integer, got True"),
    ({"padding": "same"}, {"padding": "Same"}, "padding", "must be an integer, a list, 'same' or 'valid', got 'Same'"),
])
def test_a_shared_layer_never_stands_for_a_value_of_another_type(good, bad, field, message):
    e = error([dict(CONV, name="good", **good), dict(CONV, name="bad", **bad)])
    assert (e.layer, e.field, e.message) == ("bad", field, message)


@pytest.mark.parametrize("layer, field, message", [
    ({"stride": 0, "out_channels": -1, "kernel": 3}, "out_channels", "must be a positive integer, got -1"),  # declared first
    ({"out_channels": -1, "kernel": 3, "colour": 1}, "colour", "unknown field for this layer type"),  # unknown keys first
    ({"kernel": 0}, "out_channels", "is required"),  # a missing field declared before a bad one
    ({"kernel": 3}, "out_channels", "is required"),
])
def test_the_first_problem_in_declaration_order_is_reported(layer, field, message):
    e = error([dict(layer, type="conv2d", name="c")])
    assert e.field == field and e.message.startswith(message)


def test_fast_made_nodes_equal_constructed_nodes():
    g = graph([dict(CONV, name="a"), {"type": "residual", "name": "r", "body": [dict(CONV, name="b")]},
               {"type": "relu", "name": "after", "input": "r"}, {"type": "relu", "train_only": True, "input": ["a"]}])
    for node in g.nodes:
        made = Node(node.name, node.layer, node.inputs, node.train_only)
        assert node == made and repr(node) == repr(made) and hash(node) == hash(made)
        assert [getattr(node, f.name) for f in fields(Node)] == [getattr(made, f.name) for f in fields(Node)]
        assert pickle.loads(pickle.dumps(node)) == made and replace(node, inplace=True) == replace(made, inplace=True)
    assert g.node("after").inputs == ("r.add",)  # a group read after it is complete: its output node


def test_definition_order_is_kept_only_when_it_is_topological():
    layers = [{"type": "relu", "name": "a"}, {"type": "relu", "name": "b", "input": "g"},
              {"type": "sequence", "name": "g", "input": "a", "layers": [{"type": "relu", "name": "x"}]},
              {"type": "relu", "name": "c", "input": "a"}]
    g = graph(layers)
    assert [n.name for n in g.nodes] == ["a", "g.x", "b", "c"] and g.node("b").inputs == ("g.x",)
    assert [n.name for n in graph(layers[:1] + layers[2:]).nodes] == ["a", "g.x", "c"]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_loading_and_restored(tmp_path, enabled):
    path = tmp_path / "m.json"
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        for layers in ([{"type": "relu"}], [{"type": "relu", "colour": 1}]):
            path.write_text(json.dumps({"input": "3x8x8", "layers": layers}))
            try:
                load_spec(path)
            except SpecError:
                pass
            assert gc.isenabled() == enabled
    finally:
        gc.enable() if was else gc.disable()


def test_when_both_limits_are_broken_the_one_met_first_depth_first_is_reported():
    deep, many = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" + "0," * MAX_NODES + "0]"
    with pytest.raises(DataError, match="nests deeper than the limit"):  # the last value is walked first
        loads(f'{{"many": {many}, "deep": {deep}}}', "json")
    with pytest.raises(DataError, match="holds more than the limit"):
        loads(f'{{"deep": {deep}, "many": {many}}}', "json")
    assert loads('{"a": [' + "0," * (MAX_NODES - 3) + "0]}", "json")["a"][-1] == 0  # exactly at the limit
    with pytest.raises(DataError, match="holds more than the limit"):
        loads('{"a": [' + "0," * (MAX_NODES - 2) + "0]}", "json")


def typed(value):
    """``value`` with every scalar's type spelled out (1, 1.0 and True compare unequal)."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


SCALARS = ["1", "-1", "0o17", "017", "0x1F", "0b101", "1_000", "1:20", "1.5", "1e3", "1.0e+3", ".inf", "-.Inf", ".nan", "yes", "No",
           "on", "y", "null", "~", "'1'", '"yes"', "2001-12-14", "2001-12-14t21:59:43.10-05:00", "a b", "é", "'a: b'"]
PLAIN = ["name: t\ninput: 3x8x8\nlayers:\n  - {type: conv2d, out_channels: 8, kernel: [3, 3], bias: no}\n  - type: relu\n", "", "---\n",
         "[]", "a: ''", "k:\n  - |\n    x\n    y\n  - >\n    x\n", "? a\n: 1", "a:\n  - [1, {b: [c, {}]}]\n  - d: e\n    f: ~"]
PLAIN += [text for s in SCALARS for text in (f"a: {s}", f"- {s}", f"{s}: v", f"{{k: [{s}]}}")]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_yaml_is_read_in_one_pass_as_the_safe_loader_reads_it(text):
    import yaml

    from costlab import dataload

    data = dataload._plain_yaml(text)
    assert data is not dataload._NOT_PLAIN
    assert typed(data) == typed(yaml.load(text, Loader=yaml.SafeLoader)) == typed(loads(text, "yaml"))


@pytest.mark.parametrize("text, refused", [
    ("a: &x 1\nb: *x", False), ("base: &b {type: relu}\nl: {<<: *b, name: y}", False), ("a: !!str 1", False), ("a: ! 1", False),
    ("!!map {a: 1}", False), ("? [a, b]\n: 1", True), ("--- 1\n--- 2", True), ("a: 1\na: 2", True), ("1: a\n1.0: b", True),
    ("a: =", True), ("a: 2001-13-45", True), ("a: [1, 2", True), ("a: " + "[" * 201 + "]" * 201, True),
    ("a: [" + "0," * MAX_NODES + "0]", True),
])
def test_other_yaml_goes_the_full_way(text, refused):
    import yaml

    from costlab import dataload

    assert dataload._plain_yaml(text) is dataload._NOT_PLAIN
    if refused:
        with pytest.raises(DataError):
            loads(text, "yaml")
    else:
        assert typed(loads(text, "yaml")) == typed(yaml.load(text, Loader=yaml.SafeLoader))
