#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian machine; quick when all is there already.
# --tests: also what only the tests need: azure-cli, whose real az commands run against the local Azure
# (about 640 MiB and a minute, once).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
packages=(docker-registry skopeo openssl)
[ "${1:-}" = "--tests" ] && packages+=(azure-cli)
need=()
for pkg in "${packages[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The action runs on node24: the tests run its bundle under Node 24 too (from the npm registry, once).
bash test/node24.sh >/dev/null
