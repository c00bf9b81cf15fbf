"""Each formula on small layers, derivation beside each number."""

import pytest

from costlab.errors import SpecError

from helpers import run


def only(a, op):
    rows = [r for r in a.rows if r.op == op]
    assert len(rows) == 1
    return rows[0]


def test_conv_stride_padding():
    a = run([{"type": "conv2d", "out_channels": 8, "kernel": 3, "stride": 2, "padding": 1}], "3x32x32")
    r = only(a, "conv2d")
    # out = floor((32 + 2 - 3) / 2) + 1 = 16 ; MACs = 16x16x8 x 3x3x3 = 55,296
    assert r.out_shape == (1, 8, 16, 16)
    assert r.macs == 16 * 16 * 8 * 27 == 55_296
    assert (r.params, r.biases) == (3 * 3 * 3 * 8 + 8, 8) == (224, 8)


def test_conv_rectangular_dilated_no_bias():
    a = run([{"type": "conv2d", "out_channels": 4, "kernel": [3, 1], "dilation": [2, 1], "bias": False}], "2x10x7")
    r = only(a, "conv2d")
    # H: span 2*(3-1)+1 = 5 -> 10 - 5 + 1 = 6 ; W: 7 ; MACs = 6x7x4 x 3x1x2 = 1,008
    assert r.out_shape == (1, 4, 6, 7)
    assert r.macs == 6 * 7 * 4 * 3 * 1 * 2 == 1_008
    assert (r.params, r.biases) == (3 * 1 * 2 * 4, 0)


def test_conv_same_padding():
    a = run([{"type": "conv2d", "out_channels": 5, "kernel": 4, "padding": "same"}], "3x9x9")
    assert only(a, "conv2d").out_shape == (1, 5, 9, 9)  # 'same' keeps 9x9 even for an even kernel
    with pytest.raises(SpecError, match="field 'padding'"):
        run([{"type": "conv2d", "out_channels": 5, "kernel": 3, "stride": 2, "padding": "same"}])


def test_grouped_and_depthwise_conv():
    dense = only(run([{"type": "conv2d", "out_channels": 32, "kernel": 3, "padding": 1}], "32x8x8"), "conv2d")
    grouped = only(run([{"type": "conv2d", "out_channels": 32, "kernel": 3, "padding": 1, "groups": 4}], "32x8x8"), "conv2d")
    depthwise = only(run([{"type": "conv2d", "out_channels": 32, "kernel": 3, "padding": 1, "groups": 32}], "32x8x8"), "conv2d")
    # dense: 8x8x32 x 3x3x32 = 589,824 ; groups=4: 3x3x8 per output = 147,456 ; depthwise: 3x3x1 = 18,432
    assert (dense.macs, grouped.macs, depthwise.macs) == (589_824, 147_456, 18_432)
    assert "[groups=32]" in depthwise.macs_formula
    with pytest.raises(SpecError, match="layer 'conv2d': field 'groups'"):
        run([{"type": "conv2d", "out_channels": 30, "kernel": 1, "groups": 4}], "32x8x8")


def test_linear_and_flatten():
    a = run([{"type": "flatten"}, {"type": "linear", "out_features": 10}], "4x2x3")
    r = only(a, "linear")
    # flatten: 4x2x3 = 24 features ; MACs = 24 x 10 = 240 ; params = 240 + 10
    assert r.macs == 240 and r.params == 250
    assert r.macs_formula == "2x3x4x10 = 240"  # the flattened factors, paper order HxWxC


def test_linear_over_the_last_dimension_like_torch():
    a = run([{"type": "linear", "out_features": 10}], "4x2x3")
    r = only(a, "linear")
    # torch.nn.Linear maps the last dimension: (1, 4, 2, 3) -> (1, 4, 2, 10); MACs = 4x2 rows x 3x10 = 240
    assert r.out_shape == (1, 4, 2, 10)
    assert r.macs == 4 * 2 * 3 * 10 == 240
    assert r.macs_formula == "4x2 x 3x10 = 240"


@pytest.mark.parametrize(
    "size, kernel, stride, padding, ceil, expected",
    [
        (112, 3, 2, 0, True, 56),  # GoogLeNet pool1: ceil((112-3)/2)+1 = ceil(54.5)+1 = 56
        (112, 3, 2, 0, False, 55),  # floor instead: 54+1 = 55
        (14, 5, 3, 0, False, 4),  # aux pool: (14-5)/3+1 = 4
        (5, 2, 2, 1, True, 3),  # ceil((5+2-2)/2)+1 = 4, but the 4th window would start at 6 >= 5+1: 3
        (6, 3, 3, 0, True, 2),  # exact fit: (6-3)/3+1 = 2 either way
    ],
)
def test_pool_sizes_follow_pytorch(size, kernel, stride, padding, ceil, expected):
    a = run([{"type": "maxpool", "kernel": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil}], f"3x{size}x{size}")
    assert a.rows[0].out_shape == (1, 3, expected, expected)
    assert a.rows[0].macs == 0 and a.rows[0].params == 0


