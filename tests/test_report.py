"""Charts (their data), the cost tree, the HTML report's content (no browser: see test_report_browser.py)."""

import re

import pytest

from costlab import analyze, load_source
from costlab.graph import GraphBuilder
from costlab.layers import Activation, Conv2d
from costlab.render.charts import compare_data, cumulative_data, layer_data, op_data
from costlab.render.report import ProfileView, render_report
from costlab.render.report_compare import differences, headline
from costlab.render.svg import Bar, aggregate, bar_chart, nice_ticks, step_chart
from costlab.render.tree import auto_depth, block_count, cost_tree, tree_depth
from costlab.render.vocabulary import canonical_op
from costlab.shapes import parse_input

XSS = "<script>alert(1)</script>"


def test_chart_data_bottleneck():
    a = analyze(load_source("bottleneck"))
    names = [d[0] for d in layer_data(a)]
    assert names == ["reduce1x1", "relu_reduce", "conv5x5", "relu"]
    # shares: 1,505,280 / 5,268,480 = 28.57%, 3,763,200 / 5,268,480 = 71.43%
    assert [round(d[3], 2) for d in layer_data(a)] == [28.57, 0.0, 71.43, 0.0]
    assert op_data(a) == [("conv2d", 5_268_480, 100.0)]
    assert [d[1] for d in cumulative_data(a)] == [1_505_280, 1_505_280, 5_268_480, 5_268_480]


def test_compare_data_ratios():
    data = compare_data([analyze(load_source("naive")), analyze(load_source("bottleneck"))])
    assert data[1][:3] == ("bottleneck", 5_268_480, 26_944)
    assert data[1][3] == "21.4x fewer MACs"  # 112,896,000 / 5,268,480 = 21.43


def test_chart_files(cli, tmp_path):
    for kind in ("layers", "ops", "cumulative"):
        out = tmp_path / f"{kind}.svg"
        assert cli("chart", "googlenet", "--kind", kind, "-o", str(out)).exit_code == 0
        assert "<svg" in out.read_text()
    cumulative = (tmp_path / "cumulative.svg").read_text()
    assert ">1.2G<" in cumulative and ">layer (network order)<" in cumulative  # real text, K/M/G ticks
    png = tmp_path / "c.png"
    assert cli("chart", "googlenet", "--kind", "cumulative", "-o", str(png)).exit_code == 0
    header = png.read_bytes()
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == 1600  # an 8-inch figure at 200 dpi (HiDPI)
    assert cli("chart", "naive", "bottleneck", "-o", str(png)).exit_code == 0
    assert cli("chart", "naive", "-o", str(tmp_path / "x.gif")).exit_code == 2


def test_cost_tree_opens_inception_3a_into_its_branches():
    tree = cost_tree(analyze(load_source("googlenet")), 1)
    block = next(n for n in tree if n.key == "inception_3a")
    assert block.level == 0 and block.macs == 128_049_152  # Table 1: 128M
    branches = [n for n in tree if n.parent == block.order]
    assert [(n.key, n.macs) for n in branches] == [
        ("inception_3a.b1", 9_633_792),  # 28x28x64 x 1x1x192
        ("inception_3a.b2", 101_154_816),  # 28x28x96 x 1x1x192 = 14,450,688 + 28x28x128 x 3x3x96 = 86,704,128
        ("inception_3a.b3", 12_443_648),  # 28x28x16 x 1x1x192 = 2,408,448 + 28x28x32 x 5x5x16 = 10,035,200
        ("inception_3a.b4", 4_816_896),  # 28x28x32 x 1x1x192 after the pool
        ("inception_3a.concat", 0),
    ]
    assert round(branches[1].share_of_parent, 1) == 79.0  # 101,154,816 / 128,049,152
    layers = [n for n in tree if n.parent == branches[1].order]
    assert [n.key.rsplit(".", 1)[1] for n in layers] == ["conv3x3_reduce", "relu_reduce", "conv3x3", "relu"]
    assert all(n.index is not None and n.layers == 1 for n in layers)
    assert sum(n.macs for n in tree if n.parent is None) == 1_582_671_872  # the model's total, README


