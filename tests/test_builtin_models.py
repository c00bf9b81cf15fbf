"""Every number the core issue names, reproduced exactly, derivation beside it.

Outside sources: Szegedy et al., "Going deeper with convolutions" (2014), Table 1 and section 5;
Szegedy et al., "Rethinking the Inception Architecture" (2015), section 3.1 (factorization).
"""

import pytest

from costlab import analyze, load_source
from costlab import zoo


def totals(name, **kw):
    return analyze(load_source(name), **kw).total()


def row(analysis, name):
    return next(r for r in analysis.rows if r.name == name)


def test_naive_5x5():
    a = analyze(load_source("naive"))
    # (14x14x48) x (5x5x480) = 9408 x 12000 = 112,896,000
    assert a.total().macs == 14 * 14 * 48 * 5 * 5 * 480 == 112_896_000
    assert row(a, "conv5x5").macs_formula == "(14x14x48) x (5x5x480) = 112,896,000"
    # weights 5x5x480x48 = 576,000, + 48 biases
    assert a.total().params == 576_048 and a.total().biases == 48


def test_bottleneck():
    a = analyze(load_source("bottleneck"))
    # (14x14x16) x (1x1x480) = 1,505,280 ; (14x14x48) x (5x5x16) = 3,763,200
    assert row(a, "reduce1x1").macs == 14 * 14 * 16 * 480 == 1_505_280
    assert row(a, "conv5x5").macs == 14 * 14 * 48 * 5 * 5 * 16 == 3_763_200
    assert a.total().macs == 1_505_280 + 3_763_200 == 5_268_480
    assert a.by_depth(1).rows  # grouping a flat model keeps its rows
    # 112,896,000 / 5,268,480 = 21.43: the "21.4x" of the seed
    assert round(112_896_000 / a.total().macs, 1) == 21.4


def test_fc_head_vs_gap():
    fc = analyze(load_source("fc-head"))
    # 7x7x1024 inputs x 1024 outputs = 51,380,224 weights (+1024 biases)
    assert fc.total().params - fc.total().biases == 7 * 7 * 1024 * 1024 == 51_380_224
    assert row(fc, "fc").params_formula == "7x7x1024x1024 + 1024 = 51,381,248"
    gap = totals("gap-head")
    assert (gap.params, gap.macs) == (0, 0)


def test_inception_3a_naive_and_reduced():
    naive = totals("inception-naive")
    # per output position: 1x1x192x64 + 3x3x192x128 + 5x5x192x32 = 12,288 + 221,184 + 153,600 = 387,072
    assert naive.macs == 28 * 28 * 387_072 == 303_464_448
    reduced = analyze(load_source("inception"))
    # 192x64 + 192x96 + 3x3x96x128 + 192x16 + 5x5x16x32 + 192x32 = 163,328 per position
    assert reduced.total().macs == 28 * 28 * 163_328 == 128_049_152
    assert reduced.total().params == 163_328 + (64 + 96 + 128 + 16 + 32 + 32) == 163_696
    # output depth 64 + 128 + 32 + 32 = 256 (Table 1, inception (3a): 28x28x256)
    assert reduced.rows[-1].out_shape == (1, 256, 28, 28)
    # naive output depth 64 + 128 + 32 + 192 (the pooled input passes through) = 416
    assert analyze(load_source("inception-naive")).rows[-1].out_shape == (1, 416, 28, 28)


def test_factorization_weights_per_channel_pair():
    pairs = 64 * 64  # input-output channel pairs in the chosen 64 -> 64 layer
    assert totals("conv5x5").params == 25 * pairs  # 5x5 = 25
    assert totals("conv3x3-x2").params == 18 * pairs  # 2 x 3x3 = 18
    assert totals("conv7x7").params == 49 * pairs  # 7x7 = 49
    assert totals("conv3x3-x3").params == 27 * pairs  # 3 x 3x3 = 27
    # same map (28x28, padding keeps it), so MACs scale the same way: 28x28 x pairs x weights
    assert totals("conv5x5").macs == 28 * 28 * 25 * pairs == 80_281_600
    assert totals("conv3x3-x2").macs == 28 * 28 * 18 * pairs == 57_802_752


# Table 1 of the paper: output size per row (112, 56, 28, 14, 7).
TABLE1_OUTPUT = {
    "conv1": (64, 112, 112), "pool1": (64, 56, 56), "conv2": (192, 56, 56), "pool2": (192, 28, 28),
    "inception_3a": (256, 28, 28), "inception_3b": (480, 28, 28), "pool3": (480, 14, 14),
    "inception_4a": (512, 14, 14), "inception_4b": (512, 14, 14), "inception_4c": (512, 14, 14),
    "inception_4d": (528, 14, 14), "inception_4e": (832, 14, 14), "pool4": (832, 7, 7),
    "inception_5a": (832, 7, 7), "inception_5b": (1024, 7, 7), "pool5": (1024, 1, 1),
    "dropout": (1024, 1, 1), "fc": (1000,), "softmax": (1000,),
}

# Table 1's "ops" column, in millions, which the paper rounds; our exact count beside each.
TABLE1_OPS_AGREE = {
    "conv2": 360,  # 56x56x64x(1x1x64) + 56x56x192x(3x3x64) = 12,845,056 + 346,816,512 = 359,661,568
    "inception_3a": 128,  # 128,049,152
    "inception_3b": 304,  # 304,267,264
    "inception_4b": 88,  # 87,908,352
    "inception_4c": 100,  # 99,850,240
    "inception_4d": 119,  # 118,515,712
    "inception_4e": 170,  # 169,996,288
    "inception_5b": 71,  # 70,697,984
    "fc": 1,  # 1024x1000 = 1,024,000
}


