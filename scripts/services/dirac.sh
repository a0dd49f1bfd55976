#!/usr/bin/env bash
# A real DIRAC workload management system behind DiracX, on 127.0.0.1, for the DIRAC job backend:
# jobs submitted to DiracX's REST API are optimised, matched and run by a JobAgent (InProcess
# computing element, DIRAC's real JobWrapper) and their output sandboxes come back through DiracX.
#   dirac.sh start|stop|status|env|install|kick JOBID...
# Pinned: DIRAC 9.1.22 (its legacy services, Optimizers executor and JobAgent) with DiracX 0.7.0
# (the release DIRAC 9.1 speaks to), every Python package exactly as in dirac/requirements.txt;
# MariaDB 10.11 from Debian's packages unpacked with dpkg -x (DIRAC's databases are MySQL only).
# Nothing is installed system-wide; everything lives under .services/dirac (git-ignored):
#   root/ (the unpacked .debs), venv/, etc/ (configuration, test CA), state/ (MariaDB, DiracX
#   state, logs, pid files, credentials.json), agent/ (the JobAgent's own configuration copy).
# Ports: MariaDB 18100, DiracX 18101, S3 (moto) 18102, DIRAC services 18110-18116.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)/dirac
BASE=${ESAP_DIRAC_BASE:-$ROOT/.services/dirac}
DEBS=$BASE/root
VENV=$BASE/venv
STATE=$BASE/state
ETC=$BASE/etc
PY=${ESAP_DIRAC_PYTHON:-$(command -v python3.11 || echo python3)}  # DIRAC 9.1 needs Python >= 3.11
DB_PORT=18100
PORT=18101
S3_PORT=18102
URL=http://127.0.0.1:$PORT
# DIRAC service name -> port (the same numbers are in dirac/dirac.cfg)
SERVICES=(Framework/ProxyManager:18116 ResourceStatus/ResourceStatus:18115 WorkloadManagement/Matcher:18110
          WorkloadManagement/OptimizationMind:18111 WorkloadManagement/JobManager:18113
          WorkloadManagement/SandboxStore:18114)
DEB_PACKAGES=(mariadb-server-core mariadb-client-core mariadb-common mysql-common libmariadb3 libmariadb-dev
              libaio1 liburing2 swig swig4.0)
LIB=$DEBS/usr/lib/x86_64-linux-gnu
log() { echo "[dirac $(date +%T)] $*"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # wait_port PORT NAME [seconds]
  local i
  for i in $(seq 1 $((${3:-120} * 4))); do
    port_open "$1" && return 0
    alive "$STATE/$2.pid" || break
    sleep 0.25
  done
  log "$2 did not come up on port $1; the end of $STATE/$2.log:" >&2
  tail -n 30 "$STATE/$2.log" >&2 || true
  return 1
}

dirac_env() {
  export PATH="$VENV/bin:$DEBS/usr/bin:$DEBS/usr/sbin:$PATH"
  export LD_LIBRARY_PATH=$LIB
  export DIRACSYSCONFIG=$ETC/dirac.cfg DIRAC_ROOT_PATH=$BASE/diracroot
  export X509_CERT_DIR=$ETC/grid-security/certificates
}

