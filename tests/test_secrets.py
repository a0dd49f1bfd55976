"""No secret in user code: a server configured with a credential of every kind (a Rucio password
and an OIDC token, an archive's bearer token and password, DiracX tokens, the database URL of the
user's own PostgreSQL role, an extra variable the admin names) still uses them, while a kernel it
starts and a job on every backend (local, Slurm, DIRAC through the running DiracX) see none of
them: their environment, stdout/stderr, log, output notebook and job folder are scanned for every
secret value and variable name, and the count must be 0."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import nbformat
import pytest

from conftest import VO_URL, poll_until

RUCIO = os.environ.get("ESAP_TEST_RUCIO_HOST")
SLURM = os.environ.get("ESAP_TEST_SLURM_PARTITION")
DIRACX_URL = os.environ.get("ESAP_TEST_DIRACX_URL")
DIRACX_CREDENTIALS = os.environ.get("ESAP_TEST_DIRACX_CREDENTIALS")
ADMIN = os.environ.get("ESAP_TEST_PG_ADMIN_URL")
RUCIO_PASSWORD = os.environ.get("ESAP_TEST_RUCIO_PASSWORD", "")
ACCOUNT = os.environ.get("ESAP_TEST_RUCIO_ACCOUNT", "alice")

pytestmark = pytest.mark.skipif(not (RUCIO and SLURM and DIRACX_URL and ADMIN),
                                reason="needs Rucio, Slurm, DiracX and PostgreSQL (scripts/services/*.sh)")

SECRET_VARS = {  # variable -> value; the server must withdraw each at start-up
    "ESAP_SECRET_RUCIO_PASSWORD": RUCIO_PASSWORD,
    "ESAP_SECRET_RUCIO_TOKEN": "rucio-tok-" + secrets.token_hex(16),
    "ESAP_SECRET_ARCHIVE_TOKEN": "archive-tok-" + secrets.token_hex(16),
    "ESAP_SECRET_ARCHIVE_PASSWORD": "archive-pw-" + secrets.token_hex(16),
    "ESAP_SECRET_EXTRA": "extra-" + secrets.token_hex(16),
}

SHOW_ENV = "import os, json, sys\nprint('ENV=' + json.dumps(dict(os.environ), sort_keys=True))\n"


def _dirac_tokens() -> list[str]:
    creds = json.loads(Path(DIRACX_CREDENTIALS).read_text()) if DIRACX_CREDENTIALS else {}
    return [v for k, v in creds.items() if k in ("access_token", "refresh_token") and v]


@pytest.fixture
def esap_archives():
    return [
        {"id": "bearer", "title": "Archive with a token", "tap": f"{VO_URL}/tap",
         "auth": {"type": "bearer", "token_env": "ESAP_SECRET_ARCHIVE_TOKEN"}},
        {"id": "basic", "title": "Archive with a password", "tap": f"{VO_URL}/tap",
         "auth": {"type": "basic", "username": "someone", "password_env": "ESAP_SECRET_ARCHIVE_PASSWORD"}},
    ]


@pytest.fixture
def esap_config(monkeypatch, tmp_path, request):
    from esap_lab.hub import provision_user

    db_url = provision_user(ADMIN, "secrets_" + secrets.token_hex(3), database="esap_t_" + secrets.token_hex(6))
    monkeypatch.setenv("ESAP_LAB_DB_URL", db_url)  # as esap_lab.hub hands it over
    monkeypatch.setenv("JUPYTERHUB_USER", db_url.split("://", 1)[1].split(":", 1)[0].removeprefix("esap_"))
    for name, value in SECRET_VARS.items():
        monkeypatch.setenv(name, value)
    # the same password under the test's name, and the hub's admin URL (only ever in the hub process)
    for name in ("ESAP_TEST_RUCIO_PASSWORD", "ESAP_TEST_PG_ADMIN_URL"):
        monkeypatch.delenv(name, raising=False)
    request.node.db_url = db_url
    base = {"rucio_host": RUCIO, "account": ACCOUNT, "download_folder": "rucio", "timeout": 10}
    return {
        "db_url": "",
        "secret_env": ["ESAP_SECRET_EXTRA"],
        "rucio_instances": [
            {"name": "lake", "title": "Lake", "auth_type": "userpass", "username": ACCOUNT,
             "password_env": "ESAP_SECRET_RUCIO_PASSWORD", **base},
            {"name": "lake-oidc", "title": "Lake (login token)", "auth_type": "oidc",
             "token_env": "ESAP_SECRET_RUCIO_TOKEN", **base}],
        "job_backends": [
            {"name": "local", "type": "local"},
            {"name": "slurm", "type": "slurm", "partition": SLURM},
            {"name": "dirac", "type": "dirac", "url": DIRACX_URL, "credentials_file": DIRACX_CREDENTIALS}],
        "job_poll_interval": 0.3,
    }


async def _run_in_kernel(jp_fetch, jp_serverapp, code: str) -> str:
    """Start a kernel through the server's REST API (as JupyterLab does) and run ``code``."""
    r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    kid = json.loads(r.body)["id"]
    kernel = jp_serverapp.kernel_manager.get_kernel(kid)
    kc = kernel.client()  # the server's own kernel manager knows whether it is alive
    kc.start_channels()
    out: list[str] = []
    try:
        await kc.wait_for_ready(timeout=60)

        def hook(msg):
            c = msg["content"]
            if msg["msg_type"] == "stream":
                out.append(c["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(c["traceback"]))
            elif msg["msg_type"] in ("execute_result", "display_data"):
                out.append(c["data"].get("text/plain", ""))

        reply = await kc.execute_interactive(code, output_hook=hook, timeout=120)
        assert reply["content"]["status"] == "ok", "".join(out)[-3000:]
    finally:
        kc.stop_channels()
        await jp_fetch("api", "kernels", kid, method="DELETE")
    return "".join(out)


def _folder_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file())


async def test_no_secret_reaches_kernels_or_jobs(api, jp_fetch, jp_serverapp, jp_root_dir, request, caplog):
    db_url = request.node.db_url
    db_password = db_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    values = {**SECRET_VARS, "db_url": db_url, "db_password": db_password, "db_admin_url": ADMIN,
              **{f"diracx_{i}": t for i, t in enumerate(_dirac_tokens())}}
    assert all(len(v) >= 8 for v in values.values()), "every secret long enough to be searched for"
    names = [*SECRET_VARS, "ESAP_LAB_DB_URL"]

    # the server withdrew them from its environment, and still uses them
    assert not [n for n in names if n in os.environ]
    await api("GET", "rucio", "lake", "dids", "lake", "demo.run8", "files", expect=200)  # the Rucio password
    for archive in ("bearer", "basic"):  # the archives' credentials are read when a query runs
        _, q = await api("POST", "archives", archive, "queries", expect=201,
                         body={"kind": "tap", "query": "SELECT TOP 1 source_id FROM esapdemo.sources"})
        assert q["status"] == "completed", q
    texts: dict[str, str] = {}
    for path in (("rucio",), ("archives",), ("backends",)):
        texts["GET /" + "/".join(path)] = json.dumps((await api("GET", *path, expect=200))[1])

    # a kernel, started as JupyterLab starts one; it reaches the server through esap_lab.client
    texts["kernel"] = await _run_in_kernel(jp_fetch, jp_serverapp, SHOW_ENV + (
        "from esap_lab import basket\n"
        "print('BASKET', len(basket.items()))\n"))
    kernel_env = json.loads(next(ln for ln in texts["kernel"].splitlines() if ln.startswith("ENV="))[4:])
    assert "BASKET 0" in texts["kernel"] and "ESAP_LAB_SERVER_URL" in kernel_env

    # a job on every backend, its notebook printing its environment
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SHOW_ENV)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, jp_root_dir / "env.ipynb")
    jobs = {}
    for backend in ("local", "slurm", "dirac"):
        _, jobs[backend] = await api("POST", "jobs", expect=201, body={"notebook": "env.ipynb", "backend": backend})
    for backend in ("local", "slurm"):
        job = await poll_until(api, "jobs", jobs[backend]["id"], until=("completed", "failed"), timeout=180,
                               interval=0.3)
        assert job["status"] == "completed", job
        out = (jp_root_dir / job["output"]).read_text()
        assert "ENV=" in out
        jobs[backend] = job
    jobs["dirac"] = (await api("GET", "jobs", jobs["dirac"]["id"], expect=200))[1]
    for backend, job in jobs.items():
        _, log = await api("GET", "jobs", job["id"], "log", expect=200)
        texts[f"{backend} job: REST"] = json.dumps(job) + json.dumps(log)
        texts[f"{backend} job: folder"] = _folder_text(jp_root_dir / job["workdir"])
    texts["server log"] = caplog.text

    found = [(where, what) for where, text in texts.items() for what, value in values.items() if value in text]
    # what user code sees holds not even the variables' names (the server's own log may: config)
    found += [(where, name) for where, text in texts.items() if where.startswith(("kernel", "local", "slurm"))
              for name in names if name in text]
    assert len(found) == 0, found
    print(f"secret scan: {len(values)} values and {len(names)} variable names in {len(texts)} places: "
          f"{len(found)} found")
