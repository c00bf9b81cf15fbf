"""costlab train, the training step's arithmetic on spec graphs (no torch), fit, symbolic formulas."""

import json

import pytest

from costlab import analyze, load_source
from costlab.numbers import format_bytes, parse_bytes
from costlab.shapes import parse_input
from costlab.training.fit import DEVICE_MEMORY, largest_batch, memory_limit
from costlab.training.optimizer import OPTIMIZERS
from costlab.training.schedule import plan
from costlab.training.step import train_step
from costlab.roofline import DEVICES


def _step(name="googlenet", batch=1, **kw):
    graph = load_source(name, batch=batch, mode="train")
    return graph, train_step(graph, analyze(graph, batch=batch, mode="train"), **kw)


def test_googlenet_training_step_in_numbers():
    """The paper's GoogLeNet in train mode (aux heads): forward 1,582,671,872 (inference) + 8,372,224 (the two
    aux classifiers, README) = 1,591,044,096. Every layer computes a weight gradient (= its forward) and every
    layer but conv1 an input gradient: conv1 is 112x112x64x(7x7x3) = 118,013,952."""
    _graph, step = _step()
    assert step.total("forward") == 1_582_671_872 + 8_372_224 == 1_591_044_096
    assert step.total("grad_weight") == 1_591_044_096
    assert step.total("grad_input") == 1_591_044_096 - 118_013_952 == 1_473_030_144
    assert step.total("total") == 3 * 1_591_044_096 - 118_013_952 == 4_655_118_336
    aux = [r for r in step.rows if r.name.startswith("aux")]
    assert sum(r.forward for r in aux) == 8_372_224 and sum(r.backward for r in aux) == 2 * 8_372_224
    # the aux loss weight 0.3 scales a scalar: no cost anywhere in these rows
    assert step.trainable == 6_998_552 + 6_379_728 == 13_378_280


def test_frozen_glob_and_recompute():
    _graph, step = _step(frozen=("conv1*", "conv2*"), recompute=("inception_4*",))
    rows = {r.name: r for r in step.rows}
    assert rows["conv1.conv"].backward == 0
    assert rows["conv2.reduce"].backward == 0 and rows["conv2.conv"].backward == 0  # upstream of only frozen layers
    first = rows["inception_3a.b1.conv1x1"]  # reads frozen conv2's output: only its weight gradient, 28x28x64x192
    assert (first.grad_input, first.grad_weight) == (0, 28 * 28 * 64 * 192) == (0, 9_633_792)
    # the forward MACs of inception (4a)..(4e), from the forward analysis: recomputed once more
    assert step.total("recompute") == sum(r.macs for r in step.analysis.rows if r.name.startswith("inception_4")) == 549_878_784


def test_optimizer_rows_are_elementwise_ops():
    _, step = _step(optimizer="adam")
    assert step.update_ops == 13 * 13_378_280  # torch/optim/adam.py: 3 + 1 + 3 + 3 + 3 per element
    assert [o.ops for o in OPTIMIZERS.values()] == [2, 4, 13, 14]


def test_mixed_precision_adam_is_16_bytes_per_parameter():
    """ZeRO (Rajbhandari et al. 2020, section 3.1): mixed-precision Adam holds 2 + 2 + 12 = 16 bytes per
    parameter (fp16 params and grads; fp32 master weights, momentum and variance)."""
    graph, step = _step(optimizer="adam")
    m = plan(graph, step, "float16", "mixed")
    per_tensor_step = 4 * sum(1 for r in step.needs.values() if r.trainable)  # Adam's float32 step counters
    assert m.params + m.grads + m.master + m.optimizer - per_tensor_step == 16 * 13_378_280


def test_largest_batch_is_exact_against_direct_plans():
    graph = load_source("googlenet", mode="train")

    def at(n):
        return plan(graph, train_step(graph, analyze(graph, batch=n, mode="train")))

    fit = largest_batch(at, parse_bytes("24GiB"))
    assert at(fit.value).peak.bytes <= 24 * 2**30 < at(fit.value + 1).peak.bytes
    assert fit.peak == at(fit.value).peak.bytes


def test_symbolic_backward_and_saved_bytes_substitute_to_the_numeric_ones():
    import sympy

    graph = load_source("googlenet")  # the aux heads' linear layers need a numeric input: inference rows, trained
    sym = train_step(graph, analyze(graph, parse_input("3xHxW")))
    num = train_step(graph, analyze(graph, (3, 224, 224)))
    h, w = sympy.Symbol("H", integer=True, positive=True), sympy.Symbol("W", integer=True, positive=True)
    for what in ("forward", "grad_input", "grad_weight"):
        assert sympy.sympify(sym.total(what)).subs({h: 224, w: 224}) == num.total(what)
    sym_mem, num_mem = plan(graph, sym), plan(graph, num)
    assert sympy.sympify(sym_mem.saved_activations).subs({h: 224, w: 224}) == num_mem.saved_activations


