"""Each crash, traceback and wrong answer of issue 10 that the loader, budgets, baselines, sweeps,
output files and profile own, run again through the command line: a clean exit with one line."""

import json
import os
import signal
import sys
from pathlib import Path

import pytest
from hostile import ROOT, count, invoke, run_process

from costlab.baseline import parse_growth
from costlab.errors import CostlabError
from costlab.numbers import format_si, parse_si

# --- output files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/proc/version", "/sys/kernel/costlab.json", "/nonexistent-folder/x.json", "/dev/null", "/tmp"])
@pytest.mark.parametrize("command", [["analyze", "naive", "--format", "json"], ["baseline", "save", "naive"]])
def test_unwritable_output_exits_2_naming_the_path(command, target):
    result = invoke(*command, "-o", target, allowed=(2,))
    assert f"{target}: cannot write" in result.stderr or f"'{target}' is a directory" in result.stderr
    count("hostile corpus")


def test_nul_bytes_in_paths():
    assert "contains a NUL byte" in invoke("check", "--config", "a\0b.toml", allowed=(2,)).stderr
    assert "contains a NUL byte" in invoke("analyze", "naive", "-o", "a\0b", allowed=(2,)).stderr
    invoke("analyze", "a\0b.yaml", allowed=(2,))
    count("hostile corpus", 3)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tmp_path):
    tmp_path.chmod(0o555)
    try:
        result = invoke("analyze", "naive", "-o", str(tmp_path / "out.txt"), allowed=(2,))
        assert "cannot write: Permission denied" in result.stderr
    finally:
        tmp_path.chmod(0o755)


def test_sigterm_during_a_write_leaves_no_temp_file(tmp_path):
    """SIGTERM arrives between writing the temp file and renaming it: the temp file is removed, the
    old target kept, and the process exits 128 + 15."""
    target = tmp_path / "out.json"
    target.write_text("old")
    code = (
        "import os, signal, costlab.files as f\n"
        "real = os.replace\n"
        "def replace(a, b):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real(a, b)\n"
        "f.os.replace = replace\n"
        f"f.write_atomic({str(target)!r}, 'new')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"] and target.read_text() == "old"
    count("hostile corpus")


