"""Symbolic results of real networks stay readable: derived sizes get names (H1 = floor(H/2 + 1/2))
defined once, and the named form is exactly the numeric analysis at every size."""

from functools import lru_cache

import pytest

from costlab import zoo
from costlab.analysis import analyze
from costlab.legend import evaluate, name_sizes
from costlab.shapes import parse_input


@pytest.mark.parametrize("model", ["googlenet", "resnet50", "inception-v3", "inception-v4"])
def test_symbolic_tables_have_sane_widths(cli, model):
    result = cli("analyze", model, "--input", "3xHxW")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    # before naming, googlenet's widest line was 2,126 characters of nested ceiling(floor(...))
    assert max(len(line) for line in lines) <= 300
    assert "where" in lines and any(line.strip().startswith("H1 = ") for line in lines)


def test_legend_of_googlenet():
    (short,), legend = name_sizes([analyze(zoo.load("googlenet"), parse_input("3xHxW"))])
    text = {str(name): str(definition) for name, definition in legend}
    # conv1: 7x7 stride 2 padding 3: floor((H + 6 - 7)/2) + 1 = floor(H/2 + 1/2)
    assert text["H1"] == "floor(H/2 + 1/2)"
    # pool1: 3x3 stride 2 ceil mode: ceiling((H1 - 3)/2) + 1 = ceiling(H1/2 - 1/2)
    assert text["H2"] == "ceiling(H1/2 - 1/2)"
    conv1 = short.rows[0]
    assert str(conv1.macs) == "9408*H1*W1"  # 7x7x3 x 64 = 9,408 MACs per output position
    assert conv1.formula.startswith("(H1xW1x64) x (7x7x3) = 9408*H1*W1")


@lru_cache(maxsize=None)
def named(model):
    return name_sizes([analyze(zoo.load(model), parse_input("3xHxW"))])


@pytest.mark.parametrize("model", ["googlenet", "resnet50", "inception-v3"])
@pytest.mark.parametrize("height, width", [(224, 224), (299, 257), (97, 131)])
def test_named_form_evaluates_to_the_numeric_analysis(model, height, width):
    numeric = analyze(zoo.load(model), (3, height, width))
    (short,), legend = named(model)
    values = evaluate(legend, {"H": height, "W": width})

    def at(v):
        return v if isinstance(v, int) else int(v.xreplace(values))

    assert [(r.name, at(r.macs), at(r.activations), tuple(at(d) for d in r.out_shape)) for r in short.rows] == \
           [(r.name, r.macs, r.activations, tuple(r.out_shape)) for r in numeric.rows]
    assert at(short.total().macs) == numeric.total().macs


def test_integer_analyses_are_untouched():
    analysis = analyze(zoo.load("naive"))
    (same,), legend = name_sizes([analysis])
    assert same is analysis and legend == []


def test_compare_shares_one_legend(cli):
    out = cli("compare", "googlenet", "resnet50", "--input", "3xHxW").output
    assert out.count("\nwhere\n") == 1 and "H1 = " in out
    assert max(len(line) for line in out.splitlines()) <= 300


def formula_value(row):
    """The MACs a conv row's formula text states: '(H1xW1x64) x (7x7x3) = 9408*H1*W1; params ...' -> 9408*H1*W1."""
    import sympy

    text = row.formula.split(" = ", 1)[1].split(";")[0]
    names = {str(s): s for s in row.macs.free_symbols}
    return sympy.sympify(text, locals=names)


@pytest.mark.parametrize("model", ["googlenet", "inception-v4"])
def test_named_formula_text_states_the_named_value(model):
    (short,), _ = named(model) if model == "googlenet" else name_sizes([analyze(zoo.load(model), parse_input("3xHxW"))])
    convs = [r for r in short.rows if r.op == "conv2d"]
    assert convs and all(formula_value(r) == r.macs for r in convs)


def test_sums_are_renamed_only_where_they_stand_whole(tmp_path):
    """A padded 1x1 conv grows the map (H + 4): its name must not eat the tail of '...*H + 4...'."""
    spec = tmp_path / "grow.yaml"
    spec.write_text("name: grow\ninput: 3x8x8\nlayers:\n"
                    "  - {type: conv2d, name: a, out_channels: 4, kernel: 1, padding: 2}\n"
                    "  - {type: conv2d, name: b, out_channels: 4, kernel: 3, padding: 1}\n")
    from costlab.spec import load_spec

    (short,), legend = name_sizes([analyze(load_spec(spec), parse_input("3xHxW"))])
    assert [(str(n), str(d)) for n, d in legend] == [("H1", "H + 4"), ("W1", "W + 4")]
    for row in short.rows:
        assert formula_value(row) == row.macs  # a: 12*H1*W1 (1x1x3 x 4); b: 144*H1*W1 (3x3x4 x 4)
