#!/usr/bin/env bash
# Regenerate the example reports in reports/ and the README screenshots in docs/ (needs the torch extra
# for --verify and the captured models, and Chromium for the screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${COSTLAB_PYTHON:-}" ]; then bash scripts/setup.sh; fi
PY=${COSTLAB_PYTHON:-.venv/bin/python}
C="$PY -m costlab"
$C report googlenet --verify -o reports/googlenet.html
$C report naive bottleneck -o reports/naive-vs-bottleneck.html
$C report fc-head gap-head -o reports/fc-head-vs-gap-head.html
$C report googlenet torchvision:googlenet -o reports/googlenet-paper-vs-torchvision.html
$C report googlenet inception-v2 inception-v3 inception-v4 alexnet vgg16 resnet50 -o reports/inception-family.html
$C report inception-v4 -o reports/inception-v4.html
$C report timm:vit_base_patch16_224 -o reports/vit-base-patch16-224.html
$C chart googlenet -o reports/googlenet-blocks.png
$C chart googlenet torchvision:googlenet -o reports/googlenet-paper-vs-torchvision.png
for width in 1440 390; do
  $PY scripts/screenshot.py reports/googlenet.html docs/report-googlenet-$width.png --width $width
  $PY scripts/screenshot.py reports/naive-vs-bottleneck.html docs/report-naive-vs-bottleneck-$width.png --width $width
  $PY scripts/screenshot.py reports/inception-family.html docs/report-inception-family-$width.png --width $width
done
$PY scripts/screenshot.py reports/googlenet.html docs/report-googlenet-tree.png --expand inception_3a --height 900
$PY scripts/screenshot.py reports/googlenet.html docs/report-googlenet-network.png --network --height 1000
