"""Bytes, intensity and the roofline (exact, pure), and measured profiles on the CPU (run, not timed against targets)."""

import re

import pytest

from costlab import analyze, load_source
from costlab.roofline import DEVICES, intensity, traffic


def test_traffic_and_intensity_of_the_naive_conv():
    row = analyze(load_source("naive")).rows[0]
    t = traffic(row, "float32")
    # reads 14x14x480 = 94,080 inputs and 576,048 params, writes 14x14x48 = 9,408 outputs, 4 bytes each
    assert (t.inputs, t.weights, t.outputs) == (4 * 94_080, 4 * 576_048, 4 * 9_408)
    assert t.total == 4 * (94_080 + 576_048 + 9_408) == 2_718_144
    # 2 x 112,896,000 FLOPs / 2,718,144 bytes
    assert intensity(row, "float32") == 2 * 112_896_000 / 2_718_144
    assert traffic(row, "bfloat16").total == 2_718_144 // 2
    relu = analyze(load_source("naive")).rows[1]
    assert intensity(relu) == 0.0  # moves 2 x 9,408 elements, no multiply-adds


def test_roofline_bound():
    h100 = DEVICES["h100"]
    # memory-bound below the ridge point (989.4e12 / 3.35e12 = 295 FLOP/byte), compute-bound above
    assert h100.bound(10.0, "bfloat16") == 3.35e12 * 10
    assert h100.bound(1000.0, "bfloat16") == 989.4e12


torch = pytest.importorskip("torch")


def test_profile_runs_on_cpu():
    from costlab.bridge.profile import profile_source

    analysis, p = profile_source("bottleneck", batch=2, repeats=3, warmup=1)
    assert analysis.batch == 2 and analysis.total().macs == 2 * 5_268_480
    assert p.forward > 0 and p.forward_hooked > 0
    assert {"reduce1x1", "conv5x5"} <= set(p.per_module) and all(t > 0 for t in p.per_module.values())
    # each layer's time is measured inside the hooked forward pass: their sum cannot exceed it by much
    assert sum(p.per_module.values()) <= 1.5 * p.forward_hooked


def test_profile_cli_and_roofline_chart(cli, tmp_path):
    chart = tmp_path / "roof.svg"
    result = cli("profile", "bottleneck", "--repeats", "2", "--peak-tflops", "1", "--bandwidth-gbs", "50", "--chart", str(chart))
    assert result.exit_code == 0, result.output
    assert "conv5x5" in result.output and "whole forward: 5,268,480 MACs" in result.output
    assert "<svg" in chart.read_text()
    assert cli("profile", "resnet50", "--device", "cuda").exit_code == (0 if torch.cuda.is_available() else 2)


def test_compare_measure(cli):
    out = cli("compare", "naive", "bottleneck", "--measure", "--repeats", "2", "--no-formulas").output
    line = next(line for line in out.splitlines() if line.strip().startswith("bottleneck:"))
    assert "21.4x fewer MACs" in line and ("faster" in line or "slower" in line)


def test_roofline_in_chart_and_report(cli, tmp_path):
    chart = tmp_path / "roof.png"
    assert cli("chart", "bottleneck", "--kind", "roofline", "-o", str(chart)).exit_code == 0
    assert chart.read_bytes()[:4] == b"\x89PNG"
    report = tmp_path / "r.html"
    assert cli("report", "bottleneck", "--profile", "-o", str(report)).exit_code == 0
    html = report.read_text()
    assert "Measured (costlab profile)" in html and ">bottleneck: roofline<" in html  # the roofline chart, its title as text
    assert 'data-key="ms"' in html and re.search(r'data-name="conv5x5"[^>]*data-ms="[\d.]+"', html)  # timings as columns
