"""Invariants over random valid layers (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlab.analysis import analyze
from costlab.shapes import symbol
from costlab.spec import graph_from_data


@st.composite
def conv_specs(draw):
    groups = draw(st.sampled_from([1, 2, 4]))
    c_in = groups * draw(st.integers(1, 6))
    c_out = groups * draw(st.integers(1, 6))
    kernel = draw(st.integers(1, 5))
    layer = {
        "type": "conv2d", "name": "c", "out_channels": c_out, "kernel": kernel,
        "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, kernel // 2)),
        "dilation": draw(st.integers(1, 2)), "groups": groups, "bias": draw(st.booleans()),
    }
    return c_in, layer


def net(c_in, layers, h, w):
    return graph_from_data({"name": "p", "input": f"{c_in}x{h}x{w}", "layers": layers}, "prop.yaml")


SIZES = st.integers(12, 40)
fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(conv_specs(), SIZES, SIZES, st.integers(1, 9))
def test_macs_linear_in_batch_params_not(spec, h, w, batch):
    c_in, layer = spec
    g = net(c_in, [layer, {"type": "relu"}], h, w)
    one, many = analyze(g), analyze(g, batch=batch)
    assert many.total().macs == batch * one.total().macs
    assert many.total().activations == batch * one.total().activations
    assert many.total().params == one.total().params


@fast
@given(conv_specs(), SIZES, SIZES, SIZES, SIZES)
def test_params_independent_of_spatial_size(spec, h1, w1, h2, w2):
    c_in, layer = spec
    layers = [layer, {"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "out_features": 7}]
    assert analyze(net(c_in, layers, h1, w1)).total().params == analyze(net(c_in, layers, h2, w2)).total().params


@fast
@given(conv_specs(), SIZES, SIZES)
def test_grouped_conv_is_dense_divided_by_groups(spec, h, w):
    c_in, layer = spec
    dense = analyze(net(c_in, [dict(layer, groups=1)], h, w)).rows[0]
    grouped = analyze(net(c_in, [layer], h, w)).rows[0]
    g = layer["groups"]
    assert dense.macs == g * grouped.macs
    assert dense.params - dense.biases == g * (grouped.params - grouped.biases)


@st.composite
def small_networks(draw):
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "pool", "bn", "relu", "inception"]))
        if kind == "conv":
            k = draw(st.integers(1, 3))
            layers.append({"type": "conv2d", "out_channels": draw(st.integers(1, 8)), "kernel": k, "padding": k // 2,
                           "stride": draw(st.integers(1, 2))})
        elif kind == "pool":
            layers.append({"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": draw(st.booleans())})
        elif kind == "inception":
            layers.append({"type": "inception", "numbers": draw(st.lists(st.integers(1, 6), min_size=6, max_size=6))})
        else:
            layers.append({"type": "batchnorm" if kind == "bn" else "relu"})
    return layers


@fast
@given(small_networks(), st.integers(64, 200), st.integers(64, 200))
def test_rows_sum_to_totals_and_groups_keep_totals(layers, h, w):
    a = analyze(net(3, layers, h, w))
    t = a.total()
    assert t.macs == sum(r.macs for r in a.rows)
    assert t.params == sum(r.params for r in a.rows)
    assert t.activations == sum(r.activations for r in a.rows)
    assert a.by_depth(1).total() == t


@fast
@given(small_networks(), st.integers(64, 200), st.integers(64, 200))
def test_symbolic_substituted_equals_numeric(layers, h, w):
    H, W = symbol("H"), symbol("W")
    numeric = analyze(net(3, layers, h, w))
    symbolic = analyze(net(3, layers, "H", "W"))
    values = {H: h, W: w}
    for num_row, sym_row in zip(numeric.rows, symbolic.rows):
        macs = sym_row.macs if isinstance(sym_row.macs, int) else sym_row.macs.subs(values)
        assert int(macs) == num_row.macs, sym_row.name
        assert tuple(int(d if isinstance(d, int) else d.subs(values)) for d in sym_row.out_shape) == num_row.out_shape
    total = symbolic.total().macs
    assert int(total if isinstance(total, int) else total.subs(values)) == numeric.total().macs
