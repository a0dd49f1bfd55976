#!/usr/bin/env bash
# DiracX for the DIRAC job backend now runs in front of a real DIRAC WMS: see dirac.sh, which this
# name forwards to (start|stop|status|env, same ESAP_TEST_DIRACX_* variables). Earlier versions
# ran DiracX alone here with a dummy executor from .services/diracx; start and stop end that
# stack by its pid files if it is still running.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OLD=$(cd "$HERE/../.." && pwd)/.services/diracx/state
case "${1:-start}" in
  start|stop)
    for f in "$OLD"/*.pid; do
      [ -s "$f" ] || continue
      kill "$(cat "$f")" 2>/dev/null || true
      rm -f "$f"
    done
    ;;
esac
exec "$HERE/dirac.sh" "$@"
