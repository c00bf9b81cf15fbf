"""Symbolic shapes: formulas in H and W that give the numeric result when substituted."""

import subprocess
import sys

import sympy

from costlab import analyze, load_source
from costlab.shapes import parse_input, symbol


def test_googlenet_symbolic_total_matches_224():
    a = analyze(load_source("googlenet"), parse_input("3xHxW"))
    total = a.total().macs
    assert isinstance(total, sympy.Expr) and total.free_symbols == {symbol("H"), symbol("W")}
    assert total.subs({symbol("H"): 224, symbol("W"): 224}) == 1_582_671_872
    # and at another size: the same as analysing 3x320x320 numerically
    assert total.subs({symbol("H"): 320, symbol("W"): 320}) == analyze(load_source("googlenet"), (3, 320, 320)).total().macs


def test_conv_formula_in_h_w():
    a = analyze(load_source("naive"), parse_input("480xHxW"))
    # 48 filters x 5x5x480 weights each, at every one of HxW positions (padding 2 keeps the size)
    assert a.total().macs == 576_000 * symbol("H") * symbol("W")
    assert a.rows[0].macs_formula == "(HxWx48) x (5x5x480) = 576000*H*W"


def test_strided_sizes_use_floor():
    a = analyze(load_source("googlenet"), parse_input("3xHxW"))
    h_out = a.rows[0].out_shape[2]  # conv1: floor((H + 6 - 7) / 2) + 1 = floor((H + 1) / 2)
    assert h_out == sympy.floor((symbol("H") + 1) / 2)
    assert [h_out.subs(symbol("H"), n) for n in (223, 224, 225)] == [112, 112, 113]


def test_integer_path_imports_neither_sympy_nor_torch():
    code = (
        "import sys\nfrom costlab import analyze, load_source\n"
        "analyze(load_source('googlenet'), mode='train').total()\n"
        "print(sorted(m for m in ('sympy', 'torch', 'fvcore') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