install() {
  local want
  want=$(cat "$HERE/requirements.txt" | sha256sum | cut -c1-16)
  if [ -x "$DEBS/usr/sbin/mariadbd" ] && [ "$(cat "$VENV/.esap-deps" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  for tool in curl git openssl; do
    command -v $tool >/dev/null || { ls /var/lib/apt/lists/*Packages >/dev/null 2>&1 || apt-get update -q
      apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $tool; }
  done
  if [ ! -x "$DEBS/usr/sbin/mariadbd" ]; then
    log "fetching MariaDB 10.11 and swig from Debian's packages (unpacked under $DEBS)"
    mkdir -p "$BASE/deb" "$DEBS"
    ls /var/lib/apt/lists/*Packages >/dev/null 2>&1 || apt-get update -q
    (cd "$BASE/deb" && apt-get download -q "${DEB_PACKAGES[@]}")
    local d
    for d in "$BASE"/deb/*.deb; do dpkg -x "$d" "$DEBS"; done
    LD_LIBRARY_PATH=$LIB "$DEBS/usr/sbin/mariadbd" --version | grep -q ' 10\.11\.' || { log "expected MariaDB 10.11" >&2; return 1; }
  fi
  log "installing DIRAC 9.1.22 + DiracX 0.7.0 into $VENV (pinned: dirac/requirements.txt)"
  # --copies: DIRAC runs the JobWrapper with realpath(sys.executable), which must stay the venv's
  [ -x "$VENV/bin/python" ] || "$PY" -m venv --copies "$VENV"
  # M2Crypto and mysqlclient compile against the unpacked swig and MariaDB client library
  SWIG_LIB=$DEBS/usr/share/swig4.0 PATH="$DEBS/usr/bin:$PATH" \
  MYSQLCLIENT_CFLAGS="-I$DEBS/usr/include/mariadb" \
  MYSQLCLIENT_LDFLAGS="-L$LIB -lmariadb -Wl,-rpath,$LIB" \
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$HERE/requirements.txt"
  echo "$want" >"$VENV/.esap-deps"
}

spawn() {  # spawn NAME CMD... : in the background in its own process group, with a log and a pid file
  local name=$1; shift
  alive "$STATE/$name.pid" && return 0
  setsid nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

certificates() {  # a test CA, the host certificate (CN=localhost) and the test user's (CN=tester)
  local G=$ETC/grid-security
  [ -s "$G/hostcert.pem" ] && [ -s "$ETC/user/usercert.pem" ] && return 0
  log "creating a test CA, host and user certificates"
  rm -rf "$G" "$ETC/user"
  mkdir -p "$G/certificates" "$G/ca" "$ETC/user"
  (
    cd "$G/ca"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
      -subj "/O=esap-lab/CN=esap-lab test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    cp ca.pem ../certificates/
    ln -sf ca.pem "../certificates/$(openssl x509 -in ca.pem -noout -hash).0"
    printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment \
      extendedKeyUsage=serverAuth,clientAuth subjectAltName=DNS:localhost,IP:127.0.0.1 >host.ext
    printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment,dataEncipherment \
      extendedKeyUsage=clientAuth >user.ext
    sign() {  # sign SUBJECT KEY CERT EXTENSIONS
      openssl req -newkey rsa:2048 -nodes -keyout "$2" -out req.csr -subj "$1" 2>/dev/null
      openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
        -extfile "$4" -out "$3" 2>/dev/null
      chmod 400 "$2"
    }
    sign "/O=esap-lab/CN=localhost" "$G/hostkey.pem" "$G/hostcert.pem" host.ext
    sign "/O=esap-lab/CN=tester" "$ETC/user/userkey.pem" "$ETC/user/usercert.pem" user.ext
  )
}

configure() {  # dirac.cfg and DiracX's settings with this installation's paths and its own API key
  mkdir -p "$ETC" "$STATE" "$BASE/diracroot/etc" "$BASE/agent/etc" "$BASE/agent/work"
  [ -s "$ETC/api-key" ] ||
    (umask 077; echo "diracx:legacy:$(head -c 24 /dev/urandom | basenc --base64url)" >"$ETC/api-key")
  local key M=mysql+aiomysql://Dirac:Dirac@127.0.0.1:$DB_PORT db
  key=$(cat "$ETC/api-key")
  (umask 077; sed -e "s#@BASE@#$BASE#g; s#@ETC@#$ETC#g; s#@API_KEY@#$key#g" "$HERE/dirac.cfg" >"$ETC/dirac.cfg")
  if [ ! -d "$STATE/cs/.git" ] || ! cmp -s "$HERE/diracx-cs.yml" "$STATE/cs/default.yml"; then
    mkdir -p "$STATE/cs"
    cp "$HERE/diracx-cs.yml" "$STATE/cs/default.yml"
    git -C "$STATE/cs" init -q
    git -C "$STATE/cs" add default.yml
    git -C "$STATE/cs" -c user.name=esap-lab -c user.email=esap-lab@localhost commit -qm "dirac.sh" || true
  fi
  [ -s "$STATE/jwks.json" ] || python -m diracx.logic rotate-jwk --jwks-path "$STATE/jwks.json" >/dev/null
  [ -s "$STATE/state.key" ] || (umask 077; head -c 32 /dev/urandom | base64 >"$STATE/state.key")
  (
    umask 077
    echo "export DIRACX_CONFIG_BACKEND_URL=git+file://$STATE/cs"
    echo "export DIRACX_SERVICE_AUTH_TOKEN_KEYSTORE=file://$STATE/jwks.json"
    echo "export DIRACX_SERVICE_AUTH_STATE_KEY=$(cat "$STATE/state.key")"
    echo "export DIRACX_SERVICE_AUTH_TOKEN_ISSUER=$URL"
    echo "export DIRACX_SERVICE_AUTH_ALLOWED_REDIRECTS='[\"$URL/api/docs/oauth2-redirect\"]'"
    # DiracX keeps the SHA-256 of the key's decoded bytes
    # a day-long access token for the test user (DiracX's default: 20 minutes, then a refresh)
    echo "export DIRACX_SERVICE_AUTH_ACCESS_TOKEN_EXPIRE_MINUTES=1440"
    echo "export DIRACX_SERVICE_AUTH_REFRESH_TOKEN_EXPIRE_MINUTES=43200"
    echo "export DIRACX_LEGACY_EXCHANGE_HASHED_API_KEY=$(printf %s "${key#diracx:legacy:}" | basenc -d --base64url |
                                                         sha256sum | cut -d' ' -f1)"
    echo "export DIRACX_SANDBOX_STORE_BUCKET_NAME=sandboxes DIRACX_SANDBOX_STORE_AUTO_CREATE_BUCKET=true"
    echo "export DIRACX_SANDBOX_STORE_S3_CLIENT_KWARGS='{\"endpoint_url\": \"http://127.0.0.1:$S3_PORT\"," \
         "\"aws_access_key_id\": \"testing\", \"aws_secret_access_key\": \"testing\"}'"
    echo "export DIRACX_OS_DB_JOBPARAMETERSDB='{\"sqlalchemy_dsn\": \"sqlite+aiosqlite:///$STATE/jobparametersdb.db\"}'"
    # the databases DiracX shares with DIRAC live in MariaDB (DIRAC's database layer is MySQL only)
    for db in JobDB JobLoggingDB TaskQueueDB PilotAgentsDB SandboxMetadataDB; do
      echo "export DIRACX_DB_URL_${db^^}=$M/$db"
    done
    for db in AuthDB TaskDB ResourceStatusDB TransformationDB; do
      echo "export DIRACX_DB_URL_${db^^}=sqlite+aiosqlite:///$STATE/${db,,}.db"
    done
  ) >"$STATE/diracx.env"
}

sql() { mariadb --protocol=TCP -h127.0.0.1 -P$DB_PORT -uroot "$@"; }

mariadb_start() {
  if [ ! -d "$STATE/mysql/mysql" ]; then
    mariadb-install-db --no-defaults --basedir="$DEBS/usr" --datadir="$STATE/mysql" \
      --auth-root-authentication-method=normal >"$STATE/mariadb-install.log" 2>&1
  fi
  spawn mariadb mariadbd --no-defaults --basedir="$DEBS/usr" --datadir="$STATE/mysql" \
    --lc-messages-dir="$DEBS/usr/share/mysql" --port=$DB_PORT --bind-address=127.0.0.1 \
    --socket="$STATE/mysql.sock" --pid-file="$STATE/mariadbd.pid" --skip-log-bin --skip-name-resolve --user=root
  wait_port $DB_PORT mariadb
  [ -e "$STATE/schema.done" ] && return 0
  log "creating DIRAC's databases"
  local db sqldir
  for db in JobDB JobLoggingDB TaskQueueDB PilotAgentsDB SandboxMetadataDB ResourceStatusDB ProxyDB; do
    sql -e "CREATE DATABASE IF NOT EXISTS $db"
  done
  # the anonymous accounts would shadow Dirac@%
  sql -e "CREATE USER IF NOT EXISTS 'Dirac'@'%' IDENTIFIED BY 'Dirac'; GRANT ALL ON *.* TO 'Dirac'@'%';
          DELETE FROM mysql.global_priv WHERE User=''; FLUSH PRIVILEGES;"
  sqldir=$(python -c 'import DIRAC.WorkloadManagementSystem.DB as d, os; print(os.path.dirname(d.__file__))')
  for db in JobDB JobLoggingDB PilotAgentsDB; do sql <"$sqldir/$db.sql"; done
  python "$HERE/helper.py" tables
  sql ResourceStatusDB -e "INSERT IGNORE INTO SiteStatus (Name, StatusType, VO, Status, ElementType, Reason,
      DateEffective, TokenExpiration, LastCheckTime, TokenOwner) VALUES ('DIRAC.Local.ch', 'all', 'all',
      'Active', 'Site', 'esap-lab', UTC_TIMESTAMP(), '9999-12-31', UTC_TIMESTAMP(), 'rs_svc')"
  # DiracX 0.7.0 still declares JobDB.JobParameters (gone from DIRAC 9.1's JobDB.sql) with a signed
  # key that cannot reference DIRAC's unsigned Jobs.JobID: create it DIRAC's way before DiracX does
  sql JobDB -e "CREATE TABLE IF NOT EXISTS JobParameters (JobID INT(11) UNSIGNED NOT NULL,
      Name VARCHAR(100) NOT NULL, Value TEXT NOT NULL, PRIMARY KEY (JobID, Name),
      FOREIGN KEY (JobID) REFERENCES Jobs(JobID) ON DELETE CASCADE)"
  touch "$STATE/schema.done"
}

younger() {  # younger FILE SECONDS : FILE exists and was written less than SECONDS ago
  [ -s "$1" ] && [ $(( $(date +%s) - $(stat -c %Y "$1") )) -lt "$2" ]
}

start() {
  local t0=$SECONDS s
  install
  dirac_env
  certificates
  configure
  mariadb_start
  spawn moto moto_server -H 127.0.0.1 -p $S3_PORT
  wait_port $S3_PORT moto
  # DiracX's settings (its keys among them) go to DiracX only, not to the DIRAC daemons and their jobs
  # shellcheck disable=SC1091
  (. "$STATE/diracx.env"; spawn diracx uvicorn --factory diracx.testing.routers:create_app --host 127.0.0.1 --port $PORT)
  wait_port $PORT diracx 240
  for _ in $(seq 1 480); do  # DiracX answers 503 until its configuration is loaded
    curl -sf -m 3 "$URL/api/health/startup" >/dev/null 2>&1 && break
    sleep 0.25
  done
  for s in "${SERVICES[@]}"; do
    spawn "$(pidname "$s")" dirac-service "${s%:*}" -o /DIRAC/Security/UseServerCertificate=yes
  done
  for s in "${SERVICES[@]}"; do wait_port "${s#*:}" "$(pidname "$s")" 240; done
  spawn Optimizers dirac-executor WorkloadManagement/Optimizers -o /DIRAC/Security/UseServerCertificate=yes
  # the JobAgent's proxy (with its DiracX token) and esap-lab's credentials file, renewed when old
  younger "$ETC/user/proxy.pem" $((5 * 86400)) ||
    python "$HERE/helper.py" proxy "$ETC/user/usercert.pem" "$ETC/user/userkey.pem" "$ETC/user/proxy.pem"
  python "$HERE/helper.py" credentials "$STATE/credentials.json" 6
  # DIRAC's JobManager tells OptimizationMind of each job it accepts, DiracX does not: the kicker
  # does (else OptimizationMind finds new jobs by polling, at most once a minute)
  spawn kicker python "$HERE/helper.py" kicker
  if ! alive "$STATE/JobAgent.pid"; then
    # the agent rewrites its configuration file, so it gets its own copy; a loop restarts it when
    # it gives up (DIRAC agents also end after MaxCycles cycles)
    cp "$ETC/dirac.cfg" "$BASE/agent/etc/dirac.cfg"
    (
      cd "$BASE/agent/work"
      export DIRACSYSCONFIG=$BASE/agent/etc/dirac.cfg DIRAC_ROOT_PATH=$BASE/agent X509_USER_PROXY=$ETC/user/proxy.pem
      spawn JobAgent sh -c "while :; do python '$HERE/helper.py' agent -o /DIRAC/Security/UseServerCertificate=no; sleep 1; done"
    )
  fi
  log "ready at $URL after $((SECONDS - t0)) s: DIRAC services, Optimizers, a JobAgent (InProcess CE)"
}

pidname() { local n=${1%:*}; echo "${n#*/}"; }
DAEMONS() { echo JobAgent kicker Optimizers; for s in "${SERVICES[@]}"; do pidname "$s"; done; echo diracx moto mariadb; }

stop() {
  local name pid
  for name in $(DAEMONS); do
    [ -s "$STATE/$name.pid" ] || continue
    pid=$(cat "$STATE/$name.pid")
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    rm -f "$STATE/$name.pid"
  done
  log "stopped"
}

status() {
  local down=() name
  for name in $(DAEMONS); do alive "$STATE/$name.pid" || down+=("$name"); done
  if [ ${#down[@]} = 0 ] && curl -sf -m 3 "$URL/api/health/live" >/dev/null 2>&1; then
    echo "running at $URL"
  else
    echo "stopped${down:+ (not running: ${down[*]})}"
    return 1
  fi
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env)
    echo "export ESAP_TEST_DIRACX_URL=$URL"
    echo "export ESAP_TEST_DIRACX_CREDENTIALS=$STATE/credentials.json"
    echo "export ESAP_TEST_DIRAC_CLI=$VENV/bin/dirac"
    ;;
  kick) shift; dirac_env; python "$HERE/helper.py" kick "$@" ;;
  *) echo "usage: $0 start|stop|status|env|install|kick JOBID..." >&2; exit 2 ;;
esac
