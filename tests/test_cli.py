"""The costlab CLI: commands, formats, exit codes, and the JSON contract."""

import json
import subprocess
import sys

import pytest


def test_compare_naive_bottleneck(cli):
    result = cli("compare", "naive", "bottleneck")
    assert result.exit_code == 0
    out = result.output
    # 112,896,000 / 5,268,480 = 21.43
    assert "21.4x fewer MACs" in out
    assert "(14x14x48) x (5x5x480) = 112,896,000" in out
    assert "(14x14x16) x (1x1x480) = 1,505,280" in out and "(14x14x48) x (5x5x16) = 3,763,200" in out


def test_compare_fc_head_gap_head(cli):
    result = cli("compare", "fc-head", "gap-head")
    assert result.exit_code == 0
    assert "7x7x1024x1024 = 51,380,224" in result.output
    assert "51,381,248" in result.output  # 51,380,224 weights + 1,024 biases


def test_compare_needs_two(cli):
    assert cli("compare", "naive").exit_code == 2


def test_list_shows_models_and_totals(cli):
    result = cli("list")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    # naive: 112,896,000 MACs; googlenet: 1,582,671,872 (derived in test_builtin_models.py)
    assert "112.9M" in lines["naive"] and "1.58G" in lines["googlenet"]
    types = cli("list", "--types")
    assert "conv2d" in types.output and "inception_naive" in types.output


def test_analyze_table_has_totals_and_share(cli):
    result = cli("analyze", "bottleneck")
    assert result.exit_code == 0
    total = next(line for line in result.output.splitlines() if line.startswith("total"))
    assert "5.27M" in total and "100%" in total and "5,268,480 MACs" in total
    assert "71.4%" in result.output  # 3,763,200 / 5,268,480 = 71.43%


def test_analyze_depth_one_row_per_table1_row(cli):
    result = cli("analyze", "googlenet", "--depth", "1", "--format", "csv")
    rows = result.output.strip().splitlines()[1:]
    assert [r.split(",")[1] for r in rows][:5] == ["conv1", "pool1", "conv2", "pool2", "inception_3a"]


def test_json_contract_and_byte_identical(cli):
    first = cli("analyze", "googlenet", "--format", "json").output
    second = cli("analyze", "googlenet", "--format", "json").output
    assert first == second
    doc = json.loads(first)
    # 'uncounted' (ops without a costlab rule) is additive: the keys before it are the /1 contract, unchanged
    assert list(doc) == ["schema", "model", "input", "batch", "mode", "convention", "totals", "layers", "uncounted"]
    assert doc["schema"] == "costlab.analysis/1" and doc["uncounted"] == []
    assert list(doc["totals"]) == ["macs", "params", "biases", "activations"]
    assert list(doc["layers"][0]) == ["name", "op", "in_shapes", "out_shape", "macs", "params", "biases", "activations", "formula"]
    assert doc["totals"]["macs"] == 1_582_671_872 and isinstance(doc["totals"]["macs"], int)
    assert sum(layer["macs"] for layer in doc["layers"]) == doc["totals"]["macs"]


def test_flops_convention_is_labelled(cli):
    doc = json.loads(cli("analyze", "naive", "--format", "json", "--convention", "flops").output)
    assert doc["totals"]["macs"] == 112_896_000 and doc["totals"]["cost"] == 2 * 112_896_000
    assert doc["cost_unit"] == "FLOPs"
    assert "FLOPs" in cli("analyze", "naive", "--convention", "flops").output


def test_markdown_format(cli):
    out = cli("compare", "naive", "bottleneck", "--format", "markdown").output
    assert out.startswith("| model") and "|--" in out


def test_symbolic_input_on_cli(cli):
    result = cli("analyze", "naive", "--input", "480xHxW", "--format", "json")
    doc = json.loads(result.output)
    # 5x5x480x48 = 576,000 MACs per output position
    assert doc["totals"]["macs"] == "576000*H*W"


def test_output_file_written_atomically(cli, tmp_path):
    target = tmp_path / "out.json"
    assert cli("analyze", "naive", "--format", "json", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["model"] == "naive"
    # a failing run leaves the previous file untouched and no temporary file behind
    before = target.read_text()
    assert cli("analyze", "nope", "--format", "json", "-o", str(target)).exit_code == 2
    assert target.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["analyze", "no-such-model"], "not a built-in model"),
        (["analyze", "missing.yaml"], "missing.yaml: no such spec file"),
        (["analyze", "naive", "--input", "3x0x4"], "--input"),
        (["analyze", "googlenet", "--input", "3x4x4"], "layer 'pool1.pool': field 'kernel'"),
        (["analyze", "naive", "--batch", "-1"], "--batch"),
        (["analyze", "naive", "--depth", "0"], "--depth"),
    ],
)
def test_bad_input_exit_code_2(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_compare_does_not_import_torch_or_sympy():
    code = (
        "import sys\nfrom costlab.cli import main\n"
        "try:\n    main(['compare', 'naive', 'bottleneck'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('torch', 'sympy', 'fvcore', 'matplotlib') if m in sys.modules]\n"
        "print('IMPORTED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("IMPORTED []")


FREEZE_PROBE = """
import gc, sys
sys.argv = ["costlab", "compare", "naive", "bottleneck"]
from costlab.cli import main
try:
    main()
except SystemExit as e:
    print(e.code, gc.get_freeze_count() > 0)
"""


def test_only_the_process_command_line_freezes_its_objects(cli):
    """The command line of the process (args from sys.argv, standalone) freezes its objects so that shutdown
    skips their collection; a program calling main with arguments (CliRunner here) keeps its collector as it was."""
    import gc

    before = gc.get_freeze_count()
    assert cli("compare", "naive", "bottleneck").exit_code == 0
    assert gc.get_freeze_count() == before
    out = subprocess.run([sys.executable, "-c", FREEZE_PROBE], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "0 True"
