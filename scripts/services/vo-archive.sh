#!/usr/bin/env bash
# The local demo archive: GAVO DaCHS (TAP sync/async, cone search, SIA v1, SIA v2 over ObsCore)
# on 127.0.0.1:${ESAP_VO_PORT:-18765}, serving a deterministic synthetic catalogue of 200,000
# sources (ra, dec, three magnitudes) and a few small FITS images (schema esapdemo); and, added
# by extras() below, each in its own schema/RD so esapdemo is never touched:
#   esapspec  SSA over 36 synthetic spectra + their DataLink (SDM VOTable/FITS/CSV, BAND cutouts)
#   esapimg   the demo images again with DataLink + SODA cutouts (SIA1, ObsCore) and a HiPS
#   userconfig.rd   TAP examples at /tap/examples
#   rr        a RegTAP 1.1 registry of this DaCHS's own published services (pyvo.registry)
#   esapmany  5,000 tiny tables (a large tableset for the schema browser)
#   vo-archive.sh start|stop|status|env     idempotent; needs root (apt-get, runuser)
# DaCHS needs PostgreSQL with pgsphere and q3c running BEFORE its package is configured.
set -euo pipefail
PORT=${ESAP_VO_PORT:-18765}
PGVER=15
IN=/var/gavo/inputs
RD=$IN/esapdemo
PYHIPS=/var/gavo/esaplab-py  # a venv with reproject, for the HiPS only
HERE=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends"
log() { echo "[vo-archive] $*"; }
as_dachs() { runuser -u dachsroot -- "$@"; }
sql() { runuser -u postgres -- psql -d "$1" -Atc "$2"; }
up() { curl -sf -m 5 "http://127.0.0.1:$PORT/tap/availability" >/dev/null 2>&1; }
# DaCHS serves from one thread: while it parses a big RD (esapmany: 10-30 s after a reload) it
# does not answer. A running server gets a minute before it is taken for dead and restarted.
up_patient() {
  up && return 0
  pgrep -u dachsroot -f "dachs serve" >/dev/null 2>&1 || return 1
  local _; for _ in $(seq 1 12); do sleep 5; up && return 0; done; return 1
}

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
  if [ $need_import = 1 ] || [ $rc_changed = 1 ] || ! up_patient; then
    dachs serve stop >/dev/null 2>&1 || true
    sleep 1
    log "starting DaCHS on 127.0.0.1:$PORT"
    as_dachs dachs serve start
  fi
  for _ in $(seq 1 120); do up && break; sleep 0.5; done
  up || { log "DaCHS did not come up; see /var/gavo/logs/"; exit 1; }
  extras
  log "ready: http://127.0.0.1:$PORT/tap"
}

# ---- additions in their own schemas (never touch esapdemo); each step is skipped when its
# stamp (a hash of its inputs) and its row count say it is done, so a second start is quick.
X=$HERE/vo-archive
stamp() { cat "$@" | sha256sum | cut -c1-16; }
done_with() { [ "$(cat "$IN/$1/.imported" 2>/dev/null)" = "$2" ]; }  # done_with NAME STAMP
sync_into() {  # sync_into DIR FILE...: copy the files into DIR (those that differ)
  local dir=$1 f; shift
  mkdir -p "$dir"
  for f in "$@"; do cmp -s "$f" "$dir/$(basename "$f")" || cp "$f" "$dir/"; done
}
imp_pub() {  # imp_pub NAME STAMP [pub]: import NAME/q (and publish it), then write the stamp
  local t0=$SECONDS
  chown -R dachsroot:gavo "$IN/$1"
  (cd "$IN" && as_dachs dachs imp "$1/q") >>"$XLOG" 2>&1 || { tail -20 "$XLOG" >&2; exit 1; }
  [ "${3:-}" = pub ] && { (cd "$IN" && as_dachs dachs pub "$1/q") >>"$XLOG" 2>&1 || exit 1; }
  echo "$2" > "$IN/$1/.imported"; RELOAD=1
  log "  imported $1 in $(( SECONDS - t0 )) s"
}

