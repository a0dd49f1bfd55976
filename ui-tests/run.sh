#!/usr/bin/env bash
# Run the Galata UI tests (called by scripts/test.sh; the services must be up already).
# Screenshots land in ui-tests/test-results/screenshots/.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.esap-deps
want=$(cat package.json | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  jlpm install
  echo "$want" > "$stamp"
fi
export CI=1                       # no reuse of a running server, no report server
# a free port of our own unless one is given (a stray server on a fixed port must not stop us)
export ESAP_UI_PORT=${ESAP_UI_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export ESAP_UI_STATE=$(mktemp -d)
# the server may still be writing there as it stops: a failed clean-up must not fail the run
trap 'rm -rf "$ESAP_UI_STATE" 2>/dev/null || true' EXIT
jlpm playwright test "$@"