def test_memory_sizes_and_devices():
    assert memory_limit("24GiB") == 24 * 2**30 and memory_limit("80GB") == 80 * 10**9 and memory_limit("h100") == 80 * 2**30
    assert set(DEVICE_MEMORY) == set(DEVICES)  # every roofline device has a memory size
    assert format_bytes(24 * 2**30) == "24 GiB" and format_bytes(1536) == "1.5 KiB"
    for bad in ("24 parsecs", "-1GB", "0", "1.5B"):
        with pytest.raises(ValueError):
            memory_limit(bad)


def test_cli_train_table_and_json(cli):
    result = cli("train", "googlenet", "--depth", "1", "--optimizer", "adam")
    assert result.exit_code == 0
    assert "training step: forward 1,591,044,096 + backward 3,064,074,240" in result.output
    assert "conv1" in result.output and "13 elementwise ops per trainable parameter" in result.output
    doc = json.loads(cli("train", "googlenet", "--format", "json").output)
    assert doc["schema"] == "costlab.train/1" and doc["totals"]["step"] == 4_655_118_336
    assert doc["totals"]["inference_forward"] == 1_582_671_872
    assert sum(layer["grad_input"] for layer in doc["layers"]) == doc["totals"]["grad_input"]


def test_cli_train_symbolic_and_fit(cli):
    doc = json.loads(cli("train", "naive", "--input", "480xHxW", "--format", "json").output)
    assert doc["totals"]["grad_weight"] == "576000*H*W" and doc["totals"]["grad_input"] == 0  # the graph input needs none
    result = cli("train", "googlenet", "--memory", "24GiB")
    assert result.exit_code == 0 and "largest batch within 24 GiB:" in result.output


def test_cli_train_bad_input(cli):
    result = cli("train", "googlenet", "--memory", "lots")
    assert result.exit_code == 2 and "--memory" in result.output
    result = cli("train", "googlenet", "--optimizer", "lion")
    assert result.exit_code == 2


def test_budgets_train_macs_and_memory(tmp_path):
    from costlab.budgets import read_config, run_checks

    config = tmp_path / "costlab.toml"
    config.write_text('[[budget]]\nsource = "googlenet"\ntrain_macs = "4.6G"\nmemory = "1GiB"\n')
    outcomes = run_checks(config)
    # a step is 4,655,118,336 MACs (test_googlenet_training_step_in_numbers): over 4.6G
    assert next((o.limit.quantity, o.measured, o.ok) for o in outcomes) == ("train_macs", 4_655_118_336, False)
    assert outcomes[1].limit.maximum == 2**30 and outcomes[1].ok
    config.write_text('[[budget]]\nsource = "googlenet"\n[budget.blocks]\n"inception_*" = { memory = "1GiB" }\n')
    with pytest.raises(Exception, match="unknown key"):
        read_config(config)


def test_compare_training_next_to_inference(cli):
    doc = json.loads(cli("compare", "naive", "bottleneck", "--training", "--format", "json").output)
    naive, bottleneck = doc["training"]
    # naive: one conv reading the graph input: forward + weight gradient only = 2 x 112,896,000
    assert (naive["inference_macs"], naive["train_step_macs"]) == (112_896_000, 2 * 112_896_000)
    # bottleneck: the 5x5 conv also computes its input gradient: 2 x 1,505,280 + 3 x 3,763,200
    assert bottleneck["train_step_macs"] == 2 * 1_505_280 + 3 * 3_763_200 == 14_300_160
    table = cli("compare", "naive", "bottleneck", "--training").output
    assert "training step MACs" in table and "225.8M" in table


def test_an_op_without_rules_is_named_never_a_silent_zero(cli):
    pytest.importorskip("torch")
    result = cli("train", "models_for_tests:flipper", "--input", "3x16x16")
    assert result.exit_code == 0
    assert "uncounted: #flip: no backward rule for aten.flip" in result.output  # stderr, mixed in by CliRunner


def test_train_on_a_spec_imports_neither_torch_nor_sympy():
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from costlab.cli import main; "
            "r = CliRunner().invoke(main, ['train', 'naive', '--memory', '24GiB']); "
            "assert r.exit_code == 0, r.output; print('torch' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
