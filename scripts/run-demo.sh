#!/usr/bin/env bash
# `npm run demo`: start the local Azure (unless it is running), run the demo, stop what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOCAL_AZURE_DIR="${LOCAL_AZURE_DIR:-$PWD/.local-azure}"
started=""
if ! node --import tsx test/local-azure/cli.ts status >/dev/null 2>&1; then
  node --import tsx test/local-azure/cli.ts up
  started=1
  trap 'node --import tsx test/local-azure/cli.ts down' EXIT
fi
# --require: the local Azure's *.localhost host names resolve to 127.0.0.1 (test/local-azure/loopback-names.cjs).
NODE_EXTRA_CA_CERTS="$LOCAL_AZURE_DIR/ca.pem" node --require ./test/local-azure/loopback-names.cjs --import tsx test/local-azure/demo.ts