def test_a_killed_writers_temp_file_is_removed_by_the_next_write(tmp_path):
    from costlab.files import write_atomic

    dead = 2**22 + 12345  # above the default pid_max (4,194,304): no such process
    stale = tmp_path / f".out.json.{dead}.abc123.tmp"
    stale.write_text("half")
    alive = tmp_path / ".out.json.1.abc123.tmp"  # pid 1 (init) runs: its file is kept
    alive.write_text("other")
    write_atomic(tmp_path / "out.json", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.json", alive.name])


# --- costlab check --------------------------------------------------------------------------------


def _config(folder: Path, body: str, name: str = "costlab.toml") -> Path:
    path = folder / name
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


@pytest.mark.parametrize("entry, message", [
    ('input = "480xHxW"', "budget[1].input: a budget needs numbers"),
    ('input = "3x0x4"', "budget[1].input:"),
    ('input = ["3"]', "budget[1].input: expected a shape"),
    ('macs = "1e400G"', "budget[1].macs: '1e400G' is out of range"),
    ('macs = "infG"', "budget[1].macs: expected a finite number, got 'infG'"),
    ('macs = "nan"', "budget[1].macs: expected a finite number"),
    ('macs = "-1G"', "budget[1].macs: a limit cannot be negative"),
    ('macs = 1.5e9', "budget[1].macs: expected an integer"),
    ('macs = true', "budget[1].macs: expected an integer"),
    ('batch = 0', "budget[1].batch: must be a positive integer"),
    ('mode = "eval"', "budget[1].mode: must be 'infer' or 'train'"),
    ('name = ""', "budget[1].name: must be a non-empty string"),
    ('name = 3', "budget[1].name: must be a non-empty string"),
    ('macz = "1G"', "budget[1].macz: unknown key"),
    ('blocks = 3', "budget[1].blocks: expected a table"),
    ('blocks = { "x" = 3 }', "budget[1].blocks.x: expected a table"),
    ('blocks = { "x" = { flops = "1G" } }', "budget[1].blocks.x.flops: unknown key"),
    ('macs = "1G"\nmacs = "2G"', "duplicate key"),
])
def test_bad_budget_entries_exit_2_naming_the_key(tmp_path, entry, message):
    config = _config(tmp_path, f'[[budget]]\nsource = "naive"\nparams = "1M"\n{entry}\n')
    result = invoke("check", "--config", str(config), allowed=(2,))
    assert message in result.stderr and str(config) in result.stderr
    count("hostile corpus")


def test_non_utf8_pyproject_exits_2(tmp_path):
    config = _config(tmp_path, b'[tool.costlab]\n[[tool.costlab.budget]]\nsource = "naive"\nmacs = "1G" # \xff\n', "pyproject.toml")
    result = invoke("check", "--config", str(config), allowed=(2,))
    assert f"{config}: not UTF-8 text (byte 0xff" in result.stderr
    found = invoke("check", allowed=(2,), cwd=tmp_path)  # found from the folder, not just --config
    assert "not UTF-8 text" in found.stderr
    count("hostile corpus", 2)


def test_duplicate_budget_names_are_refused(tmp_path):
    config = _config(tmp_path, '[[budget]]\nname = "a"\nsource = "naive"\nmacs = "1G"\n'
                               '[[budget]]\nname = "a"\nsource = "bottleneck"\nmacs = "1G"\n')
    result = invoke("check", "--config", str(config), allowed=(2,))
    assert "budget[2].name: 'a' is already the name of budget[1]" in result.stderr


def test_relative_spec_source_is_relative_to_the_config_file(tmp_path):
    sub = tmp_path / "sub"
    (sub / "nets").mkdir(parents=True)
    (sub / "nets" / "n.yaml").write_text((ROOT / "costlab" / "zoo" / "naive.yaml").read_text())
    _config(sub, '[[budget]]\nsource = "nets/n.yaml"\nmacs = "113M"\n')  # 112,896,000 MACs: within
    assert invoke("check", "--config", "sub/costlab.toml", allowed=(0,), cwd=tmp_path).exit_code == 0
    assert invoke("check", allowed=(0,), cwd=sub / "nets").exit_code == 0  # found from a subfolder


def test_code_reference_in_a_config_never_runs_without_allow_code(tmp_path):
    marker = tmp_path / "ran"
    config = _config(tmp_path, f'[[budget]]\nsource = "os:system?command=touch {marker}"\nmacs = "1G"\n')
    result = invoke("check", "--config", str(config), allowed=(2,))
    assert not marker.exists()
    assert "would import and run Python code from 'os'" in result.stderr and "--allow-code" in result.stderr
    done = run_process(["check", "--config", str(config)])  # the same in a fresh process (the real command)
    assert done.returncode == 2 and not marker.exists()
    count("hostile corpus", 2)


def test_code_reference_policy_runs_nothing_before_refusing(tmp_path):
    """A code reference anywhere in the file stops the check before any budget is analysed."""
    marker = tmp_path / "ran"
    config = _config(tmp_path, '[[budget]]\nsource = "naive"\nmacs = "1G"\n'
                               f'[[budget]]\nsource = "os:system?command=touch {marker}"\nmacs = "1G"\n')
    invoke("check", "--config", str(config), "--format", "json", allowed=(2,))
    assert not marker.exists()


def test_registry_references_need_no_flag():
    from costlab.budgets import Budget, code_reference

    def budget(source):
        return Budget("b", source, None, 1, "infer", ())

    assert not code_reference(budget("torchvision:resnet18")) and not code_reference(budget("timm:resnet18"))
    assert not code_reference(budget("googlenet")) and not code_reference(budget("nets/n.yaml"))
    assert code_reference(budget("os:system?command=true")) and code_reference(budget("mypkg.nets:build"))
    assert not code_reference(budget("torchvision:googlenet?aux_logits=false&num_classes=10"))
    # timm's checkpoint_path unpickles a file and pretrained downloads: not without --allow-code
    assert code_reference(budget("timm:resnet18?checkpoint_path=/tmp/evil.pth"))
    assert code_reference(budget("timm:resnet18?pretrained=true")) and not code_reference(budget("timm:resnet18?pretrained=false"))


def test_allow_code_runs_the_reference(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "costlab_test_factory.py").write_text(
        "import torch\n\ndef build():\n    return torch.nn.Conv2d(3, 8, 3)\n")
    config = _config(tmp_path, '[[budget]]\nsource = "costlab_test_factory:build"\ninput = "3x10x10"\nmacs = "1M"\n')
    sys.path.insert(0, str(tmp_path))
    try:
        assert invoke("check", "--config", str(config), allowed=(2,)).exit_code == 2
        result = invoke("check", "--config", str(config), "--allow-code", allowed=(0,))
        # 8x8 outputs x 8 channels x 3x3x3 = 13,824 MACs
        assert "13,824" in result.stdout
    finally:
        sys.path.remove(str(tmp_path))


# --- baseline diff --------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "base.json"
    invoke("baseline", "save", "bottleneck", "-o", str(path), allowed=(0,))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["totals"].update(macs="5268480"), "field 'totals.macs': expected a non-negative integer, got '5268480'"),
    (lambda d: d["totals"].update(macs=None), "field 'totals.macs': expected a non-negative integer, got None"),
    (lambda d: d["totals"].update(macs=float("nan")), "field 'totals.macs': expected a non-negative integer, got nan"),
    (lambda d: d["totals"].update(macs="576000*H*W"), "field 'totals.macs'"),
    (lambda d: d["totals"].update(macs=-105369700), "field 'totals.macs': expected a non-negative integer"),
    (lambda d: d["totals"].update(macs=0), "field 'totals.macs': 0 is not the sum of the layers' macs (5,268,480)"),
    (lambda d: d["totals"].update(macs=10**400), "field 'totals.macs': expected a non-negative integer"),
    (lambda d: d["totals"].update(params=1.5), "field 'totals.params'"),
    (lambda d: d.pop("totals"), "field 'totals': missing"),
    (lambda d: d.pop("layers"), "field 'layers': missing"),
    (lambda d: d.update(layers={}), "field 'layers': expected a list"),
    (lambda d: d.update(totals=[]), "field 'totals': expected an object"),
    (lambda d: d["layers"][0].update(macs=-1), "field 'layers[0].macs'"),
    (lambda d: d["layers"][0].update(name=7), "field 'layers[0]'"),
    (lambda d: d.update(model=None), "field 'model'"),
    (lambda d: d.update(batch=True), "field 'batch'"),
    (lambda d: d.update(mode="eval"), "field 'mode'"),
    (lambda d: d.update(input=[3, "H", 4]), "field 'input'"),
    (lambda d: d.update(schema="costlab.analysis/2"), "field 'schema'"),
])
def test_edited_baselines_exit_2_naming_the_field(saved, edit, message):
    doc = json.loads(saved.read_text())
    edit(doc)
    saved.write_text(json.dumps(doc, allow_nan=True))
    result = invoke("baseline", "diff", str(saved), "bottleneck", allowed=(2,))
    assert message in result.stderr, result.stderr
    count("hostile corpus")


