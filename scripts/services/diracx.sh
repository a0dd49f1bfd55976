#!/usr/bin/env bash
# A local DiracX (the real FastAPI service under uvicorn) on 127.0.0.1 for the DIRAC job backend:
# SQLite databases (DiracX's testing app factory stands in SQLite for OpenSearch), moto as the
# S3 sandbox store, tokens signed with a key made here, and the dummy executor (Redis +
# diracx-tasks scheduler and workers) so that jobs go Received -> Waiting -> Matched -> Running
# -> Done without running anything (real execution needs the full DIRAC stack).
#   diracx.sh start|stop|status|env     idempotent; DiracX lives in its own virtualenv
# Everything is kept under .services/diracx (git-ignored): venv/, state/ (databases, keys,
# configuration repository, logs, pid files, the test user's credentials.json).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${ESAP_DIRACX_BASE:-$ROOT/.services/diracx}
VENV=$BASE/venv
STATE=$BASE/state
PORT=${ESAP_DIRACX_PORT:-18000}
S3_PORT=${ESAP_DIRACX_S3_PORT:-18001}
REDIS_PORT=${ESAP_DIRACX_REDIS_PORT:-18002}
PY=${ESAP_DIRACX_PYTHON:-python3}
URL=http://127.0.0.1:$PORT
PACKAGES=(diracx-routers diracx-testing diracx-client diracx-db diracx-cli diracx-tasks
          uvicorn aiosqlite "moto[server]")
WORKER_SIZES=(small medium large)
log() { echo "[diracx] $*"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
up() { curl -sf -m 3 "$URL/api/health/live" >/dev/null 2>&1; }

spawn() {  # spawn NAME CMD... : run in the background with a log and a pid file, unless alive
  local name=$1; shift
  alive "$STATE/$name.pid" && return 0
  nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

install() {
  local missing=() tool
  for tool in curl git redis-server; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    ls /var/lib/apt/lists/*Packages >/dev/null 2>&1 || apt-get update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import diracx.routers, diracx.testing, diracx.tasks, moto, uvicorn' 2>/dev/null; then
    return 0
  fi
  log "installing DiracX into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}"
}

write_env() {
  cat >"$STATE/env" <<EOF
export DIRACX_CONFIG_BACKEND_URL=git+file://$STATE/cs
export DIRACX_SERVICE_AUTH_TOKEN_KEYSTORE=file://$STATE/jwks.json
export DIRACX_SERVICE_AUTH_STATE_KEY=$(cat "$STATE/fernet.key")
export DIRACX_SERVICE_AUTH_TOKEN_ISSUER=$URL
export DIRACX_SERVICE_AUTH_ALLOWED_REDIRECTS='["$URL/api/docs/oauth2-redirect"]'
export DIRACX_SANDBOX_STORE_BUCKET_NAME=sandboxes
export DIRACX_SANDBOX_STORE_AUTO_CREATE_BUCKET=true
export DIRACX_SANDBOX_STORE_S3_CLIENT_KWARGS='{"endpoint_url": "http://127.0.0.1:$S3_PORT", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}'
export DIRACX_OS_DB_JOBPARAMETERSDB='{"sqlalchemy_dsn": "sqlite+aiosqlite:///$STATE/jobparametersdb.db"}'
export DIRACX_TASKS_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export DIRACX_TASKS_DUMMY_JOB_EXECUTOR_ENABLED=true
EOF
  local db
  for db in authdb jobdb jobloggingdb sandboxmetadatadb taskqueuedb pilotagentsdb resourcestatusdb taskdb \
            transformationdb; do
    echo "export DIRACX_DB_URL_${db^^}=sqlite+aiosqlite:///$STATE/$db.db" >>"$STATE/env"
  done
}

start() {
  install
  mkdir -p "$STATE"
  export PATH="$VENV/bin:$PATH"
  if [ ! -d "$STATE/cs/.git" ]; then
    log "creating the configuration (VO testvo, group user, user tester)"
    rm -rf "$STATE/cs"
    dirac internal generate-cs "$STATE/cs" >/dev/null
    dirac internal add-vo "$STATE/cs" --vo=testvo --idp-url=https://idp.invalid --idp-client-id=esap-lab \
      --default-group=user >/dev/null
    dirac internal add-user "$STATE/cs" --vo=testvo --group=user \
      --sub=00000000-0000-0000-0000-000000000001 --preferred-username=tester >/dev/null
  fi
  python "$HERE/diracx/setup_state.py" keys "$STATE"
  write_env
  # shellcheck disable=SC1091
  . "$STATE/env"
  python "$HERE/diracx/setup_state.py" token "$STATE"

  spawn moto moto_server -H 127.0.0.1 -p "$S3_PORT"
  spawn uvicorn uvicorn --factory diracx.testing.routers:create_app --host 127.0.0.1 --port "$PORT"
  alive "$STATE/redis.pid" || redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' \
    --appendonly no --pidfile "$STATE/redis.pid" --dir "$STATE" --logfile "$STATE/redis.log"
  spawn scheduler diracx-tasks scheduler
  local size
  for size in "${WORKER_SIZES[@]}"; do
    spawn "worker-$size" diracx-tasks worker --max-concurrent-tasks 4 --worker-size "$size"
  done
  for _ in $(seq 1 120); do
    up && { log "ready at $URL"; return 0; }
    alive "$STATE/uvicorn.pid" || break
    sleep 0.5
  done
  log "did not come up; the end of $STATE/uvicorn.log:" >&2
  tail -n 30 "$STATE/uvicorn.log" >&2
  return 1
}

stop() {
  local name pid
  for name in "${WORKER_SIZES[@]/#/worker-}" scheduler uvicorn moto redis; do
    [ -s "$STATE/$name.pid" ] || continue
    pid=$(cat "$STATE/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$STATE/$name.pid"
  done
  log "stopped"
}

status() {
  if up; then
    echo "running at $URL"
  else
    echo stopped
    return 1
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env)
    echo "export ESAP_TEST_DIRACX_URL=$URL"
    echo "export ESAP_TEST_DIRACX_CREDENTIALS=$STATE/credentials.json"
    ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
