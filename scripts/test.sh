#!/usr/bin/env bash
# All the tests, on a fresh machine: install, then `npm test` (static checks, unit and end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
npm test -- "$@"
