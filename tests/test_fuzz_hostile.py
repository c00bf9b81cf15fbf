"""Property-based fuzzing (hypothesis) of specs, data files, budget configs, baselines and CLI options.

The only acceptable outcomes: a correct answer, or costlab's own error (exit 1/2 with one line).
Derandomized (the same cases every run), no example database; case counts go to the terminal summary.
"""

import copy
import json
import math
import tempfile
from pathlib import Path

import pytest
from hostile import count, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlab.analysis import analyze
from costlab.baseline import check_baseline, diff, growth_failures, load_baseline, review_lines
from costlab.budgets import run_checks
from costlab.dataload import DataError, loads
from costlab.errors import CostlabError
from costlab.numbers import is_int
from costlab.sources import load_source
from costlab.spec import graph_from_data


def fuzz(examples):
    """Settings for one fuzz test: ``examples`` cases, the same ones every run."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


# Generation is seeded: hypothesis draws a seed and a few knobs, plain ``random`` builds the case from
# them (composite hypothesis strategies of nested specs cost ~16 ms per example; this costs ~0.1 ms).

HOSTILE = [0, -1, 10**9, 10**30, 2**63, 10**400, True, False, None, 0.5, 1.0, -0.0, float("nan"), float("inf"),
           "", "same", "valid", "relu", "x", "3x8x8", "3xHxW", "input", "stem", "stem.conv", "ghost", "1e400G",
           "infG", "=cmd()", "<b>", "a|b", "\n", "é", "²", [], {}, [1, 2], [0, -2], {"a": 1}, [[1]], ["stem", "ghost"]]


def hostile_value(rng):
    """One value a hostile file might hold in any field."""
    roll = rng.random()
    if roll < 0.6:
        return copy.deepcopy(rng.choice(HOSTILE))  # a fresh container each time: edits must not share them
    if roll < 0.8:
        return rng.randint(-3, 70)
    if roll < 0.9:
        return "".join(rng.choice("abcxyzHW0123456789.:-_ ") for _ in range(rng.randint(0, 6)))
    return [hostile_value(rng) for _ in range(rng.randint(0, 3))]


def valid_layer(rng):
    """A layer that is valid on any map of at least 4x4 (pools and convs pad enough)."""
    kind = rng.choice(["conv2d", "conv2d", "batchnorm", "relu", "activation", "maxpool", "avgpool", "dropout",
                       "identity", "lrn", "inception", "branches", "residual", "sequence", "groupnorm"])
    if kind == "conv2d":
        k = rng.choice([1, 3, 5])
        out = rng.randint(1, 8)
        layer = {"type": "conv2d", "out_channels": out, "kernel": k, "padding": k // 2, "bias": rng.random() < 0.5}
        if rng.random() < 0.3:
            layer.update(stride=2)
        return layer
    if kind in ("maxpool", "avgpool"):
        return {"type": kind, "kernel": 3, "stride": 1, "padding": 1, "ceil_mode": rng.random() < 0.5}
    if kind == "activation":
        return {"type": "activation", "kind": rng.choice(["relu", "gelu", "sigmoid", "tanh"])}
    if kind == "dropout":
        return {"type": "dropout", "p": rng.choice([0.0, 0.2, 0.5])}
    if kind == "inception":
        return {"type": "inception", "numbers": [rng.randint(1, 4) for _ in range(6)]}
    if kind == "groupnorm":
        return {"type": "batchnorm"}
    if kind == "branches":
        return {"type": "branches", "branches": [[valid_layer(rng)] for _ in range(rng.randint(2, 3))]}
    if kind == "residual":  # a 1x1 shortcut conv gives the add the body's channel count
        out = rng.randint(1, 6)
        return {"type": "residual", "body": [{"type": "conv2d", "out_channels": out, "kernel": 3, "padding": 1}],
                "shortcut": [{"type": "conv2d", "out_channels": out, "kernel": 1}]}
    if kind == "sequence":
        return {"type": "sequence", "layers": [valid_layer(rng) for _ in range(rng.randint(1, 3))]}
    return {"type": kind}


def valid_spec(rng):
    layers = [valid_layer(rng) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.5:
        layers += [{"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "out_features": rng.randint(1, 10)}]
    return {"name": "fuzz", "input": f"{rng.randint(1, 4)}x{rng.randint(8, 20)}x{rng.randint(8, 20)}", "layers": layers}


def containers(node, found):
    """Every mapping and list inside ``node`` (where a mutation can land)."""
    if isinstance(node, (dict, list)):
        found.append(node)
        for child in (node.values() if isinstance(node, dict) else node):
            containers(child, found)
    return found


def mutate(rng, doc, times, keys):
    """``times`` random edits: a value replaced, a key deleted or added, a list item replaced or dropped."""
    for _ in range(times):
        node = rng.choice(containers(doc, []))
        if isinstance(node, dict):
            action = rng.random()
            if node and action < 0.5:
                node[rng.choice(list(node))] = hostile_value(rng)
            elif node and action < 0.75:
                node.pop(rng.choice(list(node)))
            else:
                node[rng.choice(keys)] = hostile_value(rng)
        elif node:
            i = rng.randrange(len(node))
            if rng.random() < 0.5:
                node[i] = hostile_value(rng)
            else:
                node.pop(i)
    return doc


FIELDS = ["type", "name", "input", "out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias",
          "out_features", "affine", "size", "kind", "p", "dims", "output_size", "ceil_mode", "numbers", "merge",
          "train_only", "layers", "branches", "body", "shortcut", "then", "equation", "out_shape", "supported", "colour"]
seeds = st.integers(min_value=0, max_value=2**32)


@fuzz(4_000)
@given(seeds, st.integers(0, 3))
def test_fuzz_specs(seed, edits):
    count("fuzz: specs (API)")
    import random

    rng = random.Random(seed)
    data = mutate(rng, valid_spec(rng), edits, FIELDS)
    try:
        one = analyze(graph_from_data(data, "fuzz.yaml"))
    except CostlabError as e:
        assert str(e).startswith("fuzz.yaml") and "\n" not in str(e).strip()
        return
    # a correct answer: exact non-negative integers, totals are the rows' sums, MACs linear in the batch
    # and params independent of it
    totals = one.total()
    assert all(is_int(r.macs) and r.macs >= 0 and is_int(r.params) and r.params >= 0 for r in one.rows)
    assert totals.macs == sum(r.macs for r in one.rows) and totals.params == sum(r.params for r in one.rows)
    three = analyze(graph_from_data(data, "fuzz.yaml"), batch=3).total()
    assert (three.macs, three.params, three.activations) == (3 * totals.macs, totals.params, 3 * totals.activations)


# --- raw text through the loader ----------------------------------------------------------------------

SYNTAX = "[]{}:-,&*!|>'\"#?%@`=.\\ \t\n" + "abxyz019"


def hostile_text(rng, fmt):
    """Random syntax, or a valid document of random data with a few characters changed."""
    if rng.random() < 0.4:
        return "".join(rng.choice(SYNTAX) for _ in range(rng.randint(0, 80)))
    data = mutate(rng, valid_spec(rng), rng.randint(0, 2), FIELDS)
    if fmt == "yaml":
        import yaml

        text = yaml.safe_dump(data, default_flow_style=rng.random() < 0.5)
    else:
        text = json.dumps(data, allow_nan=True, default=str)
    chars = list(text)
    for _ in range(rng.randint(0, 3)):
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice(SYNTAX)
    return "".join(chars)


@fuzz(3_000)
@given(seeds, st.sampled_from(["yaml", "json", "toml"]))
def test_fuzz_data_text(seed, fmt):
    count("fuzz: data text (YAML/JSON/TOML)")
    import random

    text = hostile_text(random.Random(seed), fmt)
    try:
        data = loads(text, fmt, "fuzz.data")
    except DataError as e:
        assert str(e).startswith("fuzz.data: ") and "\n" not in str(e)
        return
    try:
        graph_from_data(data, "fuzz.data")
    except CostlabError as e:
        assert str(e).startswith("fuzz.data") and "\n" not in str(e)


# --- budget configs -------------------------------------------------------------------------------------

WORK = Path(tempfile.mkdtemp(prefix="costlab-fuzz-"))
MARKER = WORK / "code-ran"
(WORK / "n.yaml").write_text("name: n\ninput: 3x8x8\nlayers: [{type: conv2d, out_channels: 4, kernel: 3}]\n")


SOURCES = ["naive", "bottleneck", "n.yaml", "missing.yaml", "nope", f"os:system?command=touch {MARKER}",
           "builtins:print", "torchvision:nonexistent_model"]
ENTRY_VALUES = {"name": ["a", "b"], "source": SOURCES, "input": ["3x8x8", "480x14x14", "480xHxW", "3x0x8", "784"],
                "batch": [1, 2, 0, -1], "mode": ["infer", "train", "eval"],
                "macs": ["1G", "100M", "1e400G", "infG", "-1", "0", 10**20, "113M"], "params": ["1M", "600K", 7],
                "activations": ["1M", 10]}
KEYS = [*sorted(ENTRY_VALUES), "blocks", "colour"]


def toml_value(v):
    """A TOML literal for a Python value (what a config file could say); None has no TOML form."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items() if x is not None) + "}"
    return json.dumps(str(v))


