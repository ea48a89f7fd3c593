#!/usr/bin/env bash
# `npm run bench`: a private local Azure (own directory and ports), the benchmark, then shut-down.
set -euo pipefail
cd "$(dirname "$0")/.."
# BENCH_PORT_OFFSET (default 2000) and BENCH_STARTUP_PORT_OFFSET (default 2100, the start-up rows) move the ports.
export LOCAL_AZURE_DIR="$(mktemp -d)" LOCAL_AZURE_PORT_OFFSET="${BENCH_PORT_OFFSET:-2000}"
trap 'node --import tsx test/local-azure/cli.ts down >/dev/null; rm -rf "$LOCAL_AZURE_DIR"' EXIT
node --import tsx test/local-azure/cli.ts up
# The bundle of these sources, built once into the run's own directory.
node --import tsx action/build.ts --out "$LOCAL_AZURE_DIR/bundle" >/dev/null
BENCH_BUNDLE_DIR="$LOCAL_AZURE_DIR/bundle" NODE_EXTRA_CA_CERTS="$LOCAL_AZURE_DIR/ca.pem" node --require ./test/local-azure/loopback-names.cjs --import tsx test/bench/bench.ts
