#!/usr/bin/env bash
# A real JupyterHub for the hub tests: JupyterHub (PyPI, in the project venv) behind
# configurable-http-proxy (npm), logging users in through an OpenID Connect provider (npm
# oidc-provider, hub/idp.mjs, a password form), LocalProcessSpawner with two Unix users (alice,
# bob) whose servers run esap-lab, each with its own PostgreSQL role (postgres.sh) and the login's
# token in ~/.esap/access_token. The hub is configured by hub/jupyterhub_config.py and the users'
# servers by hub/jupyter_server_config.py: the files README's hub section tells an admin to write.
#   hub.sh start|stop|status|env     idempotent; needs root; 127.0.0.1 only; state in .services/hub
# Ports: 19300 hub (proxy), 19301 OIDC provider, 19302 proxy API, 19303 hub API, 19311-19312 servers.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BASE=${ESAP_HUB_BASE:-$ROOT/.services/hub}
VENV=$ROOT/.venv
JH_VERSION=6.1.1 OA_VERSION=17.4.0
P_PROXY=19300 P_IDP=19301 P_PROXY_API=19302 P_HUB=19303
USERS=(alice bob)
RIG=$BASE/rig.json
log() { echo "[hub] $*"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_url() {  # url seconds
  for _ in $(seq 1 $(($2 * 2))); do curl -sf -m 2 -o /dev/null "$1" && return 0; sleep 0.5; done
  return 1
}

install() {
  if ! "$VENV/bin/python" -c "import jupyterhub, oauthenticator as o; assert jupyterhub.__version__ == '$JH_VERSION'" 2>/dev/null; then
    log "installing jupyterhub $JH_VERSION and oauthenticator $OA_VERSION into the project venv"
    "$VENV/bin/pip" install -q --disable-pip-version-check "jupyterhub==$JH_VERSION" "oauthenticator==$OA_VERSION"
  fi
  if [ ! -x "$BASE/node/node_modules/.bin/configurable-http-proxy" ] || [ ! -d "$BASE/node/node_modules/oidc-provider" ]; then
    log "installing oidc-provider and configurable-http-proxy (npm)"
    mkdir -p "$BASE/node"
    cp "$HERE/hub/package.json" "$BASE/node/package.json"
    (cd "$BASE/node" && npm install --no-audit --no-fund --loglevel=error)
  fi
  # The users' servers run as alice and bob: the project venv's Python may live where they cannot
  # execute it (pyenv under /root). Their Python is the system's one of the same version, seeing
  # the project venv's packages (esap-lab included) through a .pth file.
  local want; want=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  local py=/usr/bin/python$want
  [ -x "$py" ] || { echo "needs $py (the project venv's Python version) for the users' servers" >&2; exit 1; }
  # They import esap-lab from this checkout: every folder above it must let them pass (a clone
  # under a private folder such as /root would otherwise fail at their first import).
  local d=$ROOT
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    [ "$(stat -c %A "$d" | cut -c10)" = x ] || { log "letting other users pass through $d (o+x)"; chmod o+x "$d"; }
  done
  if [ ! -x "$BASE/users-venv/bin/python" ]; then
    log "making the users' Python ($py) in $BASE/users-venv"
    "$py" -m venv --without-pip "$BASE/users-venv"
  fi
  local site; site=$("$BASE/users-venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  local project_site; project_site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "import site; site.addsitedir('$project_site')" > "$site/esap_project_venv.pth"
  # JupyterLab's assets and the lab extensions (esap-lab's among them) are found under sys.prefix
  mkdir -p "$BASE/users-venv/share"
  ln -sfn "$VENV/share/jupyter" "$BASE/users-venv/share/jupyter"
  mkdir -p "$BASE/users-venv/etc/jupyter"
  cp "$HERE/hub/jupyter_server_config.py" "$BASE/users-venv/etc/jupyter/jupyter_server_config.py"
  chmod -R a+rX "$BASE/users-venv"
}

users() {
  mkdir -p "$BASE/home"
  chmod 755 "$BASE" "$BASE/home"
  for u in "${USERS[@]}"; do
    id "$u" >/dev/null 2>&1 || useradd -m -d "$BASE/home/$u" -s /bin/bash "$u"
    local h; h=$(getent passwd "$u" | cut -d: -f6)
    mkdir -p "$h" && chown "$u:" "$h" && chmod 700 "$h"
  done
}

settings() {  # rig.json: ports, generated secrets (kept across restarts), paths; root only
  mkdir -p "$BASE"/{run,hub,idp,logs}
  [ -s "$BASE/hub/crypt_key" ] || (umask 077 && openssl rand -hex 32 > "$BASE/hub/crypt_key")
  BASE=$BASE P_PROXY=$P_PROXY P_IDP=$P_IDP P_PROXY_API=$P_PROXY_API P_HUB=$P_HUB \
  USERS="${USERS[*]}" "$VENV/bin/python" - <<'PY'
import json, os, secrets
from pathlib import Path
base = Path(os.environ["BASE"])
f = base / "rig.json"
old = json.loads(f.read_text()) if f.exists() else {}
new = lambda k: old.get(k) or secrets.token_urlsafe(24)
users = os.environ["USERS"].split()
proxy = int(os.environ["P_PROXY"])
rig = {
    "state": str(base),
    "ports": {"proxy": proxy, "idp": int(os.environ["P_IDP"]), "proxy_api": int(os.environ["P_PROXY_API"]),
              "hub": int(os.environ["P_HUB"]), "servers": {u: 19311 + i for i, u in enumerate(users)}},
    "client_id": "esap-hub", "client_secret": new("client_secret"), "service_token": new("service_token"),
    "proxy_token": new("proxy_token"),
    "users": {u: {"password": (old.get("users") or {}).get(u, {}).get("password") or secrets.token_urlsafe(12),
                  "email": f"{u}@example.org"} for u in users},
    "database": "esap_hub_rig", "token_sync": 10, "access_token_ttl": 60,
    "chp": str(base / "node/node_modules/.bin/configurable-http-proxy"),
    "user_python": str(base / "users-venv/bin/python"),
}
f.write_text(json.dumps(rig, indent=1)); f.chmod(0o600)
idp = {"port": rig["ports"]["idp"], "issuer": f"http://127.0.0.1:{rig['ports']['idp']}",
       "pid_file": str(base / "run/idp.pid"), "keys_file": str(base / "idp/keys.json"),
       "access_token_ttl": rig["access_token_ttl"], "users": rig["users"],
       "client": {"client_id": rig["client_id"], "client_secret": rig["client_secret"],
                  "redirect_uri": f"http://127.0.0.1:{proxy}/hub/oauth_callback"},
       # DiracX (dirac.sh, port 18101) logs the hub's users in through this provider too
       "public_clients": [{"client_id": "diracx", "redirect_uris": [
           "http://127.0.0.1:18101/api/auth/device/complete",
           "http://127.0.0.1:18101/api/auth/authorize/complete"]}]}
g = base / "idp/idp.json"
g.write_text(json.dumps(idp, indent=1)); g.chmod(0o600)
PY
}

secret() { "$VENV/bin/python" -c "import json,sys; print(json.load(open('$RIG'))[sys.argv[1]])" "$1"; }

start() {
  [ "$(id -u)" = 0 ] || { echo "hub.sh needs root (LocalProcessSpawner runs servers as alice and bob)" >&2; exit 1; }
  local t0; t0=$(date +%s)
  "$HERE/postgres.sh" start >/dev/null
  install
  users
  settings
  # a provider running an older script or configuration is restarted (it keeps its keys; the
  # logins it granted are lost: users log in again)
  local sum; sum=$(cat "$HERE/hub/idp.mjs" "$BASE/idp/idp.json" | sha256sum | cut -c1-16)
  if alive "$BASE/run/idp.pid" && [ "$(cat "$BASE/run/idp.sum" 2>/dev/null)" != "$sum" ]; then
    log "restarting the OIDC provider (its script or configuration changed)"
    local old; old=$(cat "$BASE/run/idp.pid")
    kill "$old"
    for _ in $(seq 1 40); do kill -0 "$old" 2>/dev/null || break; sleep 0.25; done
  fi
  if ! alive "$BASE/run/idp.pid"; then
    log "starting the OIDC provider on 127.0.0.1:$P_IDP"
    echo "$sum" > "$BASE/run/idp.sum"
    # node resolves the script's imports beside it: a copy next to the installed packages
    cp "$HERE/hub/idp.mjs" "$BASE/idp/idp.mjs"
    ln -sfn ../node/node_modules "$BASE/idp/node_modules"
    ESAP_IDP_CONFIG=$BASE/idp/idp.json nohup node "$BASE/idp/idp.mjs" >> "$BASE/logs/idp.log" 2>&1 < /dev/null &
  fi
  if ! alive "$BASE/run/jupyterhub.pid"; then
    wait_url "http://127.0.0.1:$P_IDP/.well-known/openid-configuration" 30 \
      || { echo "the OIDC provider did not start: see $BASE/logs/idp.log" >&2; exit 1; }
    log "starting JupyterHub on 127.0.0.1:$P_PROXY"
    local admin; admin=$("$HERE/postgres.sh" env | sed -n 's/^export ESAP_TEST_PG_ADMIN_URL=//p')
    (cd "$BASE/hub" || exit 1  # only the hub in the background: nothing else holds our stdout
     JUPYTERHUB_CRYPT_KEY=$(cat crypt_key) CONFIGPROXY_AUTH_TOKEN=$(secret proxy_token) \
       ESAP_HUB_RIG=$RIG ESAP_HUB_DB_ADMIN_URL=$admin PATH="$VENV/bin:$PATH" \
       nohup "$VENV/bin/jupyterhub" -f "$HERE/hub/jupyterhub_config.py" >> "$BASE/logs/hub.log" 2>&1 < /dev/null &)
  fi
  wait_url "http://127.0.0.1:$P_PROXY/hub/health" 90 \
    || { echo "JupyterHub did not start: see $BASE/logs/hub.log" >&2; exit 1; }
  log "ready at http://127.0.0.1:$P_PROXY/hub/ ($(( $(date +%s) - t0 )) s)"
}

stop() {
  if alive "$BASE/run/jupyterhub.pid"; then
    local pid; pid=$(cat "$BASE/run/jupyterhub.pid")
    kill "$pid"  # the hub stops the users' servers and its proxy (cleanup_servers)
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  for f in "$BASE/hub/jupyterhub-proxy.pid" "$BASE/run/idp.pid"; do
    alive "$f" && kill "$(cat "$f")"
    rm -f "$f"
  done
  rm -f "$BASE/run/jupyterhub.pid"
  log "stopped"
}

status() {
  local ok=0
  alive "$BASE/run/idp.pid" && echo "OIDC provider: running (pid $(cat "$BASE/run/idp.pid"))" || { echo "OIDC provider: stopped"; ok=1; }
  alive "$BASE/run/jupyterhub.pid" && echo "JupyterHub: running (pid $(cat "$BASE/run/jupyterhub.pid"))" || { echo "JupyterHub: stopped"; ok=1; }
  return $ok
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export ESAP_TEST_HUB_URL=http://127.0.0.1:$P_PROXY"
       echo "export ESAP_TEST_HUB_RIG=$RIG" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
