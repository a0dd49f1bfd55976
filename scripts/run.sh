#!/usr/bin/env bash
# Start JupyterLab with esap-lab on its embedded default: a local demo archive (DaCHS with
# 200,000 synthetic sources and a few images) next to the public archives, state in SQLite,
# the local job backend. Installs whatever is missing first (Debian 12, as root).
#   ESAP_PORT=8888 scripts/run.sh [extra jupyter lab arguments]
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

mkdir -p "$STATE/notebooks"
cat > "$STATE/jupyter_server_config.py" <<PY
# Written by scripts/run.sh: the demo configuration of esap-lab.
from esap_lab.archives import DEFAULT_ARCHIVES

vo = "$ESAP_TEST_VO_URL"
c.EsapLab.archives = [
    {"id": "local", "title": "Local demo archive",
     "description": "DaCHS on this machine with 200,000 synthetic sources around (155, 5) and a few images",
     "tap": f"{vo}/tap", "scs": f"{vo}/esapdemo/q/cone/scs.xml",
     "sia2": f"{vo}/__system__/siap2/sitewide/siap2.xml", "sia": f"{vo}/esapdemo/q/siap/siap.xml"},
    *DEFAULT_ARCHIVES,
]
c.EsapLab.db_url = "sqlite:///$STATE/esap.sqlite"
c.EsapLab.data_dir = "$STATE/data"
PY
if [ -f "$STATE/jupyter_server_config_extra.py" ]; then
  cat "$STATE/jupyter_server_config_extra.py" >> "$STATE/jupyter_server_config.py"
fi
say "JupyterLab on http://127.0.0.1:$PORT/lab (the ESAP icon is in the left sidebar)"
exec "$VENV/bin/jupyter" lab --config="$STATE/jupyter_server_config.py" --ip=127.0.0.1 --port="$PORT" \
  --no-browser --allow-root --ServerApp.root_dir="$STATE/notebooks" "$@"
