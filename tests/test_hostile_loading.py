"""Hostile data files: every limit of the loader (size, depth, nodes after aliases, recursive aliases,
duplicate keys) in YAML, JSON and TOML, and group nesting that would overflow Python's stack."""

import json

import pytest
from hostile import count, run_process

from costlab import dataload
from costlab.dataload import MAX_DEPTH, DataError, load_file, loads
from costlab.errors import SpecError
from costlab.spec import MAX_GROUP_DEPTH, graph_from_data, load_spec

HEAD = "name: t\ninput: 3x8x8\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def test_30000_deep_flow_yaml_is_refused_before_libyaml_recurses(tmp_path):
    # 30,000 nested '[' segfaulted (exit 139) inside PyYAML's C composer; run in a fresh process
    path = _write(tmp_path, "deep.yaml", HEAD + "layers: " + "[" * 30_000 + "]" * 30_000 + "\n")
    done = run_process(["analyze", str(path)])
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"costlab: error: {path}: nests deeper than the limit of {MAX_DEPTH} levels (costlab.dataload.MAX_DEPTH)"
    count("hostile corpus")


@pytest.mark.parametrize("fmt, text", [
    ("yaml", "a: " + "[" * 300 + "]" * 300),
    ("yaml", "a:\n" + "".join(" " * i + "-\n" for i in range(1, 400))),  # block style nests too
    ("yaml", "a: " + "{b: " * 300 + "1" + "}" * 300),
    ("json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),  # json's C scanner raises RecursionError
    ("json", '{"a": ' + '{"b": ' * 300 + "1" + "}" * 300 + "}"),
    ("toml", "a = " + "[" * 100_000 + "]" * 100_000),  # tomllib recurses in Python
    ("toml", "a = " + "{b = " * 300 + "1" + "}" * 300),
])
def test_depth_limit_in_every_format(fmt, text):
    with pytest.raises(DataError, match=r"^f\.x: nests deeper than the limit of 200 levels"):
        loads(text, fmt, "f.x")
    count("hostile corpus")


def test_depth_just_inside_the_limit_loads():
    # 199 nested lists inside the top mapping: 200 levels in all
    data = loads("a: " + "[" * 199 + "]" * 199, "yaml")
    depth, node = 1, data["a"]
    while node:
        node, depth = node[0], depth + 1
    assert depth == 199


def billion_laughs(levels=9, width=10):
    """Anchors inside `layers`: each level a sequence of `width` references to the previous one."""
    lines = [HEAD + "layers:", "  - {type: sequence, name: s0, layers: &l0 [{type: relu}]}"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"{{type: sequence, layers: *l{i - 1}}}"] * width)
        lines.append(f"  - {{type: sequence, name: s{i}, layers: &l{i} [{refs}]}}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_by_the_node_limit(tmp_path):
    text = billion_laughs()
    assert len(text) < 4_000  # a 3.7 KB file grew to 2.7 GB before the limit
    with pytest.raises(DataError, match=r"holds more than the limit of 1,000,000 values after expanding aliases"):
        load_spec(_write(tmp_path, "laughs.yaml", text))
    count("hostile corpus")


def test_small_aliases_still_work(tmp_path):
    # 3 levels of 2: 2^3 = 8 relus through aliases, far below the limit
    graph = load_spec(_write(tmp_path, "ok.yaml", billion_laughs(levels=3, width=2)))
    assert len(graph.nodes) == 1 + 2 + 4 + 8  # one relu in s0, then 2, 4 and 8 copies through the aliases


@pytest.mark.parametrize("text", [
    "layers: &x [{type: sequence, layers: *x}]",
    "layers: &x {type: sequence, layers: [*x]}",
    "a: &x 1\nlayers: &x [*x]",  # a re-defined anchor: the alias means the open one
])
def test_recursive_aliases_are_refused(tmp_path, text):
    with pytest.raises(DataError, match=r"refers to a node that contains it \(a recursive alias\)"):
        load_spec(_write(tmp_path, "rec.yaml", HEAD + text + "\n"))
    count("hostile corpus")


@pytest.mark.parametrize("name, text, key", [
    ("d.yaml", HEAD + "layers:\n  - {type: relu, type: conv2d}\n", "type"),
    ("d.yaml", "name: a\nname: b\ninput: 3x8x8\nlayers: [{type: relu}]\n", "name"),
    ("d.yaml", HEAD + "layers:\n  - type: conv2d\n    out_channels: 4\n    kernel: 1\n    out_channels: 8\n", "out_channels"),
    ("d.json", '{"name": "a", "input": "3x8x8", "layers": [{"type": "relu", "type": "flatten"}]}', "type"),
    ("d.json", '{"name": "a", "name": "b", "input": "3x8x8", "layers": []}', "name"),
])
def test_duplicate_keys_are_refused_by_name(tmp_path, name, text, key):
    with pytest.raises(DataError, match=f"duplicate key '{key}'"):
        load_spec(_write(tmp_path, name, text))
    count("hostile corpus")


@pytest.mark.parametrize("text", ["a = 1\na = 2\n", "[t]\nx = 1\n[t]\ny = 2\n", "a = {b = 1, b = 2}\n"])
def test_duplicate_toml_keys_are_refused(text):
    with pytest.raises(DataError, match="duplicate key"):
        loads(text, "toml", "c.toml")
    count("hostile corpus")


def test_yaml_merge_keys_may_override(tmp_path):
    data = loads("base: &b {type: relu, name: x}\nlayer: {<<: *b, name: y}\n", "yaml")
    assert data["layer"] == {"type": "relu", "name": "y"}


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(dataload, "MAX_BYTES", 100)
    with pytest.raises(DataError, match=r"larger than the limit of 100 bytes"):
        load_file(_write(tmp_path, "big.json", "[" + "1," * 100 + "1]"))
    count("hostile corpus")


@pytest.mark.parametrize("raw, message", [
    (b"name: t\ninput: 3x8x8\nlayers: [{type: relu, name: \xff}]\n", "not UTF-8 text (byte 0xff at offset"),
    (b"", "a spec must be a mapping with 'layers', got NoneType"),
    (b"--- 1\n--- 2\n", "is not valid YAML"),
    (b"!!python/object/apply:os.system ['true']\n", "is not valid YAML"),
    (b"a: *nowhere\n", "is not valid YAML"),
    (b"? [a, b]\n: 1\n", "is not valid YAML"),  # an unhashable key
])
def test_malformed_files(tmp_path, raw, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        load_spec(_write(tmp_path, "m.yaml", raw))
    count("hostile corpus")


def nested(kind, depth):
    layer = {"type": "relu"}
    for _ in range(depth):
        if kind == "branches":
            layer = {"type": "branches", "branches": [[layer], [{"type": "relu"}]]}
        elif kind == "residual":
            layer = {"type": "residual", "body": [layer]}
        else:
            layer = {"type": "sequence", "layers": [layer]}
    return {"name": "deep", "input": "3x8x8", "layers": [layer]}


@pytest.mark.parametrize("kind, depth", [("branches", 170), ("sequence", 5_000), ("residual", 1_000)])
def test_groups_nested_past_the_limit_are_refused_not_recursed(kind, depth):
    # branches 170 deep and sequences 5,000 deep raised RecursionError tracebacks
    with pytest.raises(SpecError, match=f"groups nest deeper than the limit of {MAX_GROUP_DEPTH}"):
        graph_from_data(nested(kind, depth), "deep.json")
    count("hostile corpus")


def test_groups_at_the_limit_work():
    graph = graph_from_data(nested("sequence", MAX_GROUP_DEPTH), "deep.json")
    assert graph.nodes[-1].name == ".".join(["sequence"] * MAX_GROUP_DEPTH + ["relu"])


def test_deep_json_spec_file_on_the_cli(tmp_path):
    path = _write(tmp_path, "deep.json", json.dumps(nested("sequence", 60)))  # 121 levels: within the loader's limit
    done = run_process(["analyze", str(path), "--format", "json"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["activations"] == 3 * 8 * 8  # one relu on 3x8x8
