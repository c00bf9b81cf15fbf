"""Budgets (`costlab check`, the pytest helper), baselines and sweeps."""

import json
from pathlib import Path

import pytest

from costlab import analyze, load_source
from costlab.sweep import largest_within, parse_range, resolution_sweep
from costlab.testing import assert_within_budget

ROOT = Path(__file__).resolve().parents[1]

EXAMPLE = """\
[project]
name = "my-nets"

[[tool.costlab.budget]]
name = "paper-googlenet"
source = "googlenet"
macs = "1.5G"
params = "7M"

[[tool.costlab.budget]]
source = "inception"
[tool.costlab.budget.blocks]
"inception_*" = { macs = "100M", params = 200_000 }
"""


def write(tmp_path, text, name="pyproject.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_project_budgets_hold(cli):
    """The project dogfoods its own [tool.costlab] budgets (pyproject.toml)."""
    result = cli("check", "--config", str(ROOT / "pyproject.toml"))
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_paper_googlenet_does_not_hold_1_5g(cli, tmp_path):
    result = cli("check", "--config", write(tmp_path, EXAMPLE))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    macs = next(line for line in lines if line.startswith("paper-googlenet") and " macs " in line)
    # 1,582,671,872 of 1,500,000,000 = 105.5%; headroom -82,671,872
    assert "1,582,671,872" in macs and "105.5%" in macs and "-82.7M" in macs and macs.endswith("FAIL")
    params = next(line for line in lines if line.startswith("paper-googlenet") and " params " in line)
    assert params.endswith("pass")  # 6,998,552 <= 7,000,000
    block = next(line for line in lines if "inception_3a (inception_*)" in line and " macs " in line)
    assert block.endswith("FAIL")  # 128,049,152 > 100M


def test_github_annotations_point_at_the_limit_line(cli, tmp_path):
    config = write(tmp_path, EXAMPLE)
    out = cli("check", "--config", config, "--format", "github").output.splitlines()
    # 'macs = "1.5G"' is line 7 of EXAMPLE; the block limits are on line 13
    assert out[0] == (f"::error file={config},line=7,title=costlab budget::paper-googlenet: macs 1,582,671,872 exceeds "
                      "the limit 1,500,000,000 (1.5G) by 82,671,872 (5.5%25)")
    assert out[1].startswith(f"::error file={config},line=13,") and "inception_3a: macs 128,049,152" in out[1]
    assert out[-1] == "costlab check: 4 limits, 2 failed"  # googlenet macs + params, inception_3a macs + params


def test_json_format(cli, tmp_path):
    doc = json.loads(cli("check", "--config", write(tmp_path, EXAMPLE), "--format", "json").output)
    assert doc["schema"] == "costlab.check/1" and doc["ok"] is False
    first = doc["limits"][0]
    assert (first["measured"], first["limit"], first["headroom"]) == (1_582_671_872, 1_500_000_000, -82_671_872)


def test_standalone_costlab_toml(cli, tmp_path):
    config = write(tmp_path, '[[budget]]\nsource = "bottleneck"\nmacs = "5.3M"\n', "costlab.toml")
    assert cli("check", "--config", config).exit_code == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[tool.costlab.budget]]\nsource = "naive"\nmacz = "1G"\n', "tool.costlab.budget[1].macz: unknown key"),
        ('[[tool.costlab.budget]]\nsource = "naive"\nmacs = "1.5X"\n', "tool.costlab.budget[1].macs:"),
        ('[[tool.costlab.budget]]\nmacs = "1G"\n', "tool.costlab.budget[1].source: required"),
        ('[[tool.costlab.budget]]\nsource = "naive"\n', "no limit given"),
        ('[[tool.costlab.budget]]\nsource = "naive"\nmode = "fast"\nmacs = 1\n', "tool.costlab.budget[1].mode"),
        ('[[tool.costlab.budget]]\nsource = "naive"\n[tool.costlab.budget.blocks]\n"x*" = { flops = 1 }\n', "blocks.x*.flops: unknown key"),
        ('[[tool.costlab.budget]]\nsource = "naive"\n[tool.costlab.budget.blocks]\n"x*" = { macs = 1 }\n', "matches no block"),
        ('[tool.costlab]\nbudgets = []\n', "tool.costlab.budgets: unknown key"),
        ("[[tool.costlab.budget]\n", "not valid TOML"),
        ('[[tool.costlab.budget]]\nsource = "nope"\nmacs = 1\n', "not a built-in model"),
    ],
)
def test_config_errors_exit_2(cli, tmp_path, text, message):
    result = cli("check", "--config", write(tmp_path, text))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_assert_within_budget():
    assert_within_budget("googlenet", macs="1.6G", params="7M")
    with pytest.raises(AssertionError) as err:
        assert_within_budget("googlenet", macs="1.5G", blocks={"inception_*": {"macs": "300M"}})
    message = str(err.value)
    assert "1,582,671,872" in message and "inception_3b (inception_*)" in message and "2 failed" in message


