#!/usr/bin/env bash
# Start JupyterLab with esap-lab on its embedded default: a local demo archive (DaCHS with
# 200,000 synthetic sources and a few images) next to the public archives, a local Rucio data
# lake with sample datasets, state in SQLite, the local job backend. Installs whatever is
# missing first (Debian 12, as root).
#   ESAP_PORT=8888 scripts/run.sh [extra jupyter lab arguments]
#   ESAP_DEMO_RUCIO=0 leaves the data lake out.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
PORT=${ESAP_PORT:-8888}
STATE=${ESAP_STATE:-$ROOT/.run}

apt_install curl git
ensure_python
build_frontend
"$ROOT/scripts/services/vo-archive.sh" start
eval "$("$ROOT/scripts/services/vo-archive.sh" env)"
RUCIO=${ESAP_DEMO_RUCIO:-1}
if [ "$RUCIO" = 1 ]; then
  "$ROOT/scripts/services/rucio.sh" start
  eval "$("$ROOT/scripts/services/rucio.sh" env)"
  export ESAP_DEMO_RUCIO_PASSWORD=$ESAP_TEST_RUCIO_PASSWORD
fi

mkdir -p "$STATE/notebooks"
# the example notebooks, once (a user's edits are kept)
for nb in "$ROOT"/examples/*.ipynb; do
  [ -e "$STATE/notebooks/$(basename "$nb")" ] || cp "$nb" "$STATE/notebooks/"
done
cat > "$STATE/jupyter_server_config.py" <<PY
# Written by scripts/run.sh: the demo configuration of esap-lab.
from esap_lab.archives import DEFAULT_ARCHIVES

vo = "$ESAP_TEST_VO_URL"
c.EsapLab.archives = [
    {"id": "local", "title": "Local demo archive",
     "description": "DaCHS on this machine with 200,000 synthetic sources around (155, 5) and a few images",
     "tap": f"{vo}/tap", "scs": f"{vo}/esapdemo/q/cone/scs.xml",
     "sia2": f"{vo}/__system__/siap2/sitewide/siap2.xml", "sia": f"{vo}/esapdemo/q/siap/siap.xml",
     "ssa": f"{vo}/esapspec/q/ssap/ssap.xml"},
    *DEFAULT_ARCHIVES,
]
c.EsapLab.outbound_allow_private = ["127.0.0.1"]  # the local demo archive
# the sky view: the demo images' own HiPS first (made with reproject, served through this server,
# so it shows with no internet), then the public surveys
c.EsapLab.hips_surveys = [
    {"id": "demo", "title": "Demo images (local HiPS)", "url": "$ESAP_TEST_HIPS_URL", "proxy": True,
     "default": True},
    {"id": "dss2", "title": "DSS2 colour (optical)", "url": "https://alasky.cds.unistra.fr/DSS/DSSColor"},
    {"id": "2mass", "title": "2MASS colour (near infrared)", "url": "https://alasky.cds.unistra.fr/2MASS/Color"},
]
c.EsapLab.db_url = "sqlite:///$STATE/esap.sqlite"
c.EsapLab.data_dir = "$STATE/data"
PY
if [ "$RUCIO" = 1 ]; then
  cat >> "$STATE/jupyter_server_config.py" <<PY
c.EsapLab.rucio_instances = [{
    "name": "lake", "title": "Local data lake (Rucio)", "rucio_host": "$ESAP_TEST_RUCIO_HOST",
    "account": "$ESAP_TEST_RUCIO_ACCOUNT", "username": "$ESAP_TEST_RUCIO_USERNAME",
    "auth_type": "userpass", "password_env": "ESAP_DEMO_RUCIO_PASSWORD",
    "destination_rse": "LAKE_B", "rse_mount_path": "$ESAP_TEST_RUCIO_RSE_B_PATH",
    "poll_interval": 2, "download_folder": "rucio",
}]
PY
fi
if [ -f "$STATE/jupyter_server_config_extra.py" ]; then
  cat "$STATE/jupyter_server_config_extra.py" >> "$STATE/jupyter_server_config.py"
fi
if [ "$RUCIO" = 1 ]; then
  # No FTS here: run Rucio's own transfer daemons once every few seconds so replication rules
  # made from the Staging section really complete.
  (while sleep 5; do "$ROOT/scripts/services/rucio.sh" transfer-once >/dev/null 2>&1; done) &
  conveyor=$!
  trap 'kill $conveyor 2>/dev/null' EXIT
fi
# a token of this run (ESAP_TOKEN to choose it), so the URL printed here is the one that opens
TOKEN=${ESAP_TOKEN:-$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(16))')}
say "JupyterLab on http://127.0.0.1:$PORT/lab?token=$TOKEN (the ESAP icon is in the left sidebar)"
"$VENV/bin/jupyter" lab --config="$STATE/jupyter_server_config.py" --ip=127.0.0.1 --port="$PORT" \
  --no-browser --allow-root --ServerApp.root_dir="$STATE/notebooks" --IdentityProvider.token="$TOKEN" "$@"
