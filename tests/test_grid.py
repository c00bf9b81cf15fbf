"""Vectorized grids: every point equals a numeric analysis of the widened graph at that setting."""

import random

import numpy as np
import pytest

from costlab import analyze, load_source
from costlab.errors import CostlabError, SpecError
from costlab.graph import Graph, Node
from costlab.grid import evaluate_grid, width_channels, width_plan
from costlab.layers import Einsum, Flatten, Recorded
from costlab.spec import graph_from_data
from costlab.sweep import widen
from helpers import spec


def numeric(graph, batch, resolution, width, mode="infer"):
    """The reference: widen, then analyze at that setting (None: the axis is not swept)."""
    g = widen(graph, width) if width is not None else graph
    shape = None if resolution is None else (graph.input_shape[0], resolution, resolution)
    t = analyze(g, shape, batch, mode).total()
    return t.macs, t.params, t.activations


def spot_check(graph, batches, resolutions, widths, mode="infer", samples=25, seed=0):
    """Evaluate the grid; compare `samples` random points (and the corners) with numeric analyses.
    Returns the grid, or the SpecError when the grid refuses (then a point must fail numerically too)."""
    try:
        grid = evaluate_grid(graph, resolutions, widths, batches, mode)
    except SpecError as refused:
        # the setting the message names must fail numerically at the same layer and field
        text = str(refused)
        b = int(text.split("(at batch ")[1].split(",")[0])
        r = int(text.split("resolution ")[1].split(",")[0])
        w = float(text.split("width ")[1].rstrip(")"))
        with pytest.raises(SpecError) as numeric_error:
            numeric(graph, b, r if resolutions is not None else None, w if widths is not None else None, mode)
        assert (numeric_error.value.layer, numeric_error.value.field) == (refused.layer, refused.field), text
        return refused
    rng = random.Random(seed)
    shape = grid.shape
    indices = {(0, 0, 0), tuple(s - 1 for s in shape)}
    indices |= {tuple(rng.randrange(s) for s in shape) for _ in range(samples)}
    for index in sorted(indices):
        b, r, w = grid.setting(index)
        expected = numeric(graph, b, r if resolutions is not None else None, w if widths is not None else None, mode)
        assert (grid.macs[index], grid.params[index], grid.activations[index]) == expected, (graph.name, b, r, w)
    return grid


def _analyzes(graph, resolution):
    try:
        analyze(graph, (graph.input_shape[0], resolution, resolution))
        return True
    except SpecError:
        return False


@pytest.mark.parametrize("model", ["googlenet", "resnet50", "alexnet", "inception-v2", "inception-v3", "vgg16"])
def test_zoo_grids_equal_numeric_analyses(model):
    graph = load_source(model)
    rng = random.Random(model)
    base = graph.input_shape[1]
    resolutions = sorted({base + rng.randrange(-40, 200) for _ in range(12)})
    resolutions = [r for r in resolutions if _analyzes(graph, r)]  # inception-v2's concats need sizes of 32k
    assert len(resolutions) >= 2
    widths = sorted({rng.choice([0.25, 0.5, 0.75, 1.0, 1.25, 2.0]) + rng.randrange(0, 100) / 1000 for _ in range(8)})
    result = spot_check(graph, [1, 2, 7], resolutions, widths, samples=20)
    assert not isinstance(result, SpecError), result  # these settings all analyze (checked above if not)
    assert result.macs.dtype == np.int64


def test_googlenet_train_mode_and_refusals_name_the_first_failing_setting():
    graph = load_source("googlenet")
    grid = spot_check(graph, [1, 4], [224, 230, 300], [0.5, 1.0], mode="train")
    # train mode adds the two auxiliary classifiers, never fewer MACs than inference
    assert (grid.macs >= evaluate_grid(graph, [224, 230, 300], [0.5, 1.0], [1, 4]).macs).all()
    refused = spot_check(graph, [1], [64, 128, 224], [1.0], mode="train")  # aux1's 5x5 pool does not fit at 64
    assert isinstance(refused, SpecError) and refused.layer == "aux1.pool" and "resolution 64" in str(refused)