@pytest.mark.parametrize("text", ["[]", "null", "", "{", '{"schema": "costlab.analysis/1", "schema": "x"}'])
def test_baselines_that_are_not_objects(saved, text):
    saved.write_text(text)
    invoke("baseline", "diff", str(saved), "bottleneck", allowed=(2,))
    count("hostile corpus")


@pytest.mark.parametrize("growth", ["nan%", "NaN", "50%%", "1e400%", "inf%", "-1%", "5", "0.5", "%", "", "2 %%", "1e6%"])
def test_bad_max_growth_exits_2(saved, growth):
    result = invoke("baseline", "diff", str(saved), "bottleneck", "--max-growth", growth, allowed=(2,))
    assert "--max-growth" in result.stderr
    count("hostile corpus")


def test_max_growth_needs_its_percent_sign():
    # a bare 5 used to mean 500% (a fraction), so a 6.25% growth passed
    with pytest.raises(CostlabError, match=r"write 5% for a percentage"):
        parse_growth("5")
    assert parse_growth("5%") * 100 == 5 and parse_growth("0") == 0 and parse_growth(" 2.5% ") * 1000 == 25


def test_symbolic_baseline_cannot_be_saved(tmp_path):
    result = invoke("baseline", "save", "naive", "--input", "480xHxW", "-o", str(tmp_path / "b.json"), allowed=(2,))
    assert "needs numbers" in result.stderr and not (tmp_path / "b.json").exists()  # the CLI refuses the option itself


# --- sweep ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--width", "nan"], "--width: multipliers must be finite numbers"),
    (["--width", "inf"], "--width: multipliers must be finite numbers"),
    (["--width", "0.5:2:0"], "--width: the step must be positive"),
    (["--width", "0.5:1e9:0.5"], "--width: more than 1,000 points"),
    (["--width", "-1"], "--width: multipliers must be positive"),
    (["--budget", "-1G"], "'--budget': must be more than 0, got '-1G'"),
    (["--budget", "0"], "'--budget': must be more than 0, got '0'"),
    (["--budget", "nanG"], "'--budget': expected a finite number"),
    (["--resolution", "512:128:32"], "--resolution: the range is reversed (start 512 > stop 128); write 128:512:32"),
    (["--resolution", "1:10000000000"], "--resolution: more than 2,000,000 points"),
    (["--resolution", "128:512:-32"], "--resolution: the step must be a positive integer"),
    (["--resolution", "x"], "--resolution: expected START:STOP:STEP"),
])
def test_bad_sweep_options_exit_2(args, message):
    result = invoke("sweep", "naive", *args, allowed=(2,))
    assert message in result.stderr
    count("hostile corpus")