def test_baseline_save_and_diff(cli, tmp_path):
    base = tmp_path / "googlenet.json"
    assert cli("baseline", "save", "googlenet", "-o", str(base)).exit_code == 0
    assert json.loads(base.read_text())["totals"]["macs"] == 1_582_671_872
    assert "no change" in cli("baseline", "diff", str(base), "googlenet").output
    spec = (ROOT / "costlab" / "zoo" / "googlenet.yaml").read_text()
    changed = spec.replace("name: inception_4e, numbers: [256, 160, 320, 32, 128, 128]", "name: inception_4e, numbers: [256, 160, 352, 32, 128, 128]")
    assert changed != spec
    (tmp_path / "wider.yaml").write_text(changed)
    result = cli("baseline", "diff", str(base), str(tmp_path / "wider.yaml"), "--max-growth", "2%")
    # 4e's 3x3 branch grows from 320 to 352 filters: 14x14 x 32 x 3x3x160 = 9,031,680 more MACs (+5.3% of 169,996,288);
    # and 5a reads 32 more input channels: 7x7 x 32 x (256 + 160 + 32 + 128) = 903,168 more
    assert "inception_4e: +9.03M MACs (+5.3%)" in result.output
    assert "inception_5a: +903.2K MACs (+1.8%)" in result.output
    assert result.exit_code == 0  # total +0.63% < 2%
    strict = cli("baseline", "diff", str(base), str(tmp_path / "wider.yaml"), "--max-growth", "0.5%")
    assert strict.exit_code == 1 and "FAIL: total macs grew 0.63%" in strict.output
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    bad = cli("baseline", "diff", str(tmp_path / "bad.json"), "googlenet")
    assert bad.exit_code == 2 and "field 'schema'" in bad.output


def test_sweep_is_exact_at_every_point():
    graph = load_source("googlenet")
    points = resolution_sweep(graph, parse_range("64:400:7"))
    for p in points:
        t = analyze(graph, (3, p.resolution, p.resolution)).total()
        assert (p.macs, p.params, p.activations) == (t.macs, t.params, t.activations)


def test_sweep_budget_answer(cli):
    points = resolution_sweep(load_source("googlenet"), parse_range("160:260:1"))
    best = largest_within(points, 1_500_000_000)
    # 222x222 stays under 1.5G MACs (1,429,458,368); 223x223 already costs 1,582,671,872, like 224
    assert best.resolution == 222 and best.macs == 1_429_458_368
    assert points[223 - 160].macs == 1_582_671_872
    out = cli("sweep", "googlenet", "--resolution", "160:260:1", "--budget", "1.5G").output
    assert "largest resolution within 1.5G MACs: 222x222 (1,429,458,368 MACs)" in out


def test_sweep_formats_chart_and_errors(cli, tmp_path):
    csv = cli("sweep", "naive", "--resolution", "7,14", "--format", "csv").output.splitlines()
    # naive: 5x5x480x48 = 576,000 MACs per output position: 7x7 -> 28,224,000 ; 14x14 -> 112,896,000
    assert csv == ["resolution,width,macs,params,activations", "7,1,28224000,576048,4704", "14,1,112896000,576048,18816"]
    chart = tmp_path / "sweep.svg"
    assert cli("sweep", "googlenet", "--chart", str(chart)).exit_code == 0 and chart.read_text().startswith("<?xml")
    assert cli("sweep", "googlenet", "--resolution", "8:64:8").exit_code == 2  # too small for the pools: names the layer
    # fc-head: a flatten feeds the linear layer, whose input features follow the map (R x R x 1024): a
    # symbolic sweep refused it (the feature count would be a symbol); the vectorized grid gives every
    # point as a numeric analysis does. 7x7x1024x1024 = 51,380,224 MACs; 8x8x1024x1024 = 67,108,864;
    # params = the same weights + 1,024 biases
    csv = cli("sweep", "fc-head", "--resolution", "7,8", "--format", "csv").output.splitlines()
    assert csv[1:] == ["7,1,51380224,51381248,51200", "8,1,67108864,67109888,66560"]
    for line in csv[1:]:
        size, _, macs, params, acts = (int(v) for v in line.split(","))
        total = analyze(load_source("fc-head"), (1024, size, size)).total()
        assert (total.macs, total.params, total.activations) == (macs, params, acts)
    # unet has layers without array rules (transposed convs, crops): swept through its symbolic formula,
    # which still checks the smallest size numerically and names the layer that cannot take it
    result = cli("sweep", "unet", "--resolution", "8,572")
    assert result.exit_code == 2 and "layer 'enc2.conv1': field 'kernel'" in result.output


def test_width_multiplier():
    from costlab.sweep import widen, width_sweep

    naive = load_source("naive")
    half = analyze(widen(naive, 0.5)).total()
    # 24 filters instead of 48: (14x14x24) x (5x5x480) = 56,448,000 MACs; 5x5x480x24 + 24 = 288,024 params
    assert (half.macs, half.params) == (56_448_000, 288_024)
    double = analyze(widen(load_source("bottleneck"), 2)).total()
    # 32 reductions, 96 filters: (14x14x32) x (1x1x480) + (14x14x96) x (5x5x32) = 3,010,560 + 15,052,800
    assert double.macs == 3_010_560 + 15_052_800 == 18_063_360
    googlenet = load_source("googlenet")
    points = width_sweep(googlenet, [0.5, 1.0])
    assert points[1].macs == 1_582_671_872 and points[1].params == 6_998_552  # x1 is the model itself
    assert analyze(widen(googlenet, 0.5)).rows[-1].out_shape == (1, 1000)  # the classifier keeps 1000 classes


def test_width_sweep_cli(cli):
    out = cli("sweep", "googlenet", "--width", "0.5:1.5:0.25", "--budget", "1.5G").output
    assert "largest width within 1.5G MACs: x0.75 (912,572,544 MACs)" in out


def test_baseline_with_a_bad_input_field_exits_2(cli, tmp_path):
    path = tmp_path / "b.json"
    assert cli("baseline", "save", "naive", "-o", str(path)).exit_code == 0
    path.write_text(path.read_text().replace('"input": [480, 14, 14]', '"input": [480, -1, 14]'))
    result = cli("baseline", "diff", str(path), "naive")
    assert result.exit_code == 2 and "field 'input'" in result.output and "Traceback" not in result.output