def config_text(rng):
    entries = []
    for _ in range(rng.randint(0, 3)):
        lines = []
        for key in rng.sample(KEYS, rng.randint(0, 6)):
            if key == "blocks":
                value = {rng.choice(["conv*", "*", "x"]): {rng.choice(["macs", "params", "flops"]): rng.choice(["1G", "1", 5])}}
            else:
                value = rng.choice(ENTRY_VALUES.get(key, [0])) if rng.random() < 0.7 else hostile_value(rng)
            if value is not None:
                lines.append(f"{key} = {toml_value(value)}")
        entries.append("[[budget]]\n" + "\n".join(lines))
    return "\n".join(entries) + "\n"


@fuzz(800)
@given(seeds)
def test_fuzz_budget_configs(seed):
    count("fuzz: budget configs")
    import random

    path = WORK / "costlab.toml"
    path.write_text(config_text(random.Random(seed)))
    try:
        outcomes = run_checks(path)
    except CostlabError as e:
        assert "\n" not in str(e)
    else:
        assert all(is_int(o.measured) and o.measured >= 0 for o in outcomes)
    assert not MARKER.exists(), "a config file ran code without --allow-code"


# --- baselines --------------------------------------------------------------------------------------------

BASE = WORK / "base.json"
invoke("baseline", "save", "bottleneck", "-o", str(BASE), allowed=(0,))
VALID_BASELINE = json.loads(BASE.read_text())
BOTTLENECK = analyze(load_source("bottleneck"))
BASELINE_KEYS = [*VALID_BASELINE, "macs", "params", "name", "extra"]


