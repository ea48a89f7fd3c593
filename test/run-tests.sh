#!/usr/bin/env bash
# `npm test`: static checks, then every jest test with the local Azure running, under the egress guard.
# Extra arguments go to jest (e.g. `npm test -- test/e2e/arm.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
export LOCAL_AZURE_DIR="${LOCAL_AZURE_DIR:-$PWD/.local-azure}"
mkdir -p "$LOCAL_AZURE_DIR"
export EGRESS_GUARD_LOG="$LOCAL_AZURE_DIR/egress.log"
: > "$EGRESS_GUARD_LOG"
export NODE_OPTIONS="${NODE_OPTIONS:-} --require $PWD/test/egress-guard.cjs"

echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint . && npx prettier --check . >/dev/null
echo "== dist"; bash test/check-dist.sh
# check-dist proved dist/ equal to a fresh build: the end-to-end tests run the committed bundle itself.
export ACTION_BUNDLE=dist

trap 'node --import tsx test/local-azure/cli.ts down || true' EXIT
node --import tsx test/local-azure/cli.ts up
export NODE_EXTRA_CA_CERTS="$LOCAL_AZURE_DIR/ca.pem"
status=0
npx jest "$@" || status=$?
if [ -s "$EGRESS_GUARD_LOG" ]; then
  echo "egress-guard: something tried to leave loopback during the tests:" >&2
  cat "$EGRESS_GUARD_LOG" >&2
  status=1
fi
exit $status
