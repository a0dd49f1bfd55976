#!/usr/bin/env bash
# A real Rucio server for the staging tests and the demo: Rucio $VERSION (PyPI "rucio") under
# gunicorn on 127.0.0.1:${ESAP_RUCIO_PORT:-18080}, plain HTTP, SQLite, userpass accounts, two POSIX
# storage elements (LAKE_A holds the samples, LAKE_B is the "hub mount" replica mode targets) and
# deterministic sample datasets (two benchmark sets: 20 x 10 MB and 200 x 100 kB).
#   rucio.sh start|stop|status|env|transfer-once     idempotent; pid file; nothing outside .services/rucio
# There is no FTS: "transfer-once" runs Rucio's own judge and conveyor daemons once, in-process,
# with a transfer tool that copies file:// to file://, so a replication rule really reaches OK.
# ESAP_RUCIO_RESET=1 wipes the database and the storage before starting.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BASE=${ESAP_RUCIO_BASE:-$ROOT/.services/rucio}
PORT=${ESAP_RUCIO_PORT:-18080}
VERSION=41.5.1
PY=${PYTHON:-python3}
VENV=$BASE/venv
CFG=$BASE/etc/rucio.cfg
PIDF=$BASE/run/gunicorn.pid
# Test accounts (a local throw-away server: these are not secrets worth hiding).
ROOT_USER=esap-root ROOT_PW=root-lake-pw
USER_ACCOUNT=alice USER_PW=alice-lake-pw
log() { echo "[rucio] $*"; }
alive() { [ -s "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }
up() { curl -sf -m 3 "http://127.0.0.1:$PORT/ping" >/dev/null 2>&1; }

install() {
  if ! "$VENV/bin/python" -c 'import gunicorn, importlib.util as u; assert u.find_spec("rucio.web.rest")' \
      2>/dev/null; then
    log "installing rucio $VERSION and gunicorn into $VENV"
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "rucio==$VERSION" gunicorn 2>&1 \
      | { grep -v '^WARNING: Location' || true; }
  fi
}

write_config() {
  local site
  site=$("$VENV/bin/python" -c 'import os, rucio; print(os.path.dirname(rucio.__file__))')
  mkdir -p "$BASE"/{etc,db,log,run,rse/LAKE_A,rse/LAKE_B,samples,client}
  # alembic refuses an ini without logging sections
  cat > "$BASE/etc/alembic.ini" <<EOF
[alembic]
script_location = $site/db/sqla/migrate_repo
sqlalchemy.url = sqlite:///$BASE/db/rucio.db
[loggers]
keys = root
[handlers]
keys = stderr
[formatters]
keys = plain
[logger_root]
level = WARN
handlers = stderr
[handler_stderr]
class = StreamHandler
args = (sys.stderr,)
formatter = plain
[formatter_plain]
format = %(levelname)s %(name)s: %(message)s
EOF
  # One file for the server, the daemons of transfer-once and the admin client of setup.py.
  cat > "$CFG" <<EOF
[common]
logdir = $BASE/log
loglevel = WARNING
[client]
rucio_host = http://127.0.0.1:$PORT
auth_host = http://127.0.0.1:$PORT
auth_type = userpass
username = $ROOT_USER
password = $ROOT_PW
account = root
request_retries = 2
auth_token_file_path = $BASE/client/root.token
[database]
default = sqlite:///$BASE/db/rucio.db
[bootstrap]
userpass_identity = $ROOT_USER
userpass_pwd = $ROOT_PW
userpass_email = root@esap-lab.invalid
[alembic]
cfg = $BASE/etc/alembic.ini
[policy]
permission = generic
schema = generic
lfn2pfn_algorithm_default = hash
support = root@esap-lab.invalid
support_rucio = https://github.com/rucio/rucio/issues/
[conveyor]
scheme = file,mock
transfertool = mock
EOF
  # The user's own client configuration (the rucio CLI in the benchmark, uploads in the tests).
  cat > "$BASE/etc/client-$USER_ACCOUNT.cfg" <<EOF
[common]
logdir = $BASE/log
[client]
rucio_host = http://127.0.0.1:$PORT
auth_host = http://127.0.0.1:$PORT
auth_type = userpass
username = $USER_ACCOUNT
password = $USER_PW
account = $USER_ACCOUNT
request_retries = 2
auth_token_file_path = $BASE/client/$USER_ACCOUNT.token
EOF
}

bootstrap_db() {
  local stamped
  stamped=$("$VENV/bin/python" - "$BASE/db/rucio.db" <<'EOF' 2>/dev/null || true
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from alembic_version").fetchone()[0])
EOF
)
  [ "$stamped" = 1 ] && return 0
  log "creating the Rucio database"
  rm -f "$BASE/db/rucio.db"
  (cd "$BASE" && RUCIO_CONFIG=$CFG "$VENV/bin/python" -c '
from rucio.db.sqla.util import build_database, create_base_vo, create_root_account
build_database(); create_base_vo(); create_root_account()')
  "$VENV/bin/python" -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('pragma journal_mode=wal')" \
    "$BASE/db/rucio.db"
}

stop() {
  if alive; then
    local pid
    pid=$(cat "$PIDF")
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    log "stopped"
  fi
  rm -f "$PIDF"
}

start() {
  command -v curl >/dev/null || { log "curl is needed"; exit 1; }
  install
  if [ "${ESAP_RUCIO_RESET:-0}" = 1 ]; then
    stop
    rm -rf "$BASE/db" "$BASE/client" "$BASE/rse"
  fi
  write_config
  bootstrap_db
  if ! alive; then
    log "starting the Rucio server on 127.0.0.1:$PORT"
    # --no-control-socket: several gunicorns (other services) may run on this machine
    "$VENV/bin/gunicorn" --daemon --bind "127.0.0.1:$PORT" --workers 2 --threads 4 --timeout 300 \
      --no-control-socket --pid "$PIDF" --env "RUCIO_CONFIG=$CFG" \
      --access-logfile "$BASE/log/access.log" --error-logfile "$BASE/log/server.log" \
      rucio.web.rest.flaskapi.v1.main:application
  fi
  for _ in $(seq 1 120); do up && break; sleep 0.25; done
  up || { log "the server did not answer; see $BASE/log/server.log"; tail -20 "$BASE/log/server.log"; exit 1; }
  # storage elements, accounts, scopes and sample datasets (skipped when already done)
  local stamp
  stamp=$(cat "$HERE/rucio/setup.py" | sha256sum | cut -c1-16)
  if [ "$(cat "$BASE/db/setup.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "creating storage elements, accounts and sample datasets"
    RUCIO_CONFIG=$CFG ESAP_RUCIO_USER_PW=$USER_PW "$VENV/bin/python" "$HERE/rucio/setup.py" "$BASE" "$USER_ACCOUNT"
    echo "$stamp" > "$BASE/db/setup.stamp"
  fi
  log "ready: http://127.0.0.1:$PORT (account $USER_ACCOUNT)"
}

env_vars() {
  cat <<EOF
export ESAP_TEST_RUCIO_HOST=http://127.0.0.1:$PORT
export ESAP_TEST_RUCIO_ACCOUNT=$USER_ACCOUNT
export ESAP_TEST_RUCIO_USERNAME=$USER_ACCOUNT
export ESAP_TEST_RUCIO_PASSWORD=$USER_PW
export ESAP_TEST_RUCIO_SERVER_CONFIG=$CFG
export ESAP_TEST_RUCIO_CLIENT_CONFIG=$BASE/etc/client-$USER_ACCOUNT.cfg
export ESAP_TEST_RUCIO_PYTHON=$VENV/bin/python
export ESAP_TEST_RUCIO_TRANSFER_ONCE=$HERE/rucio/transfer_once.py
export ESAP_TEST_RUCIO_RSE_A_PATH=$BASE/rse/LAKE_A
export ESAP_TEST_RUCIO_RSE_B_PATH=$BASE/rse/LAKE_B
EOF
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) alive && up && echo running || { echo stopped; exit 1; } ;;
  env) env_vars ;;
  transfer-once) RUCIO_CONFIG=$CFG "$VENV/bin/python" "$HERE/rucio/transfer_once.py" ;;
  *) echo "usage: $0 start|stop|status|env|transfer-once" >&2; exit 2 ;;
esac
