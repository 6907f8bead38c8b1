#!/usr/bin/env bash
# Run the benchmark suite (zeroforge bench) from a checkout, installing first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/zeroforge bench "$@"