def test_pool_stride_defaults_to_kernel_and_padding_limit():
    a = run([{"type": "avgpool", "kernel": 2}], "3x8x8")
    assert a.rows[0].out_shape == (1, 3, 4, 4)
    with pytest.raises(SpecError, match="field 'padding'"):
        run([{"type": "maxpool", "kernel": 2, "padding": 2}])


def test_adaptive_and_global_pool():
    a = run([{"type": "adaptive_avgpool", "output_size": [2, 3]}, {"type": "global_avgpool"}], "7x9x9")
    assert [r.out_shape for r in a.rows] == [(1, 7, 2, 3), (1, 7, 1, 1)]


def test_batch_norm_params():
    a = run([{"type": "batchnorm"}, {"type": "batchnorm", "affine": False}], "16x4x4")
    # affine: scale and shift per channel = 2 x 16 = 32 params; the shift is a parameter, not a conv/linear bias
    assert [(r.params, r.biases) for r in a.rows] == [(32, 0), (0, 0)]
    assert all(r.macs == 0 for r in a.rows)


def test_zero_mac_ops_list_their_elements():
    a = run([{"type": "relu"}, {"type": "lrn"}, {"type": "dropout", "p": 0.4}, {"type": "activation", "kind": "gelu"}], "3x4x5")
    for r in a.rows:
        assert r.macs == 0 and r.activations == 3 * 4 * 5 == 60
        assert "= 60 outputs" in r.macs_formula


def test_concat_and_add():
    layers = [
        {"type": "branches", "name": "mix", "branches": [
            [{"type": "conv2d", "out_channels": 4, "kernel": 1}],
            [{"type": "conv2d", "out_channels": 6, "kernel": 3, "padding": 1}],
        ]},
        {"type": "residual", "name": "res", "body": [{"type": "conv2d", "out_channels": 10, "kernel": 3, "padding": 1}],
         "then": [{"type": "relu"}]},
    ]
    a = run(layers, "3x8x8")
    names = [r.name for r in a.rows]
    assert names == ["mix.b1.conv2d", "mix.b2.conv2d", "mix.concat", "res.conv2d", "res.add", "res.relu"]
    assert a.rows[2].out_shape == (1, 10, 8, 8)  # 4 + 6 channels
    assert a.rows[4].in_shapes == ((1, 10, 8, 8), (1, 10, 8, 8))


def test_concat_of_mismatched_sizes_names_the_layer():
    layers = [{"type": "branches", "name": "mix", "branches": [
        [{"type": "conv2d", "out_channels": 4, "kernel": 1}],
        [{"type": "conv2d", "out_channels": 6, "kernel": 3}],  # no padding: 8x8 -> 6x6
    ]}]
    with pytest.raises(SpecError) as err:
        run(layers, "3x8x8")
    assert str(err.value).startswith("test.yaml: layer 'mix.concat': field 'inputs': concat of mismatched sizes")


def test_residual_with_mismatched_shortcut():
    layers = [{"type": "residual", "name": "res", "body": [{"type": "conv2d", "out_channels": 8, "kernel": 1}]}]
    with pytest.raises(SpecError, match=r"layer 'res\.add'"):
        run(layers, "3x8x8")
    ok = run([{"type": "residual", "name": "res", "body": [{"type": "conv2d", "out_channels": 8, "kernel": 1}],
               "shortcut": [{"type": "conv2d", "out_channels": 8, "kernel": 1, "bias": False}]}], "3x8x8")
    assert [r.name for r in ok.rows] == ["res.conv2d", "res.shortcut.conv2d", "res.add"]


def test_kernel_larger_than_padded_input():
    with pytest.raises(SpecError) as err:
        run([{"type": "conv2d", "name": "big", "out_channels": 4, "kernel": 7, "padding": 1}], "3x4x4")
    assert "layer 'big': field 'kernel'" in str(err.value) and "larger than the padded input" in str(err.value)


def test_batch_multiplies_macs_not_params():
    one = run([{"type": "conv2d", "out_channels": 8, "kernel": 3}], "3x10x10")
    four = run([{"type": "conv2d", "out_channels": 8, "kernel": 3}], "3x10x10", batch=4)
    assert four.total().macs == 4 * one.total().macs
    assert four.total().params == one.total().params
    assert four.rows[0].macs_formula.startswith("4 x (8x8x8)")
