#!/usr/bin/env bash
# The demo on a fresh machine: install what it needs, then `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run demo
