#!/usr/bin/env bash
# Regenerate the example reports in reports/ and the README screenshot in docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
C=.venv/bin/costlab
$C report googlenet --verify -o reports/googlenet.html
$C report naive bottleneck -o reports/naive-vs-bottleneck.html
$C report fc-head gap-head -o reports/fc-head-vs-gap-head.html
$C report googlenet torchvision:googlenet -o reports/googlenet-paper-vs-torchvision.html
$C chart googlenet -o reports/googlenet-blocks.png
$C chart googlenet torchvision:googlenet -o reports/googlenet-paper-vs-torchvision.png
.venv/bin/python scripts/screenshot.py reports/googlenet.html docs/report.png