@fuzz(2_000)
@given(seeds, st.integers(1, 3))
def test_fuzz_baselines(seed, edits):
    count("fuzz: baselines")
    import random

    doc = mutate(random.Random(seed), json.loads(json.dumps(VALID_BASELINE)), edits, BASELINE_KEYS)
    try:
        if seed % 10:  # most cases check the parsed document; every tenth goes through a file
            loaded = check_baseline(doc, "edited.json")
        else:
            path = WORK / "edited.json"
            path.write_text(json.dumps(doc, allow_nan=True, default=str))
            loaded = load_baseline(path)
    except CostlabError as e:
        assert str(e).startswith(str(WORK / "edited.json") if seed % 10 == 0 else "edited.json") and "\n" not in str(e)
        return
    # accepted: the totals are consistent non-negative integers, and the diff runs
    assert loaded["totals"]["macs"] == sum(layer["macs"] for layer in loaded["layers"]) >= 0
    review_lines(diff(loaded, BOTTLENECK))
    growth_failures(loaded, BOTTLENECK, 0)


# --- CLI options ------------------------------------------------------------------------------------------

option_values = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "2", "nan", "inf", "-inf", "1e400", "1e400%", "50%%", "5", "5%", "0%", "nan%",
                     "1.5G", "-1G", "0G", "infG", "1:2", "512:128:32", "8:64:8", "7,14", "0.5:2:0.25", "0.5:2:0",
                     "3x8x8", "3xHxW", "480x14x14", "3x0x4", "H", "B", "x", "table", "json", "csv", "markdown",
                     "github", "=1+1", "<b>", "../etc/passwd", "/proc/version", "1_000", "１", "²", " 5 % "]),
    st.text(alphabet="0123456789.:,-x%GMKTe", max_size=8),
    st.text(max_size=5),
)
COMMANDS = [
    ("analyze", "naive", "--input"), ("analyze", "naive", "--batch"), ("analyze", "naive", "--depth"),
    ("analyze", "naive", "--format"), ("analyze", "naive", "--convention"), ("analyze", "naive", "--mode"),
    ("compare", "naive", "bottleneck", "--input"), ("compare", "naive", "bottleneck", "--batch"),
    ("sweep", "naive", "--resolution"), ("sweep", "naive", "--width"), ("sweep", "naive", "--budget"),
    ("sweep", "naive", "--batch"), ("baseline", "diff", str(BASE), "bottleneck", "--max-growth"),
    ("baseline", "diff", str(BASE), "bottleneck", "--depth"), ("check", "--config"), ("analyze", "naive", "--no-such-option"),
    ("analyze",), ("list", "--types"),
]


def _bounded(command, value):
    """Sweeps over many points are valid but slow (a width point is a whole analysis): keep them small."""
    from costlab.sweep import parse_factors, parse_range

    if command[0] != "sweep" or command[-1] not in ("--resolution", "--width"):
        return True
    try:
        points = parse_range(value) if command[-1] == "--resolution" else parse_factors(value)
    except CostlabError:
        return True  # refused: the CLI must say so in one line
    return len(points) <= (200 if command[-1] == "--resolution" else 10)


@fuzz(1_500)
@given(st.sampled_from(COMMANDS), option_values)
def test_fuzz_cli_options(command, value):
    if not _bounded(command, value):
        return
    count("fuzz: CLI options")
    args = [*command, value] if command[-1].startswith("--") else list(command)
    invoke(*args)  # asserts: exit 0, or 1/2 with exactly one error line; never a traceback


@pytest.fixture(scope="module", autouse=True)
def _no_code_ran():
    yield
    assert not MARKER.exists()