extras() {
  XLOG=/var/gavo/logs/esaplab-extras.log; RELOAD=0
  local st n f
  # SSA
  sync_into "$IN/esapspec" "$X/spectra/q.rd" "$X/spectra/genspectra.py"
  st=$(stamp "$IN/esapspec/q.rd" "$IN/esapspec/genspectra.py")
  if ! done_with esapspec "$st" || [ "$(sql gavo "select count(*) from esapspec.ssa" 2>/dev/null)" != 36 ]; then
    log "esapspec: spectra + SSA"
    rm -rf "$IN/esapspec/data"
    /usr/bin/python3 "$IN/esapspec/genspectra.py" "$IN/esapspec/data" 36
    imp_pub esapspec "$st" pub
  fi
  # images with DataLink/SODA and the HiPS
  sync_into "$IN/esapimg" "$X/images/q.rd" "$X/images/make_hips.py"
  sync_into "$IN/esapimg/data" "$RD"/data/img/*.fits
  n=$(ls "$IN"/esapimg/data/*.fits | wc -l)
  st=$(stamp "$IN/esapimg/q.rd" "$IN/esapimg/make_hips.py" "$IN"/esapimg/data/*.fits)
  if [ "$(cat "$IN/esapimg/.hips" 2>/dev/null)" != "$st" ] || [ ! -f "$IN/esapimg/hips/properties" ]; then
    if [ ! -x "$PYHIPS/bin/python" ] || ! "$PYHIPS/bin/python" -c "import reproject.hips" 2>/dev/null; then
      log "esapimg: a venv with reproject for the HiPS ($PYHIPS)"
      /usr/bin/python3 -m venv --system-site-packages "$PYHIPS"
      "$PYHIPS/bin/pip" install -q reproject pillow >>"$XLOG" 2>&1
    fi
    log "esapimg: building the HiPS"
    "$PYHIPS/bin/python" "$IN/esapimg/make_hips.py" "$IN/esapimg/hips" "$IN"/esapimg/data/*.fits >>"$XLOG" 2>&1
    echo "$st" > "$IN/esapimg/.hips"
  fi
  if ! done_with esapimg "$st" || [ "$(sql gavo "select count(*) from esapimg.images" 2>/dev/null)" != "$n" ]; then
    log "esapimg: images with DataLink/SODA"
    imp_pub esapimg "$st" pub
  fi
  # TAP examples (a site-wide file: only if absent or ours)
  local uc=/var/gavo/etc/userconfig.rd
  if [ ! -f "$uc" ] || grep -q "esap-lab vo-archive userconfig" "$uc"; then
    cmp -s "$X/userconfig.rd" "$uc" || { install -o dachsroot -g gavo -m 644 "$X/userconfig.rd" "$uc"; RELOAD=1; }
  else
    log "leaving $uc alone (not ours): no TAP examples"
  fi
  # 5,000 tables: an RD only (nothing in the database), loaded by DaCHS on the first request
  cmp -s "$X/many/q.rd" "$IN/esapmany/q.rd" && cmp -s "$X/many/res/manycore.py" "$IN/esapmany/res/manycore.py" \
    || RELOAD=1
  sync_into "$IN/esapmany" "$X/many/q.rd"
  sync_into "$IN/esapmany/res" "$X/many/res/manycore.py"
  chown -R dachsroot:gavo "$IN/esapmany"
  [ $RELOAD = 1 ] && { as_dachs dachs serve reload; sleep 2; }
  # RegTAP (schema rr) from our own OAI-PMH records, after publishing so they are all there;
  # re-read only when something above was (re)published or the registry's own files changed
  local changed=$RELOAD; RELOAD=0
  sync_into "$IN/esaprr" "$X/regtap/q.rd" "$X/regtap/oai2csv.py"
  local rdst saved; rdst=$(stamp "$IN/esaprr/q.rd" "$IN/esaprr/oai2csv.py")
  saved=$(cat "$IN/esaprr/.imported" 2>/dev/null || true)
  if [ "$changed" = 1 ] || [ "${saved:16}" != "$rdst" ] || \
     [ -z "$(sql gavo "select count(*) from rr.resource" 2>/dev/null)" ]; then
    curl -sf -m 60 -o "$IN/esaprr/oai.xml" \
      "http://127.0.0.1:$PORT/oai.xml?verb=ListRecords&metadataPrefix=ivo_vor"
    st=$(/usr/bin/python3 "$IN/esaprr/oai2csv.py" "$IN/esaprr/oai.xml" "$IN/esaprr/data")$rdst
    if [ "$saved" != "$st" ] || [ -z "$(sql gavo "select count(*) from rr.resource" 2>/dev/null)" ]; then
      log "rr: RegTAP of $(( $(wc -l < "$IN/esaprr/data/resource.csv") - 1 )) published resources"
      imp_pub esaprr "$st"
    fi
  fi
  [ $RELOAD = 1 ] && { as_dachs dachs serve reload; sleep 2; }
  # DaCHS parses the 5,000-table RD once (10-30 s) and then caches it: warm it up in the background
  (curl -s -m 300 -o /dev/null "http://127.0.0.1:$PORT/esapmany/q/browse/tables?detail=min" >/dev/null 2>&1 &)
  return 0
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) up_patient && echo running || { echo stopped; exit 1; } ;;
  env) U=http://127.0.0.1:$PORT
    echo "export ESAP_TEST_VO_URL=$U"
    echo "export ESAP_TEST_SSA_URL=$U/esapspec/q/ssap/ssap.xml"
    echo "export ESAP_TEST_SIA_DL_URL=$U/esapimg/q/siap/siap.xml"
    echo "export ESAP_TEST_REGTAP_URL=$U/tap"
    echo "export ESAP_TEST_HIPS_URL=$U/esapimg/q/hips/static/"
    echo "export ESAP_TEST_MANY_TABLES_URL=$U/esapmany/q/browse" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