def test_paper_numbers_at_the_default_setting():
    # GoogLeNet at 224x224, width 1: 1,582,671,872 MACs and 6,998,552 params (README, tests of the zoo)
    grid = evaluate_grid(load_source("googlenet"), [224], [1.0], [1, 256])
    assert grid.macs[0, 0, 0] == 1_582_671_872
    assert grid.macs[1, 0, 0] == 256 * 1_582_671_872  # MACs are linear in the batch
    assert grid.params[:, 0, 0].tolist() == [6_998_552, 6_998_552]  # params do not depend on it


def test_width_rounding_is_widens_rule_including_ties():
    widths = np.array([k / 64 for k in range(1, 257)] + [0.5, 1.5, 2.5, 0.1, 0.3, 0.7])
    for channels in [*range(1, 130), 192, 480, 832, 1024]:
        expected = [max(1, round(channels * w)) for w in widths.tolist()]  # widen's expression
        assert width_channels(channels, widths).tolist() == expected
    # a tie: 5 x 0.5 = 2.5 rounds to 2 (half to even), 3 x 0.5 = 1.5 rounds to 2
    assert width_channels(5, np.array([0.5])).tolist() == [2] and width_channels(3, np.array([0.5])).tolist() == [2]


RULES_SPEC = spec([
    {"type": "conv2d", "name": "stem", "out_channels": 12, "kernel": 3, "stride": 2, "padding": 1},
    {"type": "groupnorm", "name": "gn", "groups": 3},
    {"type": "conv2d", "name": "dw", "out_channels": 12, "kernel": 3, "padding": 1, "groups": 12},
    {"type": "batchnorm", "name": "bn"},
    {"type": "maxpool", "name": "pool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"type": "avgpool", "name": "avg", "kernel": 2, "stride": 1, "ceil_mode": True},
    {"type": "conv2d", "name": "same", "out_channels": 6, "kernel": [3, 5], "padding": "same", "dilation": 2, "bias": False},
    {"type": "conv2d", "name": "valid", "out_channels": 6, "kernel": 1, "padding": "valid"},
    {"type": "matmul", "name": "mm", "input": ["same", "valid"]},
    {"type": "attention", "name": "att", "input": ["mm", "mm", "valid"]},
    {"type": "layernorm", "name": "ln", "dims": 2},
    {"type": "add", "name": "sum", "input": ["ln", "valid"]},
    {"type": "concat", "name": "cat", "input": ["sum", "valid", "same"]},
    {"type": "lrn", "name": "lrn"},
    {"type": "adaptive_avgpool", "name": "gap", "output_size": [2, 3]},
    {"type": "flatten", "name": "flat"},
    {"type": "linear", "name": "hidden", "out_features": 20},
    {"type": "relu", "name": "act"},
    {"type": "dropout", "name": "drop", "p": 0.1},
    {"type": "linear", "name": "head", "out_features": 10, "bias": False},
    {"type": "softmax", "name": "prob"},
], input="3x32x32")


def test_every_rule_against_numeric_analyses():
    graph = graph_from_data(RULES_SPEC, "rules.yaml")
    assert width_plan(graph) == {"stem": "scale", "dw": "depthwise", "same": "scale", "valid": "scale", "hidden": "scale"}
    grid = spot_check(graph, [1, 3], list(range(8, 40)), [0.5, 1.0, 2.0], samples=60)
    assert not isinstance(grid, SpecError), grid
    # group norm: 3 groups; at width 0.3 the stem has round(12 x 0.3) = 4 channels, which 3 groups do not divide
    refused = spot_check(graph, [1], [32], [1.0, 0.3])
    assert isinstance(refused, SpecError) and (refused.layer, refused.field) == ("gn", "groups")


def test_fixed_input_without_a_resolution_axis():
    # fc-head: a flattened 7x7x1024 map into 1024 units; the classifier keeps its 1024 outputs
    graph = load_source("fc-head")
    grid = spot_check(graph, [1, 5], None, [0.5, 1.0, 3.0])
    assert grid.params[0, 0].tolist() == [7 * 7 * 1024 * 1024 + 1024] * 3  # 51,381,248: the input is not widened
    assert grid.resolution.tolist() == [7]


def test_beyond_int64_the_values_stay_exact():
    graph = load_source("naive")
    batch = 2**62  # 112,896,000 x 2**62 is far past int64
    grid = evaluate_grid(graph, None, None, [1, batch])
    assert grid.macs.dtype == object
    assert grid.macs[1, 0, 0] == 112_896_000 * batch == analyze(graph, None, batch).total().macs
    assert grid.macs[0, 0, 0] == 112_896_000


def test_huge_layer_fields_switch_to_exact_objects():
    data = spec([{"type": "conv2d", "out_channels": 3 * 10**12, "kernel": 1}, {"type": "conv2d", "out_channels": 5 * 10**11, "kernel": 1}])
    graph = graph_from_data(data, "huge.yaml")
    grid = spot_check(graph, [1, 2], [4, 9], [1.0])
    assert grid.macs.dtype == object


def test_refusals():
    naive = load_source("naive")
    captured = Graph("cap", naive.nodes, naive.input_shape, batch=1)
    with pytest.raises(CostlabError, match="captured"):
        evaluate_grid(captured, [32])
    odd = Graph("odd", (Node("weird", Recorded("aten::weird", (1, 2)), ("input",)),), (3, 8, 8))
    with pytest.raises(CostlabError, match="no rule for Recorded"):
        evaluate_grid(odd)
    grouped = graph_from_data(spec([{"type": "conv2d", "out_channels": 8, "kernel": 1},
                                    {"type": "conv2d", "name": "g", "out_channels": 8, "kernel": 3, "groups": 2}]), "g.yaml")
    with pytest.raises(CostlabError, match="layer 'g': a width multiplier does not support grouped convs"):
        evaluate_grid(grouped, [16], [1.0])
    assert evaluate_grid(grouped, [16]).macs[0, 0, 0] == analyze(grouped, (3, 16, 16)).total().macs  # no width axis: fine
    for bad in ([0], [-3], [], [1.5]):
        with pytest.raises(CostlabError, match="resolution"):
            evaluate_grid(naive.__class__("n", naive.nodes, (480, 14, 14)), bad)
    for bad in ([0.0], [float("nan")], [float("inf")], [-1.0]):
        with pytest.raises(CostlabError, match="width"):
            evaluate_grid(naive, None, bad)
    flat = graph_from_data(spec([{"type": "linear", "out_features": 4}], input="16"), "flat.yaml")
    with pytest.raises(CostlabError, match="needs a CxHxW input"):
        evaluate_grid(flat, [8])


def test_einsum_rule_on_a_hand_built_graph():
    # einsum layers only come from captured models; the rule is checked on a hand-built graph
    nodes = (Node("flat", Flatten(), ("input",)), Node("outer", Einsum("bi,bj->bij"), ("flat", "flat")))
    graph = Graph("e", nodes, (2, 3, 3))
    grid = evaluate_grid(graph, [3, 4], None, [1, 2])
    for index in np.ndindex(grid.shape):
        b, r, _ = grid.setting(index)
        assert grid.macs[index] == analyze(graph, (2, r, r), b).total().macs == b * (2 * r * r) ** 2


def test_random_valid_specs_from_the_fuzzer():
    from test_fuzz_specs import mutate

    rng = random.Random(15)
    checked = 0
    for _ in range(2500):  # most mutations are malformed; the valid ones are what this test checks
        data = mutate(rng)
        try:
            graph = graph_from_data(data, "fuzz.yaml")
            analyze(graph)
        except SpecError:
            continue
        resolutions = sorted(rng.sample(range(4, 80), 4))
        try:
            widths = [rng.choice([0.5, 0.75, 1.0, 1.3])]
            width_plan(graph)
        except CostlabError:
            widths = None
        spot_check(graph, [1, 2], resolutions, widths, mode=rng.choice(["infer", "train"]), samples=4)
        checked += 1
    assert checked > 50, checked
