#!/usr/bin/env bash
# `npm run bench`: a private local Azure (own directory and ports), the benchmark, then shut-down.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOCAL_AZURE_DIR="$(mktemp -d)" LOCAL_AZURE_PORT_OFFSET=2000
trap 'node --import tsx test/local-azure/cli.ts down >/dev/null; rm -rf "$LOCAL_AZURE_DIR"' EXIT
node --import tsx test/local-azure/cli.ts up
[ -f dist/index.js ] || npm run build
NODE_EXTRA_CA_CERTS="$LOCAL_AZURE_DIR/ca.pem" node --require ./test/local-azure/loopback-names.cjs --import tsx test/bench/bench.ts
