#!/usr/bin/env bash
# The main job on the shipped sample data. Grows with the project: inspect the data,
# train a small net, export it for leelaz, and play a short match.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/demo}
zf=.venv/bin/zeroforge
$zf data inspect data/sample
