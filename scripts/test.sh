#!/usr/bin/env bash
# Install whatever is missing, start the services the tests need, and run every test:
# pytest (against real DaCHS, PostgreSQL, Rucio, Slurm, DIRAC behind DiracX), jest, and the Galata UI tests
# in Debian's Chromium. Exits non-zero when any part fails. Usage: scripts/test.sh [pytest args]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The services, each with scripts/services/NAME.sh start|stop|status|env (idempotent, pid files).
SERVICES=(postgres vo-archive rucio slurm dirac hub)

set -e
# topcat and xvfb: the real TOPCAT receives tables over SAMP (tests/test_samp_topcat.py)
apt_install curl git chromium topcat xvfb
ensure_python
build_frontend
for s in "${SERVICES[@]}"; do
  [ -x "scripts/services/$s.sh" ] || continue
  say "starting $s"
  "scripts/services/$s.sh" start
  eval "$("scripts/services/$s.sh" env 2>/dev/null || true)"
done
set +e

failed=()
say "pytest"
ESAP_NO_SKIPS=1 python -m pytest -q -rs -p no:randomly "$@"
rc=$?
# exit 5 means pytest collected no test at all: that is a failure here
[ $rc = 0 ] || failed+=("pytest (exit $rc)")

say "jest"
jlpm test || failed+=("jest")

say "Galata UI tests"
(cd ui-tests && ./run.sh) || failed+=("galata")
say "Hub UI test (login through the OIDC provider in Chromium)"
(cd ui-tests && ./run.sh --config hub.config.js) || failed+=("galata hub")

if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "all tests passed"
