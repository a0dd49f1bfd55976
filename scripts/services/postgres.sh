#!/usr/bin/env bash
# Debian's PostgreSQL cluster on 127.0.0.1:5432, shared by the demo archive (DaCHS) and the
# PostgreSQL flavour of the tests (database esap_lab_test, role esap with password esap), and a
# hub admin role (esap_admin, CREATEROLE) that esap_lab.hub uses to make a role per user.
#   postgres.sh start|stop|status|url|env     idempotent; needs root
set -euo pipefail
PGVER=15
export DEBIAN_FRONTEND=noninteractive
sql() { runuser -u postgres -- psql -d postgres -Atc "$1"; }
online() { pg_lsclusters -h 2>/dev/null | grep -q "^$PGVER main .* online"; }

start() {
  if ! command -v pg_lsclusters >/dev/null || [ ! -d /usr/lib/postgresql/$PGVER ]; then
    ls /var/lib/apt/lists/*Packages >/dev/null 2>&1 || apt-get update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends postgresql
  fi
  pg_lsclusters -h | grep -q "^$PGVER main" || pg_createcluster $PGVER main
  online || pg_ctlcluster $PGVER main start
  if [ -z "$(sql "select 1 from pg_roles where rolname='esap'")" ]; then
    sql "create role esap login password 'esap' createdb"
  fi
  if [ -z "$(sql "select 1 from pg_roles where rolname='esap_admin'")" ]; then
    sql "create role esap_admin login password 'esap-admin' createrole createdb"
  fi
  if [ -z "$(sql "select 1 from pg_database where datname='esap_lab_test'")" ]; then
    runuser -u postgres -- createdb -O esap esap_lab_test
  fi
  echo "[postgres] ready"
}

case "${1:-start}" in
  start) start ;;
  stop) online && pg_ctlcluster $PGVER main stop; echo "[postgres] stopped" ;;
  status) online && echo running || { echo stopped; exit 1; } ;;
  url) echo "postgresql+psycopg://esap:esap@127.0.0.1:5432/esap_lab_test" ;;
  env) echo "export ESAP_TEST_PG_URL=postgresql+psycopg://esap:esap@127.0.0.1:5432/esap_lab_test"
       echo "export ESAP_TEST_PG_ADMIN_URL=postgresql+psycopg://esap_admin:esap-admin@127.0.0.1:5432/postgres" ;;
  *) echo "usage: $0 start|stop|status|url|env" >&2; exit 2 ;;
esac
