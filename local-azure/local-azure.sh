#!/usr/bin/env bash
# The local Azure in a user's own workflow or pipeline: `local-azure.sh up` (or `down`). Installs what it needs where
# it is missing (Debian's docker-registry, skopeo and openssl with apt-get; this repository's packages with npm ci),
# then runs local-azure/main.ts. Settings come from LOCAL_AZURE_* environment variables (docs/rehearse.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cmd="${1:-up}"
if [ "$cmd" = up ]; then
  need=()
  for tool in docker-registry skopeo openssl; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "local Azure: installing ${need[*]} (apt-get)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # An action's checkout has no node_modules (only dist/ is bundled for the main action): install the locked packages.
  if [ ! -e "$root/node_modules" ]; then
    echo "local Azure: installing its packages (npm ci in $root)"
    (cd "$root" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
fi
# From the repository root, where `--import tsx` resolves.
cd "$root"
exec node --import tsx local-azure/main.ts "$cmd"
