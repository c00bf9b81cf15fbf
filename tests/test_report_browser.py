"""The HTML report in a real browser (headless Chromium driven by playwright): the cost tree, sorting by
keyboard, chart tooltips and filters, the network view, CSV export, phone and desktop widths.

One browser for the module; every page records console errors and requests, and each test checks that
there were none but the file itself."""

import shutil
from pathlib import Path

import pytest

from costlab import analyze, load_source
from costlab.render.report import render_report

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the Python package) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """googlenet alone, and naive vs bottleneck, written once for the module."""
    out = tmp_path_factory.mktemp("reports")
    files = {}
    for name, sources in (("googlenet", ["googlenet"]), ("pair", ["naive", "bottleneck"])):
        graphs = [load_source(s) for s in sources]
        files[name] = out / f"{name}.html"
        files[name].write_text(render_report([analyze(g) for g in graphs], graphs=graphs), encoding="utf-8")
    return files


class Page:
    """A page on a report, recording console errors, page errors and every request."""

    def __init__(self, browser, path: Path, width: int = 1440, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors, self.requests, self.url = [], [], path.as_uri()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url)

    def close(self):
        self.context.close()
        assert self.errors == []
        assert [u for u in self.requests if u != self.url and not u.startswith(("blob:", "data:"))] == []


@pytest.fixture
def open_page(browser):
    pages = []

    def make(path, **kw):
        pages.append(Page(browser, path, **kw))
        return pages[-1].page

    yield make
    for p in pages:
        p.close()


def visible_names(page, model="m1"):
    return page.eval_on_selector_all(f"table[data-model={model}] tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.name)")


def test_tree_expand_a_block_and_check_its_subtotal(open_page, reports):
    page = open_page(reports["googlenet"])
    names = visible_names(page)
    assert names[0] == "conv2"  # cost first: conv2 holds 359,661,568 MACs, the most of any block
    assert "inception_3a.b1" not in names  # blocks start collapsed
    block = page.locator('table[data-model=m1] tr[data-name="inception_3a"]')
    block.locator("button.toggle").click()
    assert block.locator("button.toggle").get_attribute("aria-expanded") == "true"
    branches = page.locator('table[data-model=m1] tr[data-parent="%s"]:not([hidden])' % block.get_attribute("data-order"))
    assert branches.count() == 5  # b1, b2, b3, b4, concat
    assert int(block.get_attribute("data-macs")) == 128_049_152  # Table 1: 128M
    assert sum(int(m) for m in branches.evaluate_all("rs => rs.map(r => r.dataset.macs)")) == 128_049_152
    # b2 is the costliest branch: 14,450,688 + 86,704,128 = 101,154,816 MACs (101.2M, 79.0% of the block)
    assert branches.first.get_attribute("data-name") == "inception_3a.b2"
    assert "101.2M" in branches.first.inner_text()


def test_hide_zero_cost_rows_and_the_row_count(open_page, reports):
    page = open_page(reports["googlenet"])
    count = page.locator("#model-1 .count")
    assert count.inner_text().startswith("143 of 143 layers match")
    page.locator("#model-1 .expand-all").click()
    page.locator("#model-1 .hide-zero").check()
    # 143 layers, of which 58 (57 convolutions and the classifier) have MACs and params: 85 cost nothing
    assert count.inner_text().startswith("58 of 143 layers match")
    shown = page.eval_on_selector_all("table[data-model=m1] tbody tr.layer:not([hidden])", "rs => rs.map(r => +r.dataset.macs)")
    assert len(shown) == 58 and min(shown) > 0
    page.locator("#model-1 .hide-zero").uncheck()
    assert count.inner_text().startswith("143 of 143 layers match")


def test_sort_by_keyboard(open_page, reports):
    page = open_page(reports["googlenet"])
    header = page.locator("table[data-model=m1] th", has=page.locator('button[data-key="params"]'))
    header.locator("button").focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    blocks = [n for n in visible_names(page) if "." not in n]
    # inception_5b: 319,872 + 159,936 + 663,936 + 39,984 + 153,728 + 106,624 = 1,444,080 params, the most of any block
    assert blocks[0] == "inception_5b"
    params = page.eval_on_selector_all("table[data-model=m1] tbody tr[data-level='0']", "rs => rs.map(r => +r.dataset.params)")
    assert params == sorted(params, reverse=True)
    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "ascending"
    page.locator("#model-1 .network-order").focus()
    page.keyboard.press("Enter")
    assert visible_names(page)[:3] == ["conv1", "pool1", "conv2"] and header.get_attribute("aria-sort") == "none"