def test_googlenet_table1_rows():
    a = analyze(load_source("googlenet")).by_depth(1)
    assert [r.name for r in a.rows] == list(TABLE1_OUTPUT)  # one row per Table 1 row with --depth 1
    for r in a.rows:
        assert r.out_shape[1:] == TABLE1_OUTPUT[r.name], r.name
    for name, millions in TABLE1_OPS_AGREE.items():
        assert round(row(a, name).macs / 1e6) == millions, name


def test_googlenet_table1_errata():
    """Where the paper's Table 1 disagrees with its own layer sizes (kept visible, not hidden)."""
    a = analyze(load_source("googlenet")).by_depth(1)
    # conv1: 112x112x64 x (7x7x3) = 118,013,952, the paper prints 34M (and 2.7K params for 9,408 weights)
    assert row(a, "conv1").macs == 112 * 112 * 64 * 7 * 7 * 3 == 118_013_952
    # 4a: 14x14 x (480x192 + 480x96 + 9x96x208 + 480x16 + 25x16x48 + 480x64) = 196 x 375,552 = 73,608,192 (paper: 73M)
    assert row(a, "inception_4a").macs == 196 * 375_552 == 73_608_192
    # 5a: 7x7 x (832x256 + 832x160 + 9x160x320 + 832x32 + 25x32x128 + 832x128) = 49 x 1,042,432 = 51,079,168 (paper: 54M)
    assert row(a, "inception_5a").macs == 49 * 1_042_432 == 51_079_168


def test_googlenet_budget():
    t = totals("googlenet")
    # sum of the per-row counts above plus 4a/5a/conv1: 1,582,671,872 MACs at inference
    assert t.macs == (118_013_952 + 359_661_568 + 128_049_152 + 304_267_264 + 73_608_192 + 87_908_352
                      + 99_850_240 + 118_515_712 + 169_996_288 + 51_079_168 + 70_697_984 + 1_024_000) == 1_582_671_872
    # The paper's budget: "1.5 billion multiply-adds at inference time" - exceeded by 5.5%;
    # Table 1's own ops column sums to 1,502M only because it lists conv1 at 34M instead of 118M.
    assert t.macs > 1_500_000_000
    assert 34 + 360 + 128 + 304 + 73 + 88 + 100 + 119 + 170 + 54 + 71 + 1 == 1502
    assert t.params == 6_998_552


def test_googlenet_auxiliary_heads_only_in_training():
    infer = analyze(load_source("googlenet"))
    train = analyze(load_source("googlenet"), mode="train")
    assert not any(r.name.startswith("aux") for r in infer.rows)
    aux = [r for r in train.rows if r.name.startswith("aux1.")]
    assert [r.out_shape[1:] for r in aux][:2] == [(512, 4, 4), (128, 4, 4)]  # 5x5/3 pool: (14-5)/3+1 = 4
    # per head: conv 1x1x512x128 + 128, fc 4x4x128x1024 + 1024, fc 1024x1000 + 1000 (aux2: 528 input channels)
    aux1_params = (512 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    aux2_params = aux1_params + 16 * 128
    assert train.total().params - infer.total().params == aux1_params + aux2_params == 3_188_840 + 3_190_888 == 6_379_728
    # MACs per head: 4x4x128x512 + 2048x1024 + 1024x1000 = 1,048,576 + 2,097,152 + 1,024,000
    aux_macs = 2 * (1_048_576 + 2_097_152 + 1_024_000) + 16 * 128 * 16  # aux2 conv reads 528 = 512 + 16 channels
    assert aux_macs == 8_372_224
    assert train.total().macs - infer.total().macs == aux_macs


def test_every_builtin_loads_and_is_listed():
    assert set(zoo.names()) >= {
        "naive", "bottleneck", "fc-head", "gap-head", "inception-naive", "inception", "googlenet",
        "conv5x5", "conv3x3-x2", "conv7x7", "conv3x3-x3",
    }
    for name in zoo.names():
        assert analyze(load_source(name)).rows, name


@pytest.mark.parametrize("name", ["googlenet", "inception"])
def test_names_are_dotted_paths(name):
    a = analyze(load_source(name))
    assert "inception_3a.b3.conv5x5" in [r.name for r in a.rows]


def test_compiled_zoo_matches_yaml_sources():
    """costlab/zoo/compiled/ is the YAML files parsed, one module per model, no other; regenerate with
    `python -m costlab.zoo` after editing them."""
    import importlib

    on_disk = {p.name: p.read_text(encoding="utf-8") for p in zoo.COMPILED.glob("*.py")}
    assert on_disk == zoo.compiled_sources()
    for name, data in zoo.compile_sources().items():
        assert importlib.import_module(f"costlab.zoo.compiled.{zoo.compiled_module(name)}").DATA == data


@pytest.mark.parametrize("name", ["googlenet", "gpt2", "mixtral-8x7b", "unet"])
def test_analyses_pickle_with_their_texts(name):
    """Analyses go through pickle (multiprocessing, Dask): formula texts are built lazily by functions that
    may be local, so a pickled row carries the text itself; a flattened dimension keeps its factors."""
    import pickle

    from costlab.shapes import FlatDim

    analysis = analyze(load_source(name))
    back = pickle.loads(pickle.dumps(analysis))
    assert back == analysis
    assert [r.formula for r in back.rows] == [r.formula for r in analysis.rows]
    flat = FlatDim((7, 7, 1024))
    assert pickle.loads(pickle.dumps(flat)).factors == (7, 7, 1024)
