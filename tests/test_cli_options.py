"""Consistent options: --format and -o wherever a result is printed, and what each format holds."""

import csv
import io
import json

import pytest


def test_compare_json_has_ratios_and_analyses(cli):
    doc = json.loads(cli("compare", "naive", "bottleneck", "--format", "json").output)
    assert doc["schema"] == "costlab.compare/1" and doc["first"] == "naive"
    naive, bottleneck = doc["models"]
    assert naive["macs_vs_first"] == 1.0 and naive["macs_change"] == "baseline"
    # 5,268,480 / 112,896,000 MACs; 26,944 / 576,048 params (README's compare table)
    assert bottleneck["macs_vs_first"] == 5_268_480 / 112_896_000
    assert bottleneck["params_vs_first"] == 26_944 / 576_048
    assert bottleneck["macs_change"] == "21.4x fewer MACs" and bottleneck["params_change"] == "21.4x fewer params"
    assert [a["schema"] for a in doc["analyses"]] == ["costlab.analysis/1"] * 2
    assert doc["analyses"][1]["totals"]["macs"] == 5_268_480


def test_compare_csv_keeps_the_cost_column_and_ratios(cli):
    rows = list(csv.DictReader(io.StringIO(cli("compare", "naive", "bottleneck", "--format", "csv", "--convention", "flops").output)))
    assert [r["model"] for r in rows] == ["naive", "bottleneck"]
    assert rows[1]["macs"] == "5268480" and rows[1]["cost"] == str(2 * 5_268_480)  # flops = 2 x MACs
    assert float(rows[1]["cost_vs_first"]) == 5_268_480 / 112_896_000
    assert rows[1]["cost_change"] == "21.4x fewer FLOPs"


def test_analyze_csv_has_cost_for_other_conventions(cli):
    rows = list(csv.DictReader(io.StringIO(cli("analyze", "naive", "--format", "csv", "--convention", "flops").output)))
    assert rows[0]["name"] == "conv5x5" and rows[0]["cost"] == str(2 * 112_896_000)
    assert "cost" not in cli("analyze", "naive", "--format", "csv").output.splitlines()[0].split(",")


def test_symbolic_compare_shows_a_constant_ratio(cli):
    out = cli("compare", "naive", "bottleneck", "--input", "480xHxW", "--no-formulas").output
    # 576000*H*W vs 26880*H*W: 576000 / 26880 = 21.43 at every H, W
    assert "576000*H*W" in out and "26880*H*W" in out and "21.4x fewer MACs" in out
    doc = json.loads(cli("compare", "naive", "bottleneck", "--input", "480xHxW", "--format", "json").output)
    assert doc["models"][1]["macs_vs_first"] == 26880 / 576000


def test_symbolic_ratio_constant_or_blank(cli):
    # both are stride-1 blocks on one map, so their ratio is constant: 303,464,448 / 128,049,152 (at 28x28)
    doc = json.loads(cli("compare", "inception", "inception-naive", "--input", "192xHxW", "--format", "json").output)
    assert doc["models"][1]["macs_vs_first"] == 303_464_448 / 128_049_152
    # googlenet's strided convs and pools make floor() terms: its ratio to naive depends on H and W
    doc = json.loads(cli("compare", "googlenet", "naive", "--input", "3xHxW", "--format", "json").output)
    assert doc["models"][1]["macs_vs_first"] is None and doc["models"][1]["macs_change"] == ""


def test_compare_depth_merges_blocks(cli):
    doc = json.loads(cli("compare", "googlenet", "inception-v2", "--depth", "1", "--format", "json").output)
    names = [layer["name"] for layer in doc["analyses"][0]["layers"]]
    assert names[:5] == ["conv1", "pool1", "conv2", "pool2", "inception_3a"] and "inception_3a.b1.conv" not in names
    assert doc["analyses"][0]["totals"]["macs"] == 1_582_671_872  # totals unchanged by grouping


def test_list_formats(cli, tmp_path):
    doc = json.loads(cli("list", "--format", "json").output)
    models = {m["model"]: m for m in doc["models"]}
    assert doc["schema"] == "costlab.models/1" and models["naive"]["macs"] == 112_896_000  # 14x14x48 x 5x5x480
    rows = list(csv.DictReader(io.StringIO(cli("list", "--types", "--format", "csv").output)))
    assert "conv2d" in [r["type"] for r in rows]
    assert cli("list", "--format", "markdown").output.startswith("| model")
    assert cli("list", "-o", str(tmp_path / "models.txt")).exit_code == 0 and "googlenet" in (tmp_path / "models.txt").read_text()


def test_sweep_input_markdown_and_output(cli, tmp_path):
    target = tmp_path / "sweep.md"
    result = cli("sweep", "naive", "--input", "3x14x14", "--resolution", "14", "--format", "markdown", "-o", str(target))
    assert result.exit_code == 0 and result.output == ""
    text = target.read_text()
    # 3 input channels instead of 480: (14x14x48) x (5x5x3) = 705,600
    assert text.startswith("| input") and "705,600" in text


def test_check_and_baseline_diff_write_files(cli, tmp_path):
    config = tmp_path / "costlab.toml"
    config.write_text('[[budget]]\nsource = "naive"\nmacs = "200M"\n')
    out = tmp_path / "check.json"
    assert cli("check", "--config", str(config), "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["limits"][0]["measured"] == 112_896_000
    base = tmp_path / "base.json"
    assert cli("baseline", "save", "naive", "-o", str(base)).exit_code == 0
    doc = json.loads(cli("baseline", "diff", str(base), "bottleneck", "--format", "json").output)
    assert doc["schema"] == "costlab.baseline-diff/1" and doc["ok"] is True
    assert doc["totals"] == {"macs_before": 112_896_000, "macs_after": 5_268_480, "params_before": 576_048, "params_after": 26_944}
    md = cli("baseline", "diff", str(base), "naive", "--format", "markdown").output
    assert "- no change" in md


def test_verify_json_and_output(cli, tmp_path):
    pytest.importorskip("fvcore")
    target = tmp_path / "verify.json"
    assert cli("verify", "naive", "--format", "json", "-o", str(target)).exit_code == 0
    doc = json.loads(target.read_text())
    assert doc["schema"] == "costlab.verify/1" and doc["ok"] is True
    (conv,) = [u for u in doc["models"][0]["units"] if u["name"] == "conv5x5"]
    assert conv["macs"] == conv["fvcore"] == 112_896_000 and conv["status"] == "exact"
    rows = list(csv.DictReader(io.StringIO(cli("verify", "naive", "--format", "csv").output)))
    assert rows[0]["model"] == "naive" and rows[0]["fvcore"] == "112896000"


def test_profile_json(cli):
    pytest.importorskip("torch")
    result = cli("profile", "naive", "--format", "json", "--repeats", "1", "--warmup", "0",
                 "--peak-tflops", "1", "--bandwidth-gbs", "10")
    doc = json.loads(result.output)
    assert doc["schema"] == "costlab.profile/1" and doc["roofline"]["peak_flops"] == 1e12
    assert [layer["name"] for layer in doc["layers"]] == ["conv5x5"] and doc["layers"][0]["macs"] == 112_896_000
