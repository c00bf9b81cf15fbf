"""Charts (their data), the HTML report, and a real-browser check of the report (headless Chromium)."""

import re
import shutil

import pytest

from costlab import analyze, load_source
from costlab.graph import GraphBuilder
from costlab.layers import Conv2d, Activation
from costlab.render.charts import compare_data, cumulative_data, layer_data, op_data
from costlab.render.report import render_report

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
    png = tmp_path / "c.png"
    assert cli("chart", "naive", "bottleneck", "-o", str(png)).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli("chart", "naive", "-o", str(tmp_path / "x.gif")).exit_code == 2


def xss_analysis():
    b = GraphBuilder("evil", "test")
    b.add(XSS, Conv2d(out_channels=4, kernel=(3, 3)), ("input",))
    b.add("relu", Activation(), (XSS,))
    return analyze(b.build((3, 8, 8)))


def test_report_escapes_names_and_is_self_contained():
    html = render_report([xss_analysis()])
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"(src|href)=[\"']https?:", html) and "<link" not in html  # nothing fetched
    assert render_report([xss_analysis()]) == html  # deterministic
    assert html.count("<svg") == 3


def test_report_cli_and_atomic_write(cli, tmp_path):
    out = tmp_path / "r.html"
    assert cli("report", "naive", "bottleneck", "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert html.index("Comparison") < html.index('id="model-1"') and "21.4x fewer MACs" in html
    before = out.read_text()
    assert cli("report", "naive", "nope", "-o", str(out)).exit_code == 2
    assert out.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_report_with_verification(cli, tmp_path):
    pytest.importorskip("fvcore")
    out = tmp_path / "v.html"
    assert cli("report", "inception", "--verify", "-o", str(out)).exit_code == 0
    assert 'class="status-exact"' in out.read_text()


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (the Python package) is not installed")
    return chromium, sync_playwright


def test_report_in_a_real_browser(tmp_path):
    chromium, sync_playwright = _browser()
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report([analyze(load_source("googlenet")).by_depth(2), xss_analysis()]))
    errors, dialogs = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri())
        assert page.locator("#model-1 .chart svg").count() == 3
        table = page.locator("#model-1 table.layers")
        first = lambda: table.locator("tbody tr").first.locator("td").first.inner_text()  # noqa: E731
        assert first() == "conv1.conv"
        table.locator("th", has_text="MACs").click()  # ascending
        table.locator("th", has_text="MACs").click()  # descending: the largest layer first
        assert first() == "conv2.conv"  # 346,816,512 MACs, the largest single layer (56x56x192 x 3x3x64)
        page.locator("#model-1 input.filter").fill("inception_4e")
        visible = [r for r in table.locator("tbody tr").all() if r.is_visible()]
        assert visible and all("inception_4e" in r.locator("td").first.inner_text() for r in visible)
        assert page.locator("#model-2 table.layers tbody tr").first.locator("td").first.inner_text() == XSS
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        browser.close()
    assert not errors and not dialogs
    assert (tmp_path / "report.png").stat().st_size > 10_000
