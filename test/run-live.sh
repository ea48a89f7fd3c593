#!/usr/bin/env bash
# `npm run test:live -- <settings.json> [--record <recording.json>] [jest args]`: the end-to-end files marked @live
# against the Azure a settings file describes (the shape of .local-azure/env.json), each cleaning up after itself.
# --record writes the sanitised ARM traffic of the run to <recording.json> (docs/local-azure.md#recording-and-replay).
set -euo pipefail
cd "$(dirname "$0")/.."
settings="${1:-}"
if [ -z "$settings" ]; then
  echo "usage: npm run test:live -- <settings.json> [--record <recording.json>] [jest args]" >&2
  exit 2
fi
if [ ! -f "$settings" ]; then
  echo "test:live: no settings file at '$settings'" >&2
  exit 2
fi
shift
record=""
if [ "${1:-}" = "--record" ]; then
  record="${2:?--record needs a file}"
  shift 2
fi
export ACR_TRANSFER_LIVE_SETTINGS="$(realpath "$settings")"
# Checks every field, prints the cost note (stderr), and names the CA to trust if the settings have one.
ca="$(node --import tsx test/live/settings.ts "$ACR_TRANSFER_LIVE_SETTINGS")"
if [ -n "$ca" ]; then export NODE_EXTRA_CA_CERTS="$ca"; fi
# No egress guard: live mode talks to Azure. The preload only resolves *.localhost (a local Azure's host names).
export NODE_OPTIONS="${NODE_OPTIONS:-} --require $PWD/test/local-azure/loopback-names.cjs"
if [ -n "$record" ]; then
  export ACR_TRANSFER_RECORD="$(mktemp)"
  NODE_OPTIONS="$NODE_OPTIONS --require $PWD/test/live/recorder.cjs"
fi
status=0
npx jest -c jest.live.config.js "$@" || status=$?
if [ -n "$record" ]; then
  node --import tsx test/live/recording.ts "$ACR_TRANSFER_RECORD" "$record" "$ACR_TRANSFER_LIVE_SETTINGS"
  rm -f "$ACR_TRANSFER_RECORD"
fi
exit $status
