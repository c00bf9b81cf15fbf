"""Vectorized grids: every point equals a numeric analysis of the widened graph at that setting."""

import math
import random

import numpy as np
import pytest

from costlab import analyze, load_source, zoo
from costlab.errors import CostlabError, SpecError
from costlab.graph import Graph, Node
from costlab.grid import evaluate_grid, supports, width_channels, width_plan
from costlab.layers import Einsum, Flatten, Linear, Recorded
from costlab.llm import builtin as llm_builtin
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
        text = str(refused)
        if "(at batch " not in text:  # widen itself refused (it analyzes the graph at its own input): so does every point
            with pytest.raises(CostlabError) as widened:
                widen(graph, widths[0])
            assert str(widened.value) == text
            return refused
        # the setting the message names must fail numerically at the same layer and field
        b = int(text.split("(at batch ")[1].split(",")[0])
        r = int(text.split("resolution ")[1].split(",")[0])
        w = float(text.split("width ")[1].rstrip(")"))
        with pytest.raises(SpecError) as numeric_error:
            numeric(graph, b, r if resolutions is not None else None, w if widths is not None else None, mode)
        assert (numeric_error.value.layer, numeric_error.value.field) == (refused.layer, refused.field), text
        # with the analysis's own message, then the setting
        assert refused.message == f"{numeric_error.value.message} (at batch {b}, resolution {r}, width {w:g})", text
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
    assert width_plan(graph) == {"stem": ("out_channels",), "dw": ("out_channels", "groups"), "same": ("out_channels",),
                                 "valid": ("out_channels",), "hidden": ("out_features",)}
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
    with pytest.raises(CostlabError, match="layer 'g': field 'groups': a width multiplier does not support grouped convs") as refused:
        evaluate_grid(grouped, [16], [1.0])
    with pytest.raises(CostlabError) as widened:
        widen(grouped, 1.0)
    assert str(refused.value) == str(widened.value)  # widen's own refusal, word for word
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


# ----------------------------------------------------------------------------------------------
# The other op families: transposed convs, crops, resampling, every rank of conv and pool, norms,
# embeddings, bilinear, deformable conv; each against numeric analyses point by point.

CNN_MODELS = [name for name in zoo.names() if not llm_builtin.has(name)]


def test_every_built_in_cnn_is_on_the_grid_and_no_transformer_is():
    for name in zoo.names():
        graph = load_source(name)
        assert supports(graph) == supports(graph, "train") == (name in CNN_MODELS), name
    assert "unet" in CNN_MODELS and len(CNN_MODELS) >= 18


