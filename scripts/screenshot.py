"""Screenshot an HTML report in headless Chromium: python scripts/screenshot.py REPORT.html OUT.png"""

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if __name__ == "__main__":
    report, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(report.as_uri())
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")