def test_chart_tooltip_and_click_to_filter(open_page, reports):
    page = open_page(reports["googlenet"])
    bar = page.locator('#m1-macs .bar[data-filter="inception_3a"]')
    bar.hover()
    tip = page.locator("#tooltip")
    assert tip.is_visible()
    # 128,049,152 MACs = 8.1% of 1,582,671,872; 163,696 params
    assert tip.inner_text() == "inception_3a\nMACs 128.0M (8.1%)\nparams 163.7K"
    bar.click()
    assert page.locator("#model-1 .chip").inner_text().startswith("block: inception_3a")
    layers = page.eval_on_selector_all("table[data-model=m1] tbody tr.layer:not([hidden])", "rs => rs.map(r => r.dataset.name)")
    assert len(layers) == 14 and all(n.startswith("inception_3a.") for n in layers)  # b1 2 + b2 4 + b3 4 + b4 3 + concat 1 = 14 layers
    assert page.locator("#model-1 .count").inner_text().startswith("14 of 143 layers match")
    page.locator("#model-1 .chip button.clear").click()
    assert page.locator("#model-1 .count").inner_text().startswith("143 of 143")


def test_network_view_follows_a_node_to_its_row(open_page, reports):
    page = open_page(reports["googlenet"])
    page.locator("#model-1 details.network summary").click()
    node = page.locator('#model-1 .netbox a.netnode[aria-label^="inception_3a.b3.conv5x5:"]')
    node.first.wait_for(state="attached", timeout=30_000)  # the view is drawn on the details' (asynchronous) toggle event
    assert node.count() == 1
    assert page.locator("#model-1 .netbox a.netnode").count() == 143  # one node per layer
    node.click()
    row = page.locator('table[data-model=m1] tr[data-name="inception_3a.b3.conv5x5"]')
    assert row.is_visible() and "target" in row.get_attribute("class")
    assert page.evaluate("location.hash") == "#" + row.get_attribute("id")
    box, view = row.bounding_box(), page.viewport_size
    assert 0 <= box["y"] <= view["height"]


def test_csv_export_equals_costlab_analyze(open_page, reports, cli):
    page = open_page(reports["googlenet"])
    page.locator("#model-1 .network-order").click()
    with page.expect_download() as download:
        page.locator('#model-1 button.export[data-format="csv"]').click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    expected = cli("analyze", "googlenet", "--format", "csv").output
    assert exported == expected
    page.locator("#model-1 input.filter").fill("inception_4e.b3")
    with page.expect_download() as download:
        page.locator('#model-1 button.export[data-format="csv"]').click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines == [line for i, line in enumerate(expected.splitlines()) if i == 0 or ",inception_4e.b3." in line]


def test_exports_keep_counts_beyond_2_to_the_53(open_page, tmp_path, cli):
    """googlenet at an odd batch of 123,456,789,012,345: most counts are above 2^53 and not representable
    as a JavaScript number (a double would round them); the CSV and JSON exports keep every digit."""
    import json

    batch = 123_456_789_012_345
    analysis = analyze(load_source("googlenet"), batch=batch)
    assert any(int(float(r.macs)) != r.macs for r in analysis.rows)  # the test can fail: doubles would change these
    path = tmp_path / "big.html"
    path.write_text(render_report([analysis], graphs=[load_source("googlenet")]), encoding="utf-8")
    page = open_page(path)
    page.locator("#model-1 .network-order").click()
    with page.expect_download() as download:
        page.locator('#model-1 button.export[data-format="csv"]').click()
    assert Path(download.value.path()).read_text(encoding="utf-8") == cli("analyze", "googlenet", "--batch", str(batch), "--format", "csv").output
    with page.expect_download() as download:
        page.locator('#model-1 button.export[data-format="json"]').click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    expected = json.loads(cli("analyze", "googlenet", "--batch", str(batch), "--format", "json").output)
    assert exported["layers"] == expected["layers"]


def test_chart_export_svg_and_png(open_page, reports):
    page = open_page(reports["googlenet"])
    figure = page.locator('figure[data-chart="m1-macs"]')
    with page.expect_download() as download:
        figure.locator('button[data-export="svg"]').click()
    svg = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "m1-macs.svg" and svg.startswith("<svg")
    assert ">inception_3a</text>" in svg and "128.0M · 8.1%" in svg  # the chart's own text, not pictures of it
    with page.expect_download() as download:
        figure.locator('button[data-export="png"]').click()
    png = Path(download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width == round(2 * figure.locator("svg").first.bounding_box()["width"])  # drawn at twice the size, for HiDPI


@pytest.mark.parametrize("width", [1440, 390])
def test_widths_no_horizontal_scroll_and_readable_text(open_page, reports, width):
    page = open_page(reports["googlenet"], width=width, height=844)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page = open_page(reports["pair"], width=width, height=844)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll('body, p, td, th, figcaption, label'))
        .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert min(sizes) >= 14
    ratio = page.locator(".headline span", has_text="21.4x fewer MACs")
    box = ratio.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= 844  # seen without scrolling
    assert page.locator("table.compare").evaluate("t => t.parentElement.classList.contains('scroll')")


def test_dark_mode_follows_the_system(browser, reports):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(reports["pair"].as_uri())
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"  # --bg in dark mode
    context.close()
