#!/usr/bin/env bash
# The local demo archive: GAVO DaCHS (TAP sync/async, cone search, SIA v1, SIA v2 over ObsCore)
# on 127.0.0.1:${ESAP_VO_PORT:-18765}, serving a deterministic synthetic catalogue of 200,000
# sources (ra, dec, three magnitudes) and a few small FITS images.
#   vo-archive.sh start|stop|status|env     idempotent; needs root (apt-get, runuser)
# DaCHS needs PostgreSQL with pgsphere and q3c running BEFORE its package is configured.
set -euo pipefail
PORT=${ESAP_VO_PORT:-18765}
PGVER=15
RD=/var/gavo/inputs/esapdemo
HERE=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends"
log() { echo "[vo-archive] $*"; }
as_dachs() { runuser -u dachsroot -- "$@"; }
sql() { runuser -u postgres -- psql -d "$1" -Atc "$2"; }
up() { curl -sf -m 5 "http://127.0.0.1:$PORT/tap/availability" >/dev/null 2>&1; }

stop() {
  command -v dachs >/dev/null && dachs serve stop >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do up || break; sleep 0.5; done
  log "stopped"
}

start() {
  "$HERE/postgres.sh" start >/dev/null
  local p missing=()
  for p in postgresql-$PGVER-pgsphere postgresql-$PGVER-q3c python3-astropy python3-numpy curl; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    [ -n "$(ls /var/lib/apt/lists/*Packages 2>/dev/null)" ] || apt-get update -q
    $APT install "${missing[@]}"
  fi
  local rc="[general]
rootDir: /var/gavo

[web]
bindAddress: 127.0.0.1
serverPort: $PORT
serverURL: http://127.0.0.1:$PORT
sitename: esap-lab demo archive

[ivoa]
authority: esaplab.demo
"
  local rc_changed=0
  if [ "$(cat /etc/gavo.rc 2>/dev/null)" != "$(printf '%s' "$rc")" ]; then
    printf '%s' "$rc" > /etc/gavo.rc; rc_changed=1
  fi
  if ! dpkg-query -W -f='${Status}' gavodachs2-server 2>/dev/null | grep -q 'ok installed'; then
    log "installing gavodachs2-server"
    $APT install gavodachs2-server || dpkg --configure -a
  fi
  if [ -z "$(sql postgres "select 1 from pg_database where datname='gavo'")" ]; then
    runuser -u postgres -- createdb --encoding=UTF-8 --template template0 gavo
    runuser -u postgres -- createuser -s dachsroot 2>/dev/null || true
    as_dachs dachs init
  fi
  cat > /var/gavo/etc/defaultmeta.txt <<'EOF'
publisher: esap-lab demo
contact.name: esap-lab
contact.email: esap-lab@example.org
creator.name: esap-lab
authority.creationDate: 2026-01-01T00:00:00
authority.shortName: esap-lab demo
authority.title: esap-lab demo authority
site.description: Synthetic demo data for esap-lab.
EOF
  mkdir -p "$RD"
  cp "$HERE/vo-archive/q.rd" "$HERE/vo-archive/gendata.py" "$RD/"
  local stamp want=200000
  stamp=$(cat "$RD/q.rd" "$RD/gendata.py" | sha256sum | cut -c1-16)
  local need_import=1
  if [ "$(cat "$RD/.imported" 2>/dev/null)" = "$stamp" ] && \
     [ "$(sql gavo "select count(*) from esapdemo.sources" 2>/dev/null)" = "$want" ]; then
    need_import=0
  fi
  if [ $need_import = 1 ]; then
    log "generating demo data and importing (about a minute)"
    /usr/bin/python3 "$RD/gendata.py" "$RD/data" "$want"
    chown -R dachsroot:gavo "$RD"
    [ -n "$(sql gavo "select to_regclass('ivoa._obscoresources')")" ] || as_dachs dachs imp //obscore
    as_dachs dachs imp esapdemo/q
    as_dachs dachs pub esapdemo/q //services //tap //siap2
    echo "$stamp" > "$RD/.imported"
  fi
  if [ $need_import = 1 ] || [ $rc_changed = 1 ] || ! up; then
    dachs serve stop >/dev/null 2>&1 || true
    sleep 1
    log "starting DaCHS on 127.0.0.1:$PORT"
    as_dachs dachs serve start
  fi
  for _ in $(seq 1 120); do up && break; sleep 0.5; done
  up || { log "DaCHS did not come up; see /var/gavo/logs/"; exit 1; }
  log "ready: http://127.0.0.1:$PORT/tap"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) up && echo running || { echo stopped; exit 1; } ;;
  env) echo "export ESAP_TEST_VO_URL=http://127.0.0.1:$PORT" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