# --- numbers, spec details ------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (315_220_000 * 10**12, "315.2E"),  # printed "315220000T" before
    (10**15, "1P"),
    (2_500 * 10**15, "2.5E"),
    (999_960 * 10**15, "1e+21"),  # 999.96E rounds to 1000E: scientific from there on
    (3_154 * 10**18, "3.15e+21"),
    (-(10**24), "-1e+24"),
    (10**400, "1e+400"),
])
def test_si_beyond_tera(value, text):
    assert format_si(value) == text


@pytest.mark.parametrize("value", [1, 999, 1_000, 12_345, 5_268_480, 10**15, 7 * 10**18, 3_154 * 10**18, 10**29])
def test_parse_si_reads_what_format_si_writes(value):
    back = parse_si(format_si(value))
    assert abs(back - value) <= value // 100  # three significant digits


def test_one_dimensional_input_as_a_bare_int(tmp_path):
    spec = tmp_path / "mlp.yaml"
    spec.write_text("name: mlp\ninput: 784\nlayers:\n  - {type: linear, out_features: 10}\n")
    doc = json.loads(invoke("analyze", str(spec), "--format", "json", allowed=(0,)).stdout)
    assert doc["input"] == [784] and doc["totals"]["macs"] == 7_840  # 784 x 10


def test_name_message_says_ascii(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text("name: n\ninput: 3x8x8\nlayers:\n  - {type: relu, name: ré}\n")
    assert "must be ASCII letters, digits" in invoke("analyze", str(spec), allowed=(2,)).stderr


def test_add_with_one_input_is_refused(tmp_path):
    spec = tmp_path / "a.yaml"
    spec.write_text("name: a\ninput: 3x8x8\nlayers:\n  - {type: relu, name: r}\n  - {type: add, input: [r]}\n")
    assert "add takes at least 2 input(s), got 1" in invoke("analyze", str(spec), allowed=(2,)).stderr


# --- markdown and CSV output ----------------------------------------------------------------------

EVIL = "<img src=x onerror=alert(1)>|x\n[a](javascript:b)"


def test_markdown_escapes_names(tmp_path):
    from costlab.render.table import markdown_cell

    assert markdown_cell(EVIL) == "&lt;img src=x onerror=alert(1)&gt;\\|x \\[a\\](javascript:b)"
    spec = tmp_path / "m.json"
    spec.write_text(json.dumps({"name": "<b>x</b>|y", "input": "3x8x8", "layers": [{"type": "relu", "name": "a_b"}]}))
    out = invoke("analyze", str(spec), "--format", "markdown", allowed=(0,)).stdout
    assert "<b>" not in out and "&lt;b&gt;x&lt;/b&gt;\\|y" in out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert all(row.count("|") - row.count("\\|") == rows[0].count("|") for row in rows)  # no cell split by a name


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_neutralises_formulas(cell):
    from costlab.render.records import csv_cell

    assert csv_cell(cell) == "'" + cell and csv_cell(-3) == -3 and csv_cell("conv1") == "conv1"


def test_csv_output_of_a_hostile_model_name(tmp_path):
    spec = tmp_path / "c.json"
    spec.write_text(json.dumps({"name": "=HYPERLINK(\"http://evil\")", "input": "3x8x8", "layers": [{"type": "relu"}]}))
    out = invoke("analyze", str(spec), "--format", "csv", allowed=(0,)).stdout
    assert out.splitlines()[1].startswith("\"'=HYPERLINK(")


# --- profile --------------------------------------------------------------------------------------


def test_half_precision_calibration_on_a_cpu_is_sized_to_the_device():
    pytest.importorskip("torch")
    from costlab.bridge import profile

    peak, bandwidth = profile.calibrate("cpu", "bfloat16")  # a 3072^3 bfloat16 matmul ran > 10 minutes
    assert peak > 0 and bandwidth > 0


def test_overhead_is_never_a_bare_negative_number():
    pytest.importorskip("torch")
    from costlab.bridge.profile import Profile

    slower_plain = Profile("m", "cpu", "cpu", "float32", 1, {}, forward=0.212, forward_hooked=0.0178, noise=0.001)
    assert "below the timing noise" in slower_plain.overhead_text() and "-194.200 ms" in slower_plain.overhead_text()
    real = Profile("m", "cpu", "cpu", "float32", 1, {}, forward=0.010, forward_hooked=0.012, noise=0.0005)
    assert real.overhead_text() == "instrumentation overhead 2.000 ms"


@pytest.mark.parametrize("peak, bandwidth", [(float("nan"), 1e9), (float("inf"), 1e9), (1e12, 0.0), (-1.0, 1e9), (1e12, float("nan"))])
def test_roofline_rates_must_be_finite_and_positive(peak, bandwidth):
    from costlab.roofline import Device

    with pytest.raises(CostlabError, match="must be a finite positive number"):
        Device("cpu", {"float32": peak}, bandwidth, "given by flags")
    count("hostile corpus")
