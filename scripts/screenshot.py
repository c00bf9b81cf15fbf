"""Screenshot an HTML report in headless Chromium.

python scripts/screenshot.py REPORT.html OUT.png [--width 1440] [--height 1100] [--expand BLOCK] [--network]
(--expand opens a block of the first model's cost tree and scrolls to it; --network opens the network view.)
"""

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--expand", default=None)
    parser.add_argument("--network", action="store_true")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.report.resolve().as_uri())
        if args.network:
            page.locator("#model-1 details.network summary").click()
            page.locator("#model-1 .netbox svg").wait_for()
            page.evaluate("document.querySelector('#model-1 details.network').scrollIntoView()")
        if args.expand:
            row = page.locator(f'table[data-model=m1] tr[data-name="{args.expand}"]')
            row.locator("button.toggle").click()
            page.locator("#m1-table").scroll_into_view_if_needed()
            page.evaluate("document.getElementById('m1-table').scrollIntoView()")
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
