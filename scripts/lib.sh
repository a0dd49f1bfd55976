# Shared by scripts/run.sh and scripts/test.sh: install what is missing, idempotently.
# Sourced, not run. Needs root for apt-get (as on the project's Debian machines).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ESAP_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3}
export PATH="$VENV/bin:$PATH"
export ESAP_PYTHON="$VENV/bin/python"   # the jest tests start a Jupyter server with it
export DEBIAN_FRONTEND=noninteractive

say() { echo "[esap-lab $(date +%T)] $*"; }

apt_install() {  # apt_install PKG... : install the Debian packages that are missing
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  say "apt-get install ${missing[*]}"
  [ -n "$(ls /var/lib/apt/lists/*Packages 2>/dev/null)" ] || apt-get update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" \
    || { apt-get update -q && apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"; }
}

ensure_python() {  # the project's virtualenv with esap_lab installed editable, extension enabled
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  local stamp="$VENV/.esap-deps" want
  want=$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python dependencies"
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/pip" install -q --disable-pip-version-check "jupyterlab>=4.6,<4.7" hatchling editables \
      hatch-jupyter-builder hatch-nodejs-version
    ensure_node_modules
    (cd "$ROOT" && "$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation -e ".[test]")
    echo "$want" > "$stamp"
  fi
  "$VENV/bin/jupyter" server extension enable --sys-prefix esap_lab >/dev/null 2>&1
}

ensure_node_modules() {
  command -v node >/dev/null || apt_install nodejs npm
  local stamp="$ROOT/node_modules/.esap-deps" want
  want=$(cat "$ROOT/package.json" "$ROOT/yarn.lock" 2>/dev/null | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing front-end dependencies (jlpm)"
    (cd "$ROOT" && jlpm install --immutable 2>/dev/null || jlpm install)
    echo "$want" > "$stamp"
  fi
}

build_frontend() {  # compile the TypeScript and link the labextension into the venv
  ensure_node_modules
  say "building the JupyterLab extension"
  (cd "$ROOT" && jlpm build)
  "$VENV/bin/jupyter" labextension develop --overwrite "$ROOT" >/dev/null
}