def test_automatic_depth():
    googlenet = analyze(load_source("googlenet"))
    # depth 1 = GoogLeNet's 19 Table 1 rows: conv1, pool1, conv2, pool2, 3a, 3b, pool3, 4a-4e, pool4, 5a, 5b, pool5,
    # dropout, fc, softmax; depth 2 splits each of the 9 inception blocks into b1-b4 and concat: more than 40
    assert block_count(googlenet, 1) == 19 and block_count(googlenet, 2) > 40
    assert auto_depth(googlenet) == 1
    v4 = analyze(load_source("inception-v4"))  # timm's names: features.0 ... features.21, then the head
    assert block_count(v4, 1) == 4 and auto_depth(v4) == 2 and block_count(v4, 2) == 25  # 22 features + 3
    assert auto_depth(v4, max_blocks=3) == 1
    inception = analyze(load_source("inception"))  # one module: branches at depth 2, layers at depth 3
    assert auto_depth(inception) == 3 and tree_depth(inception, 3) == 2


def test_aggregate_keeps_the_largest_and_sums_the_rest():
    bars = [Bar(f"b{i}", i, str(i), "") for i in range(50)]
    kept = aggregate(bars, limit=40)
    assert len(kept) == 40 and [b.name for b in kept[:39]] == [f"b{i}" for i in range(11, 50)]
    assert kept[-1].name == "other (11 blocks)" and kept[-1].value == sum(range(11))  # 0 + 1 + ... + 10 = 55


def test_charts_say_nothing_instead_of_empty_axes():
    assert "Nothing to chart" in bar_chart([Bar("gap", 0, "0", "")], "c", "x")
    assert "Nothing to chart" in step_chart([("conv5x5", 112_896_000), ("relu", 112_896_000)], "c", "y")
    html = render_report([analyze(load_source("fc-head")), analyze(load_source("gap-head"))])
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", html)
    assert texts and not [t for t in texts if t.startswith("-")]  # no negative axis anywhere
    assert html.count("Nothing to chart: no layer has MACs") == 2  # gap-head: per layer and by type


def test_chart_text_is_real_text_with_units_and_labels():
    html = render_report([analyze(load_source("googlenet"))])
    # inception_3a: 128,049,152 MACs = 8.1% of 1,582,671,872; 163,696 params
    assert 'data-tip="inception_3a\nMACs 128.0M (8.1%)\nparams 163.7K"' in html
    assert re.search(r'<svg class="bars" id="m1-macs"[^>]* role="img" aria-label="googlenet: MACs per block', html)
    assert "<figcaption>googlenet: cumulative MACs along the network" in html
    cumulative = html[html.index('id="m1-cumulative"'):]
    assert "1e10" not in html and 'text-anchor="end">1.5G</text>' in cumulative  # axis ticks in K/M/G
    # 1,582,671,872 / 4 = 395.7M, rounded up to a step of 5 x 10^8
    assert nice_ticks(1_582_671_872) == [0, 500_000_000, 1_000_000_000, 1_500_000_000]
    assert nice_ticks(3) == [0, 1, 2, 3] and nice_ticks(5_268_480) == [0, 2_000_000, 4_000_000]  # 1.3M -> a step of 2M


def test_one_op_vocabulary():
    assert [canonical_op(op) for op in ("relu", "gelu", "activation", "cat", "concat", "conv2d", "mystery")] == [
        "activation", "activation", "activation", "concat", "concat", "conv2d", "mystery"]


def test_comparison_headline_and_warnings():
    naive, bottleneck = analyze(load_source("naive")), analyze(load_source("bottleneck"))
    assert headline(naive, bottleneck) == "bottleneck: 21.4x fewer MACs, 21.4x fewer params"  # 576,048 / 26,944 = 21.38
    assert differences([naive, bottleneck]) == []
    v3 = analyze(load_source("inception-v3"))
    assert differences([analyze(load_source("googlenet")), v3]) == [
        "The inputs differ (googlenet 3x224x224, inception-v3 3x299x299): the costs are not for the same work."]
    html = render_report([naive, bottleneck])
    assert '<p class="headline"><span>bottleneck: 21.4x fewer MACs, 21.4x fewer params</span>' in html
    assert "Block by block: naive (A) vs bottleneck (B)" in html and 'id="cmp-blocks"' in html


def test_report_escapes_names_and_is_self_contained():
    html = render_report([xss_analysis()])
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"(src|href)=[\"']https?:", html) and "<link" not in html  # nothing fetched
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media print" in html and "prefers-color-scheme: dark" in html
    assert render_report([xss_analysis()]) == html  # deterministic


