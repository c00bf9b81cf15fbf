"""Thousands of malformed specs: never a traceback, always a SpecError (exit 2) naming the layer."""

import copy
import random

import yaml

from costlab.analysis import analyze
from costlab.errors import SpecError
from costlab.spec import graph_from_data

VALID = yaml.safe_load(
    """
name: fuzz
input: 3x32x32
layers:
  - {type: conv2d, name: stem, out_channels: 8, kernel: 3, stride: 1, padding: 1, bias: true}
  - {type: batchnorm, name: bn}
  - {type: relu, name: act}
  - {type: maxpool, name: pool, kernel: 3, stride: 2, padding: 1, ceil_mode: false}
  - {type: inception, name: mix, numbers: [4, 4, 8, 2, 4, 4]}
  - type: branches
    name: br
    branches:
      - [{type: conv2d, name: a, out_channels: 4, kernel: 1}]
      - [{type: conv2d, name: b, out_channels: 4, kernel: 3, padding: 1}]
  - type: residual
    name: res
    body: [{type: conv2d, name: c, out_channels: 8, kernel: 3, padding: 1}]
    then: [{type: relu, name: r}]
  - {type: global_avgpool, name: gap}
  - {type: flatten, name: flat}
  - {type: dropout, name: drop, p: 0.5}
  - {type: linear, name: fc, out_features: 10}
"""
)

JUNK = [-1, 0, 10**9, "x", None, [], [1, 2, 3], {}, 1.5, True, "same", [0, -2], {"a": 1}, "", "fc", "stem", ["stem", "ghost"]]
FIELDS = ["type", "name", "input", "out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias",
          "ceil_mode", "p", "out_features", "numbers", "layers", "branches", "body", "then", "merge", "train_only",
          "output_size", "affine", "kind", "size", "colour"]


def layer_dicts(node, found):
    """Every layer mapping inside a spec, nested ones included."""
    if isinstance(node, dict):
        if "type" in node:
            found.append(node)
        for value in node.values():
            layer_dicts(value, found)
    elif isinstance(node, list):
        for value in node:
            layer_dicts(value, found)
    return found


def mutate(rng):
    spec = copy.deepcopy(VALID)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(layer_dicts(spec["layers"], []))
        action = rng.random()
        if action < 0.6:
            target[rng.choice(FIELDS)] = rng.choice(JUNK)
        elif action < 0.8 and len(target) > 1:
            del target[rng.choice([k for k in target if k != "name"] or ["type"])]
        else:
            target["input"] = rng.choice(["fc", "res", "ghost", "mix.b1", "input", ["stem", "bn"]])
    return spec


def test_fuzz_malformed_specs_api():
    rng = random.Random(20261123)
    errors = 0
    for case in range(3000):
        spec = mutate(rng)
        try:
            analyze(graph_from_data(spec, "fuzz.yaml"), mode=rng.choice(["infer", "train"]))
        except SpecError as e:
            errors += 1
            message = str(e)
            assert message.startswith("fuzz.yaml: "), (case, message)
            assert "layer '" in message, (case, message)
            assert "\n" not in message
    assert errors > 2000  # most mutations must really be malformed, or this test proves little


def test_fuzz_through_the_cli(tmp_path, cli):
    rng = random.Random(7)
    path = tmp_path / "fuzz.yaml"
    for case in range(150):
        spec = mutate(rng)
        text = yaml.safe_dump(spec)
        if case % 5 == 0:  # also break the YAML itself
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(["[", "{", ": :", "\t", "'"]) + text[cut:]
        path.write_text(text)
        result = cli("analyze", str(path), "--format", "json")
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert result.output.startswith(f"costlab: error: {path}: ") and "Traceback" not in result.output
            assert result.output.count("\n") == 1