@pytest.mark.parametrize("model", [m for m in CNN_MODELS if m not in ("googlenet", "resnet50", "alexnet", "inception-v2", "inception-v3", "vgg16")])
def test_other_built_in_grids_equal_numeric_analyses(model):
    graph = load_source(model)
    rng = random.Random(model)
    base = graph.input_shape[1]
    resolutions = sorted({max(1, base + rng.randrange(-base // 2, base // 2 + 8)) for _ in range(8)} | {base})
    widths = sorted({rng.choice([0.25, 0.5, 0.75, 1.0, 1.5, 2.0]) + rng.randrange(0, 100) / 1000 for _ in range(4)} | {1.0})
    result = spot_check(graph, [1, 3], resolutions, widths, samples=12)
    if model == "unet":  # valid convs and crops: every size from 188 up analyzes
        assert not isinstance(result, SpecError), result


def test_unet_sweep_goes_through_the_grid(monkeypatch):
    import costlab.sweep as sweep_module

    graph = load_source("unet")
    sizes = list(range(188, 573, 4))
    monkeypatch.setattr(sweep_module, "_compile", None)  # the symbolic path would fail: the grid must answer
    points = sweep_module.resolution_sweep(graph, sizes)
    assert [p.resolution for p in points] == sizes
    for p in points[:: 24] + points[-1:]:
        t = analyze(graph, (1, p.resolution, p.resolution)).total()
        assert (p.macs, p.params, p.activations) == (t.macs, t.params, t.activations)
    assert points[-1].macs == 150_428_424_448  # the paper's 572x572 input, as `costlab list` shows


NEW_RULES_SPEC = spec([
    {"type": "conv2d", "name": "stem", "out_channels": 8, "kernel": 3, "padding": 1},
    {"type": "instancenorm", "name": "inorm", "affine": True},
    {"type": "conv_transpose2d", "name": "up", "out_channels": 6, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
    {"type": "conv_transpose2d", "name": "dil", "out_channels": 5, "kernel": 2, "dilation": 2, "bias": False},
    {"type": "crop", "name": "crop", "input": ["dil", "stem"]},
    {"type": "concat", "name": "cat", "input": ["crop", "stem"]},
    {"type": "maxpool", "name": "mp", "kernel": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
    {"type": "avgpool", "name": "ap", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"type": "upsample", "name": "bil", "scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
    {"type": "upsample", "name": "near", "scale_factor": [2, 3]},
    {"type": "upsample", "name": "exact", "scale_factor": [0.7, 1.3], "mode": "nearest-exact"},
    {"type": "upsample", "name": "sized", "size": [13, 11], "mode": "bicubic"},
    {"type": "conv2d", "name": "pre", "out_channels": 8, "kernel": 1},
    {"type": "pixel_shuffle", "name": "ps", "upscale_factor": 2},
    {"type": "pixel_unshuffle", "name": "pu", "downscale_factor": 2},
    {"type": "rmsnorm", "name": "rms", "dims": 2},
    {"type": "multiply", "name": "mul", "input": ["pu", "rms"]},
    {"type": "batchnorm", "name": "bn"},
    {"type": "identity", "name": "skip"},
    {"type": "groupnorm", "name": "gn", "groups": 2},
    {"type": "conv2d", "name": "offs", "out_channels": 4, "kernel": 1, "input": "gn"},
    {"type": "deform_conv2d", "name": "dcn", "out_channels": 8, "kernel": 1, "input": ["gn", "offs"]},
    {"type": "adaptive_maxpool", "name": "amp", "output_size": [3, 2]},
    {"type": "flatten", "name": "flat"},
    {"type": "linear", "name": "fc1", "out_features": 12},
    {"type": "linear", "name": "fc2", "out_features": 7, "input": "flat"},
    {"type": "bilinear", "name": "bil2", "out_features": 6, "input": ["fc1", "fc2"]},
    {"type": "linear", "name": "head", "out_features": 5},
], input="4x32x32")


def test_every_new_rule_against_numeric_analyses():
    graph = graph_from_data(NEW_RULES_SPEC, "new_rules.yaml")
    plan = width_plan(graph)
    assert plan["up"] == plan["dcn"] == ("out_channels",) and plan["bil2"] == plan["fc1"] == ("out_features",) and "head" not in plan
    # widths whose channels stay divisible by 4 (pixel shuffle) and even (the offsets of a 1x1 deformable conv)
    grid = spot_check(graph, [1, 2, 5], list(range(3, 41)), [0.5, 1.0, 1.5, 2.0, 2.55], samples=80)
    assert not isinstance(grid, SpecError), grid
    assert grid.macs.dtype == np.int64


def _varying_inputs(layers, inputs, widths, batches=(1, 3), name="r.yaml"):
    """Graphs with different fixed inputs (a 1-D or 3-D map has no resolution axis): batch x width grids."""
    for text in inputs:
        graph = graph_from_data(spec(layers, input=text), name)
        grid = spot_check(graph, list(batches), None, widths, samples=12)
        assert not isinstance(grid, SpecError), (text, grid)


def test_one_dimensional_rules():
    layers = [
        {"type": "conv1d", "name": "c1", "out_channels": 8, "kernel": 5, "stride": 2, "padding": 2},
        {"type": "batchnorm", "name": "bn"},
        {"type": "maxpool1d", "name": "mp", "kernel": 3, "stride": 2, "ceil_mode": True, "dilation": 1},
        {"type": "conv_transpose1d", "name": "t1", "out_channels": 6, "kernel": 4, "stride": 3, "padding": 1, "output_padding": 2},
        {"type": "upsample", "name": "lin", "scale_factor": 0.7, "mode": "linear"},
        {"type": "avgpool1d", "name": "ap", "kernel": 2, "padding": 1, "ceil_mode": True},
        {"type": "instancenorm", "name": "inorm", "affine": True},
        {"type": "conv1d", "name": "same", "out_channels": 4, "kernel": 3, "padding": "same", "dilation": 2},
        {"type": "adaptive_avgpool1d", "name": "gap", "output_size": 5},
        {"type": "adaptive_maxpool1d", "name": "gmp", "output_size": 3, "input": "same"},
        {"type": "concat", "name": "cat", "input": ["gap", "gap"]},
        {"type": "flatten", "name": "flat", "input": "gmp"},
        {"type": "linear", "name": "fc", "out_features": 10},
    ]
    _varying_inputs(layers, ["3x9", "3x17", "2x40", "3x101"], [0.3, 0.5, 1.0, 1.7])


def test_three_dimensional_rules():
    layers = [
        {"type": "conv3d", "name": "c3", "out_channels": 4, "kernel": [3, 1, 3], "stride": [1, 2, 1], "padding": [1, 0, 1]},
        {"type": "maxpool3d", "name": "mp", "kernel": 2, "ceil_mode": True},
        {"type": "conv_transpose3d", "name": "t3", "out_channels": 3, "kernel": 2, "stride": 2},
        {"type": "avgpool3d", "name": "ap", "kernel": [1, 2, 2], "padding": [0, 1, 0]},
        {"type": "upsample", "name": "tri", "scale_factor": [1, 1.25, 0.5], "mode": "trilinear"},
        {"type": "batchnorm", "name": "bn"},
        {"type": "instancenorm", "name": "inorm"},
        {"type": "adaptive_maxpool3d", "name": "amp", "output_size": [1, 2, 2]},
        {"type": "adaptive_avgpool3d", "name": "aap", "output_size": 1, "input": "inorm"},
        {"type": "add", "name": "sum", "input": ["aap", "aap"]},
        {"type": "flatten", "name": "flat", "input": "amp"},
        {"type": "linear", "name": "fc", "out_features": 4},
    ]
    _varying_inputs(layers, ["2x7x9x10", "1x4x5x6", "3x11x8x13"], [0.5, 1.0, 2.0])


def test_lookup_and_sampling_rules():
    ids = [
        {"type": "embedding", "name": "emb", "num_embeddings": 50, "embedding_dim": 16},
        {"type": "layernorm", "name": "ln"},
        {"type": "linear", "name": "proj", "out_features": 8},
        {"type": "rmsnorm", "name": "rms", "affine": False},
        {"type": "embedding_bag", "name": "bag", "num_embeddings": 30, "embedding_dim": 6, "input": "input"},
        {"type": "linear", "name": "fc", "out_features": 8},
        {"type": "bilinear", "name": "pair", "out_features": 4, "input": ["fc", "fc"]},
        {"type": "flatten", "name": "flat", "input": "rms"},
        {"type": "linear", "name": "head", "out_features": 3},
    ]
    _varying_inputs(ids, ["1", "12", "33"], [0.25, 0.5, 1.0, 1.5])
    theta = [  # affine_grid of theta (N, 2, 3); grid_sample of an embedded map at that grid
        {"type": "affine_grid", "name": "ag", "size": [5, 7]},
        {"type": "embedding", "name": "emb", "num_embeddings": 10, "embedding_dim": 8, "input": "input"},
        {"type": "grid_sample", "name": "gs", "input": ["emb", "ag"]},
        {"type": "conv2d", "name": "conv", "out_channels": 4, "kernel": 3},
        {"type": "flatten", "name": "flat"},
        {"type": "linear", "name": "fc", "out_features": 3},
    ]
    _varying_inputs(theta, ["2x3"], [0.5, 1.0, 1.25], batches=(1, 2, 9))


def test_attention_with_grouped_query_heads():
    # q: a conv's 6 channels as heads (L = H, E = W); k and v: the input's 3 channels
    layers = [{"type": "conv2d", "name": "q", "out_channels": 6, "kernel": 1},
              {"type": "attention", "name": "att", "gqa": True, "input": ["q", "input", "input"]}]
    graph = graph_from_data(spec(layers, input="3x8x8"), "gqa.yaml")
    grid = spot_check(graph, [1, 2], [4, 5, 9], [0.5, 1.0, 2.0])
    assert grid.macs[0, 0, 1] == 6 * 3 * 16 + 6 * 4 * 4 * 4 * 2  # the conv, then 6 heads x L x S x (E + Ev)
    refused = spot_check(graph, [1], [8], [1.0, 0.75])  # round(6 x 0.75) = 4 query heads over 3 key/value heads
    assert isinstance(refused, SpecError) and (refused.layer, refused.field) == ("att", "inputs")


REFUSALS = [  # (layers, input, resolutions, widths, the layer and field that fail)
    ([{"type": "conv_transpose2d", "name": "t", "out_channels": 4, "kernel": 1, "padding": 3}], "3x32x32", [9, 4, 6, 7], None, ("t", "padding")),
    ([{"type": "conv_transpose2d", "name": "t", "out_channels": 4, "kernel": 3, "output_padding": 1}], "3x32x32", [8], None,
     ("t", "output_padding")),
    ([{"type": "maxpool", "name": "p", "kernel": 2}, {"type": "conv2d", "name": "c", "out_channels": 3, "kernel": 3, "input": "input"},
      {"type": "crop", "name": "crop", "input": ["p", "c"]}], "3x32x32", [3, 4, 5, 6], None, ("crop", "input")),
    ([{"type": "pixel_unshuffle", "name": "u", "downscale_factor": 2}], "3x32x32", [8, 10, 9, 12], None, ("u", "downscale_factor")),
    ([{"type": "conv2d", "name": "c", "out_channels": 8, "kernel": 1}, {"type": "pixel_shuffle", "name": "s", "upscale_factor": 2}],
     "3x32x32", [8], [1.0, 0.75], ("s", "upscale_factor")),
    ([{"type": "conv2d", "name": "offs", "out_channels": 4, "kernel": 1},
      {"type": "deform_conv2d", "name": "d", "out_channels": 4, "kernel": 1, "input": ["input", "offs"]}],
     "3x32x32", [8, 9], [1.0, 0.75], ("d", "input")),
    ([{"type": "conv2d", "name": "offs", "out_channels": 18, "kernel": 1},
      {"type": "deform_conv2d", "name": "d", "out_channels": 4, "kernel": 3, "input": ["input", "offs"]}],
     "3x32x32", [8, 9], None, ("d", "input")),  # the offsets' map is larger than the output
    ([{"type": "upsample", "name": "u", "scale_factor": 2, "mode": "bilinear"}], "3x20", None, None, ("u", "mode")),
    ([{"type": "upsample", "name": "u", "scale_factor": 2, "size": 4}], "3x20x20", [8], None, ("u", "size")),
    ([{"type": "upsample", "name": "u", "scale_factor": 2, "align_corners": False}], "3x20x20", [8], None, ("u", "align_corners")),
    ([{"type": "upsample", "name": "u", "scale_factor": [2, 2, 2]}], "3x20x20", [8], None, ("u", "scale_factor")),
    ([{"type": "maxpool", "name": "p", "kernel": 5, "dilation": 2, "ceil_mode": True, "padding": 1}], "3x20x20", [20, 8, 7, 6], None,
     ("p", "kernel")),
    ([{"type": "maxpool", "name": "p", "kernel": 2, "padding": 2}], "3x20x20", [8], None, ("p", "padding")),
    ([{"type": "avgpool3d", "name": "p", "kernel": 2}], "3x20x20", [8], None, ("p", "input")),
    ([{"type": "conv1d", "name": "c", "out_channels": 2, "kernel": 1}], "3x20x20", [8], None, ("c", "input")),
    ([{"type": "conv2d", "name": "c", "out_channels": 3, "kernel": 1}, {"type": "multiply", "name": "m", "input": ["c", "input"]}],
     "3x20x20", [8], [1.0, 0.5], ("m", "inputs")),
    ([{"type": "conv2d", "name": "c", "out_channels": 3, "kernel": 1}, {"type": "bilinear", "name": "b", "out_features": 3, "input": ["input", "c"]}],
     "3x20x20", [5], [1.0, 0.5], ("b", "input")),
    ([{"type": "flatten", "name": "f"}, {"type": "instancenorm", "name": "i"}], "3x20x20", [8], None, ("i", "input")),
    ([{"type": "flatten", "name": "f"}, {"type": "rmsnorm", "name": "r", "dims": 2}], "3x20x20", [8], None, ("r", "dims")),
    ([{"type": "pixel_shuffle", "name": "s", "upscale_factor": 2}], "4x20", None, None, ("s", "input")),
    ([{"type": "conv2d", "name": "c", "out_channels": 3, "kernel": 1}, {"type": "groupnorm", "name": "g", "groups": 3},
      {"type": "conv_transpose2d", "name": "t", "out_channels": 3, "kernel": 2, "groups": 3, "input": "c"}],
     "3x20x20", [8], None, None),  # a grouped transposed conv: fine without a width axis
    ([{"type": "affine_grid", "name": "a", "size": [4, 4]}], "3x3", None, None, ("a", "input")),
    ([{"type": "embedding", "name": "e", "num_embeddings": 5, "embedding_dim": 3},
      {"type": "grid_sample", "name": "g", "mode": "bicubic", "input": ["e", "e"]}], "2x2x3", None, None, ("g", "mode")),
    ([{"type": "embedding_bag", "name": "b", "num_embeddings": 5, "embedding_dim": 3}], "3x4", None, [0.5, 1.0], ("b", "input")),  # widen refuses: it analyzes the graph first
    ([{"type": "conv_transpose1d", "name": "t", "out_channels": 4, "kernel": 2, "stride": 2}], "3x20x20", [8], None, ("t", "input")),
    # messages with a flattened dimension print its factors (HxWxC, 1s left out) as FlatDim does: '1x2 @ 1x2' at width 2, '1x3x3 @ 1x3x3' at 3
    ([{"type": "conv2d", "name": "c", "out_channels": 1, "kernel": 1}, {"type": "flatten", "name": "f"},
      {"type": "matmul", "name": "m", "input": ["f", "f"]}], "1x1x1", [1, 2], [1.0, 2.0], ("m", "inputs")),
    ([{"type": "conv2d", "name": "c", "out_channels": 1, "kernel": 1}, {"type": "flatten", "name": "f"},
      {"type": "matmul", "name": "m", "input": ["f", "f"]}], "1x1x1", [1, 3], None, ("m", "inputs")),
    ([{"type": "flatten", "name": "f"}, {"type": "bilinear", "name": "b", "out_features": 2, "input": ["f", "input"]}],
     "3x8x8", [4, 5], None, ("b", "input")),
]


@pytest.mark.parametrize("case", range(len(REFUSALS)))
def test_new_rules_refuse_where_the_analysis_does(case):
    layers, input_text, resolutions, widths, expected = REFUSALS[case]
    graph = graph_from_data(spec(layers, input=input_text), "refuse.yaml")
    result = spot_check(graph, [1, 2], resolutions, widths)  # a refusal is checked against the analysis there
    if expected is None:
        assert not isinstance(result, SpecError), result
    else:
        assert isinstance(result, SpecError) and (result.layer, result.field) == expected, result


def test_grouped_transposed_conv_refuses_a_width_as_widen_does():
    graph = graph_from_data(spec([{"type": "conv_transpose2d", "name": "t", "out_channels": 4, "kernel": 2, "groups": 2}],
                                 input="4x8x8"), "g.yaml")
    with pytest.raises(CostlabError, match="layer 't': field 'groups': a width multiplier does not support grouped convs"):
        evaluate_grid(graph, [8], [1.0])


def test_width_plan_is_read_off_the_registered_widen_rules(monkeypatch):
    from dataclasses import replace as replace_field

    from costlab import registry

    graph = graph_from_data(RULES_SPEC, "rules.yaml")
    entry = registry.for_layer(Linear(4))
    # a family that keeps its width: the plan (and so the grid) follows the registry, as widen does
    monkeypatch.setitem(registry._BY_CLASS, Linear, replace_field(entry, widen=lambda layer, factor, channels, head: layer))
    assert "hidden" not in width_plan(graph)
    assert not isinstance(spot_check(graph, [1], [16, 31], [0.5, 2.0]), SpecError)
    # a family that scales another way (rounding up): refused by name rather than counted wrong
    ceil = lambda layer, factor, channels, head: replace_field(layer, out_features=math.ceil(layer.out_features * factor))  # noqa: E731
    monkeypatch.setitem(registry._BY_CLASS, Linear, replace_field(entry, widen=ceil))
    with pytest.raises(CostlabError, match="layer 'hidden': grid evaluation cannot follow how a width multiplier scales field 'out_features'"):
        evaluate_grid(graph, [16], [0.5])


def _random_layer(rng, index, names):
    """One random layer of a 2-D family (many invalid somewhere: the grid must then fail as the analysis does)."""
    kind = rng.choice(["conv2d", "conv2d", "conv_transpose2d", "maxpool", "avgpool", "adaptive", "upsample", "upsample", "shuffle",
                       "unshuffle", "norm", "relu", "crop", "concat", "add", "multiply"])
    name = f"l{index}"
    pick = lambda *values: rng.choice(values)  # noqa: E731
    if kind == "conv2d":
        padding = pick(0, 1, 2, "same", "valid")
        return {"type": "conv2d", "name": name, "out_channels": rng.randint(1, 12), "kernel": [rng.randint(1, 5), rng.randint(1, 4)],
                "stride": 1 if padding == "same" else pick(1, 1, 2, 3), "padding": padding, "dilation": pick(1, 1, 2), "bias": pick(True, False)}
    if kind == "conv_transpose2d":
        stride = pick(1, 2, 3)
        return {"type": "conv_transpose2d", "name": name, "out_channels": rng.randint(1, 8), "kernel": rng.randint(1, 4), "stride": stride,
                "padding": pick(0, 1, 2), "output_padding": rng.randrange(stride), "dilation": pick(1, 2)}
    if kind in ("maxpool", "avgpool"):
        k = rng.randint(1, 4)
        layer = {"type": kind, "name": name, "kernel": k, "stride": pick(None, 1, 2, 3), "padding": rng.randint(0, k // 2),
                 "ceil_mode": pick(True, False)}
        if kind == "maxpool":
            layer["dilation"] = pick(1, 1, 2)
        return layer
    if kind == "adaptive":
        return {"type": pick("adaptive_avgpool", "adaptive_maxpool"), "name": name, "output_size": [rng.randint(1, 4), rng.randint(1, 4)]}
    if kind == "upsample":
        mode = pick("nearest", "nearest-exact", "bilinear", "bicubic")
        layer = {"type": "upsample", "name": name, "mode": mode}
        if rng.random() < 0.2:
            layer["size"] = [rng.randint(1, 20), rng.randint(1, 20)]
        else:
            layer["scale_factor"] = pick(0.5, 0.75, 1.3, 1.5, 2, 3, [2, 1.5], [0.6, 1.1])
        if mode in ("bilinear", "bicubic") and rng.random() < 0.5:
            layer["align_corners"] = pick(True, False)
        return layer
    if kind == "shuffle":
        return {"type": "pixel_shuffle", "name": name, "upscale_factor": pick(1, 2)}
    if kind == "unshuffle":
        return {"type": "pixel_unshuffle", "name": name, "downscale_factor": pick(1, 2)}
    if kind == "norm":
        return pick({"type": "instancenorm", "name": name, "affine": pick(True, False)}, {"type": "batchnorm", "name": name},
                    {"type": "groupnorm", "name": name, "groups": pick(1, 2)}, {"type": "rmsnorm", "name": name, "dims": pick(1, 2, 3)},
                    {"type": "layernorm", "name": name, "dims": pick(1, 2)})
    if kind == "relu":
        return {"type": "relu", "name": name}
    other = rng.choice(names)
    if kind == "crop":
        return {"type": "crop", "name": name, "input": [names[-1], other]}
    return {"type": kind, "name": name, "input": [names[-1], other]}


def test_random_specs_of_the_new_families():
    rng = random.Random(2024)
    checked = refused = 0
    for _ in range(400):
        names = ["input"]
        layers = []
        for i in range(rng.randint(2, 7)):
            layers.append(_random_layer(rng, i, names))
            names.append(layers[-1]["name"])
        if rng.random() < 0.4:
            layers += [{"type": "flatten", "name": "flat"}, {"type": "linear", "name": "fc", "out_features": rng.randint(1, 9)},
                       {"type": "linear", "name": "head", "out_features": 3}]
        try:
            graph = graph_from_data(spec(layers, input=f"{rng.choice([1, 3, 4, 8])}x24x24"), "random.yaml")
            analyze(graph)
        except SpecError:
            continue
        try:
            widths = sorted(rng.sample([0.25, 0.5, 0.75, 1.0, 1.3, 1.5, 2.0], 2))
            width_plan(graph)
        except CostlabError:
            widths = None
        result = spot_check(graph, [1, 2], sorted(rng.sample(range(2, 70), 5)), widths, samples=5, seed=checked)
        checked += 1
        refused += isinstance(result, SpecError)
    assert checked > 100 and 10 < refused < checked - 50, (checked, refused)


def test_sizes_that_grow_past_int64_stay_exact():
    # three transposed convs of stride 2^30 take a map past 2^90; a fractional upsampling of that is floor(float product), as analyze does
    layers = [{"type": "conv_transpose2d", "name": f"t{i}", "out_channels": 2, "kernel": 1, "stride": 2**30} for i in range(3)]
    layers += [{"type": "upsample", "name": "u", "scale_factor": 1.37}, {"type": "pixel_shuffle", "name": "ps", "upscale_factor": 1},
               {"type": "maxpool", "name": "p", "kernel": 3, "ceil_mode": True}]
    graph = graph_from_data(spec(layers, input="2x8x8"), "grow.yaml")
    grid = spot_check(graph, [1, 3], [2, 3, 7], [0.5, 1.0, 3.0])
    assert grid.macs.dtype == object and grid.activations[0, 2, 1] > 2**180
    # a map grown to 2^63 - 4 rows (each product below 2^63): int64 would wrap the next pool's padded size and refuse it
    big = 2**31 - 1
    near = graph_from_data(spec([
        {"type": "conv_transpose2d", "name": "t1", "out_channels": 1, "kernel": 1, "stride": [big, 1]},
        {"type": "conv_transpose2d", "name": "t2", "out_channels": 1, "kernel": [2**30, 1], "dilation": [4, 1], "stride": [big, 1]},
        {"type": "upsample", "name": "u", "scale_factor": [2, 1]},
        {"type": "maxpool", "name": "p", "kernel": [big, 1], "padding": [2**30 - 1, 0]}], input="1x2x2"), "near.yaml")
    assert analyze(near).rows[2].out_shape[2] == 2**63 - 4
    assert spot_check(near, [1], [2], None).macs.dtype == object


def test_widths_past_int64_stay_exact():
    graph = graph_from_data(spec([{"type": "conv2d", "name": "c", "out_channels": 3 * 10**12, "kernel": 1},
                                  {"type": "linear", "name": "fc", "out_features": 7}, {"type": "linear", "name": "head", "out_features": 2}]),
                            "wide.yaml")
    grid = spot_check(graph, [1], [2, 3], [1.0, 1e8, 0.3])
    assert grid.params.dtype == object and grid.params[0, 0, 1] > 2**63


def test_the_families_without_an_array_rule_are_the_ones_documented():
    from costlab.gridrules import RULES
    from costlab.registry import all_types

    # sequence models (no sequence axis on the grid), captured detection ops (their boxes are data), captured rows
    documented = {"lstm", "gru", "rnn", "positions", "position_bias", "rotary", "attention_scores", "attention_values", "slice",
                  "select_token", "unembedding", "experts", "roi_pool", "roi_align", "ps_roi_align", "nms", "recorded"}
    assert {t.op for t in all_types() if t.cls not in RULES} == documented
