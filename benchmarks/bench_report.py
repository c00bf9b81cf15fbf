"""A 10,000-layer HTML report: generation time (end to end through the CLI) and load time in Chromium.

Two synthetic models of N layers (default 10,000), written as spec files:
  - "stages": 10 stages x N/40 residual blocks x 4 layers (conv, bn, add, relu), a hierarchy like a real net;
  - "flat": N layers with no grouping at all (the worst case for the tree and the charts).
For each: `costlab report SPEC -o OUT.html` wall time, the file size, and (when Chromium is installed) the
time until the page has loaded and its script has sorted the table, plus a click on a chart bar.
Target: under 10 s to generate, a page that opens with its blocks collapsed.

Usage: python benchmarks/bench_report.py [--layers 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def staged(layers: int) -> dict:
    blocks = max(1, layers // 40)
    stages = [{"type": "sequence", "name": f"stage{s}", "layers": [
        {"type": "residual", "name": f"block{b}",
         "body": [{"type": "conv2d", "name": "conv", "out_channels": 16, "kernel": 3, "padding": 1, "bias": False},
                  {"type": "batchnorm", "name": "bn"}],
         "then": [{"type": "relu", "name": "relu"}]} for b in range(blocks)]} for s in range(10)]
    return {"name": "stages", "input": "16x8x8", "layers": stages}


def flat(layers: int) -> dict:
    body = []
    for i in range(layers // 2):
        body.append({"type": "conv2d", "name": f"conv{i}", "out_channels": 16, "kernel": 3, "padding": 1})
        body.append({"type": "relu", "name": f"relu{i}"})
    return {"name": "flat", "input": "16x8x8", "layers": body}


def browser_times(path: Path) -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        return "browser: skipped (no chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        loaded = time.perf_counter() - start
        rows = page.evaluate("document.querySelectorAll('table.tree tbody tr:not([hidden])').length")
        start = time.perf_counter()
        page.locator("#m1-macs .bar").first.click()
        page.evaluate("document.querySelector('.count').textContent")
        clicked = time.perf_counter() - start
        browser.close()
    return f"browser: loaded and sorted in {loaded:.2f} s, {rows} rows shown at first; a bar click filters in {clicked:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the spec files and reports in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    for make in (staged, flat):
        spec = folder / f"{make.__name__}.json"
        spec.write_text(json.dumps(make(args.layers)))
        out = folder / f"{make.__name__}.html"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from costlab.cli import main; main()", "report", str(spec), "-o", str(out)],
                       check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        print(f"{make.__name__}: {args.layers:,} layers: costlab report {seconds:.2f} s (target < 10 s), "
              f"{out.stat().st_size / 1e6:.1f} MB; {browser_times(out)}")
    if args.keep is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