def test_profile_timings_become_columns():
    from costlab.render.profile import Measured

    a = analyze(load_source("bottleneck"))
    # 2 x 5,268,480 FLOPs... per layer: reduce1x1 1,505,280 MACs in 1 ms; conv5x5 3,763,200 MACs in 2 ms
    measured = [Measured("reduce1x1", 1_505_280, 1, 1e-3, 2 * 1_505_280 / 1e-3, 1.0, 1e13),
                Measured("conv5x5", 3_763_200, 1, 2e-3, 2 * 3_763_200 / 2e-3, 1.0, 1e13)]
    html = render_report([a], profiles=[ProfileView(measured, "<svg></svg>", "cpu, float32")])
    assert 'data-key="ms"' in html and "cpu, float32" in html
    row = re.search(r'<tr id="m1-r\d+" class="layer" [^>]*data-name="conv5x5"[^>]*data-ms="([\d.]+)" data-tflops="([\d.]+)"', html)
    assert row and row.groups() == ("2.000000", "0.004")  # 2 x 3,763,200 / 2 ms = 3.76 GFLOP/s = 0.004 TFLOP/s


def test_symbolic_report_says_why_there_are_no_charts():
    html = render_report([analyze(load_source("naive"), input_shape=parse_input("480xHxW"))])
    assert "Nothing to chart: the input is symbolic" in html


def xss_analysis():
    b = GraphBuilder("evil", "test")
    b.add(XSS, Conv2d(out_channels=4, kernel=(3, 3)), ("input",))
    b.add("relu", Activation(), (XSS,))
    return analyze(b.build((3, 8, 8)))


def test_report_cli_and_atomic_write(cli, tmp_path):
    out = tmp_path / "r.html"
    assert cli("report", "naive", "bottleneck", "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert html.index("Comparison") < html.index('id="model-1"') and "21.4x fewer MACs" in html
    before = out.read_text()
    assert cli("report", "naive", "nope", "-o", str(out)).exit_code == 2
    assert out.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_report_depth_option_and_automatic_depth(cli, tmp_path):
    out = tmp_path / "d.html"
    assert cli("report", "inception-v4", "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert "layers in 25 blocks (depth 2)" in html  # automatic: features.0 ... features.21, global_pool, flatten, last_linear
    assert len(re.findall(r'<g class="bar"[^>]*data-filter="features\.\d+"', html)) == 2 * 22  # MACs and params charts
    assert cli("report", "googlenet", "--depth", "2", "-o", str(out)).exit_code == 0
    # conv1 2 + pool1 2 + conv2 5 + pool2-pool5 4 + 9 inception blocks x (b1-b4, concat) 45 + dropout 1 + fc 2 + softmax 1 = 62
    assert "143 layers in 62 blocks (depth 2)" in out.read_text()
    assert cli("report", "googlenet", "--depth", "0", "-o", str(out)).exit_code == 2


def test_report_with_verification(cli, tmp_path):
    pytest.importorskip("fvcore")
    out = tmp_path / "v.html"
    assert cli("report", "inception", "--verify", "-o", str(out)).exit_code == 0
    assert 'class="status-exact"' in out.read_text()


def test_network_view_data_has_the_inception_branches_and_residual_edges():
    from costlab.render.network import network

    graph = load_source("googlenet")
    a = analyze(graph)
    tree = cost_tree(a, 1)
    net = network(a, tree, graph)
    order = {n["name"]: n["id"] for n in net["nodes"]}
    assert net["level"] == "layers" and len(net["nodes"]) == 143 + 1  # every layer, and the input
    into = lambda name: sorted(src for src, dst in net["edges"] if dst == order[name])  # noqa: E731
    # inception (3a) concatenates its four branches (paper Figure 2b)
    assert into("inception_3a.concat") == sorted(order[f"inception_3a.{b}.relu"] for b in ("b1", "b2", "b3", "b4"))
    fan_out = sorted(dst for src, dst in net["edges"] if src == order["pool2"])
    assert fan_out == sorted(order[n] for n in ("inception_3a.b1.conv1x1", "inception_3a.b2.conv3x3_reduce",
                                                "inception_3a.b3.conv5x5_reduce", "inception_3a.b4.pool"))
    resnet = load_source("resnet50")
    rnet = network(analyze(resnet), cost_tree(analyze(resnet), 2), resnet)
    names = {n["id"]: n["name"] for n in rnet["nodes"]}
    # ResNet-50's second bottleneck: its body (ending in bn3) and the identity shortcut from the block before meet
    assert sorted(names[s] for s, d in rnet["edges"] if names[d] == "layer1.1.add") == ["layer1.0.relu", "layer1.1.bn3"]
    chained = network(a, tree, None)  # no graph (a captured model records no data flow): execution order
    assert chained["note"] and len(chained["edges"]) == 143
