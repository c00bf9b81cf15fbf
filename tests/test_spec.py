"""Spec files: the three formats, the documented example, and every class of bad spec."""

import json
from pathlib import Path

import pytest

from costlab import analyze
from costlab.errors import SpecError
from costlab.spec import graph_from_data, load_spec

ROOT = Path(__file__).resolve().parents[1]

YAML_SPEC = """
name: tiny
input: 3x32x32
layers:
  - {type: conv2d, name: stem, out_channels: 16, kernel: 3, padding: 1}
  - {type: inception, name: mix, numbers: [8, 8, 16, 4, 8, 8]}
  - {type: global_avgpool, name: gap}
  - {type: flatten}
  - {type: linear, name: fc, out_features: 10}
"""

TOML_SPEC = """
name = "tiny"
input = "3x32x32"
[[layers]]
type = "conv2d"
name = "stem"
out_channels = 16
kernel = 3
padding = 1
[[layers]]
type = "inception"
name = "mix"
numbers = [8, 8, 16, 4, 8, 8]
[[layers]]
type = "global_avgpool"
name = "gap"
[[layers]]
type = "flatten"
[[layers]]
type = "linear"
name = "fc"
out_features = 10
"""


def test_yaml_toml_json_give_the_same_graph(tmp_path):
    import yaml

    (tmp_path / "m.yaml").write_text(YAML_SPEC)
    (tmp_path / "m.toml").write_text(TOML_SPEC)
    (tmp_path / "m.json").write_text(json.dumps(yaml.safe_load(YAML_SPEC)))
    results = [analyze(load_spec(tmp_path / f"m.{ext}")) for ext in ("yaml", "toml", "json")]
    assert results[0].rows == results[1].rows == results[2].rows
    # stem: 32x32x16 x 3x3x3 = 442,368 ; mix per position: 16x8 + 16x8 + 9x8x16 + 16x4 + 25x4x8 + 16x8
    # = 128 + 128 + 1,152 + 64 + 800 + 128 = 2,400 -> 32x32 x 2,400 = 2,457,600 ; fc: (8+16+8+8) x 10 = 400
    assert results[0].total().macs == 442_368 + 2_457_600 + 400 == 2_900_368


def test_readme_example_spec_is_valid():
    """The complete example in the README is also shipped as examples/tiny_inception.yaml: keep them equal."""
    example = (ROOT / "examples" / "tiny_inception.yaml").read_text()
    assert example.strip() in (ROOT / "README.md").read_text()
    a = analyze(load_spec(ROOT / "examples" / "tiny_inception.yaml"), mode="train")
    assert any(r.name.startswith("aux.") for r in a.rows)


def test_yaml_loading_never_runs_code(tmp_path):
    bad = tmp_path / "evil.yaml"
    bad.write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_spec(bad)


BAD = [
    # (layers, input, expected "layer 'X': field 'Y'" part)
    ([{"type": "conv4d", "name": "c"}], "3x8x8", "layer 'c': field 'type'"),
    ([{"type": "conv2d", "name": "c", "out_channels": -4, "kernel": 3}], "3x8x8", "layer 'c': field 'out_channels'"),
    ([{"type": "conv2d", "name": "c", "kernel": 3}], "3x8x8", "layer 'c': field 'out_channels': is required"),
    ([{"type": "conv2d", "name": "c", "out_channels": 4, "kernel": 9}], "3x8x8", "layer 'c': field 'kernel'"),
    ([{"type": "conv2d", "name": "c", "out_channels": 4, "kernel": 3, "colour": "red"}], "3x8x8", "layer 'c': field 'colour'"),
    ([{"type": "relu", "name": "a", "input": "b"}, {"type": "relu", "name": "b"}], "3x8x8", "field 'input': is part of a cycle"),
    ([{"type": "relu", "name": "a", "input": "ghost"}], "3x8x8", "layer 'a': field 'input': refers to unknown layer 'ghost'"),
    ([{"type": "relu", "name": "a"}, {"type": "relu", "name": "a"}], "3x8x8", "layer 'a': field 'name'"),
    ([{"type": "inception", "name": "i", "numbers": [1, 2, 3]}], "3x8x8", "layer 'i': field 'numbers'"),
    ([{"type": "dropout", "name": "d", "p": 1.5}], "3x8x8", "layer 'd': field 'p'"),
    ([{"type": "concat", "name": "cat", "input": ["input", "x"]}, {"type": "conv2d", "name": "x", "out_channels": 2, "kernel": 3, "input": "input"}],
     "3x8x8", "layer 'cat': field 'inputs': concat of mismatched sizes"),
    ([{"type": "relu", "name": "aux", "train_only": True}, {"type": "relu", "name": "after"}], "3x8x8", "layer 'after': field 'input'"),
]


@pytest.mark.parametrize("layers, shape, where", BAD)
def test_bad_specs_name_file_layer_and_field(layers, shape, where):
    with pytest.raises(SpecError) as err:
        analyze(graph_from_data({"name": "bad", "input": shape, "layers": layers}, "bad.yaml"))
    message = str(err.value)
    assert message.startswith("bad.yaml: ") and where in message and "\n" not in message


@pytest.mark.parametrize(
    "data, where",
    [
        ({"input": "3x8x8"}, "field 'layers'"),
        ({"layers": [{"type": "relu"}]}, "field 'input': is required"),
        ({"input": "3xx8", "layers": [{"type": "relu"}]}, "field 'input'"),
        ({"input": "3x8x8", "layers": [], "extra": 1}, "field 'extra'"),
        ([1, 2], "a spec must be a mapping"),
    ],
)
def test_bad_top_level(data, where):
    with pytest.raises(SpecError, match=where):
        graph_from_data(data, "bad.yaml")


def test_cli_bad_spec_exit_code_2_one_line(tmp_path, cli):
    path = tmp_path / "net.yaml"
    path.write_text("name: n\ninput: 3x8x8\nlayers:\n  - {type: conv2d, name: c1, out_channels: 0, kernel: 3}\n")
    result = cli("analyze", str(path))
    assert result.exit_code == 2
    assert result.output.strip() == f"costlab: error: {path}: layer 'c1': field 'out_channels': must be a positive integer, got 0"
    path.write_text("layers: [unclosed\n")
    result = cli("analyze", str(path))
    assert result.exit_code == 2 and "is not valid YAML" in result.output and "Traceback" not in result.output
