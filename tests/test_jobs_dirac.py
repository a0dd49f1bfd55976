"""DIRAC for real: notebooks submitted through esap-lab's REST API to the ``dirac`` backend go
through DiracX to a real DIRAC WMS (scripts/services/dirac.sh: Optimizers, Matcher, a JobAgent
with the InProcess computing element and DIRAC's own JobWrapper), which runs them with papermill;
their output sandboxes come back through DiracX into the job folders. Nothing here plays the
worker node. The esap-lab server is a real process, so that it can be killed and started again
while a job runs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parent / "notebooks" / "params.ipynb"
URL = os.environ.get("ESAP_TEST_DIRACX_URL")
CREDENTIALS = os.environ.get("ESAP_TEST_DIRACX_CREDENTIALS")
TOKEN = "esap-dirac-test"
FINAL = ("completed", "failed", "cancelled")

pytestmark = pytest.mark.skipif(not URL, reason="DIRAC not started (scripts/services/dirac.sh)")


class Server:
    """esap-lab in a Jupyter server process with the dirac backend; the worker's Python is this
    one (it has papermill and ipykernel)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (tmp / "root").mkdir()
        (tmp / "config.json").write_text(json.dumps({
            "ServerApp": {"jpserver_extensions": {"esap_lab": True}, "open_browser": False, "ip": "127.0.0.1",
                          "port": self.port, "root_dir": str(tmp / "root"), "allow_root": True},
            "IdentityProvider": {"token": TOKEN},
            "EsapLab": {"db_url": f"sqlite:///{tmp / 'esap.sqlite'}", "data_dir": str(tmp / "data"),
                        "job_poll_interval": 0.3,
                        "job_backends": [{"name": "dirac", "type": "dirac", "url": URL,
                                          "credentials_file": CREDENTIALS, "python": sys.executable}]},
        }))
        self.proc = None

    def start(self):
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.tmp / "cfg"), JUPYTER_DATA_DIR=str(self.tmp / "jd"))
        with open(self.tmp / "server.log", "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server",
                                          f"--config={self.tmp / 'config.json'}"],
                                         stdout=log, stderr=subprocess.STDOUT, env=env)
        for _ in range(300):
            try:
                return self.call("GET", "version")
            except OSError:
                time.sleep(0.1)
        raise AssertionError((self.tmp / "server.log").read_text()[-3000:])

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(30)

    def call(self, method, path, body=None, expect=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/esap-lab/api/{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                code, data = r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            code, data = e.code, json.loads(e.read() or b"null")
        if expect is not None:
            assert code == expect, (code, data)
        return data

    def wait(self, jid, until=FINAL, timeout=240, native=None):
        job = None
        for _ in range(int(timeout / 0.25)):
            job = self.call("GET", f"jobs/{jid}", expect=200)
            if job["status"] in until and (native is None or (job["native_state"] or "").startswith(native)):
                return job
            time.sleep(0.25)
        raise AssertionError(f"job {jid} never reached {until} {native or ''}: {job}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("dirac"))
    root = s.tmp / "root"
    nb = json.loads(NOTEBOOK.read_text())
    (root / "params.ipynb").write_text(json.dumps(nb))
    # a variant that also writes a file next to itself: outputs come back with the notebook
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "writes-a-file", "metadata": {},
                        "outputs": [], "source": ["from pathlib import Path\n",
                                                  "Path('out/answer.txt').parent.mkdir()\n",
                                                  "Path('out/answer.txt').write_text(str(result))"]})
    (root / "writes.ipynb").write_text(json.dumps(nb))
    s.start()
    yield s
    if s.proc.poll() is None:
        s.stop()


def output_text(server, job) -> str:
    cells = json.loads((server.tmp / "root" / job["output"]).read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


def submit(server, notebook, **body):
    job = server.call("POST", "jobs", {"notebook": notebook, "backend": "dirac", **body}, expect=201)
    assert job["native_id"].isdigit() and job["status"] == "queued", job
    return job


def test_notebook_is_run_by_the_dirac_job_agent_and_comes_back(server):
    item = server.call("POST", "basket/items", [{"kind": "file", "url": "https://example.org/run7.fits"}],
                       expect=201)["items"][0]
    job = submit(server, "writes.ipynb", parameters={"n": 7}, basket=[item["id"]],
                 resources={"cpus": 1, "walltime": "30"})
    failing = submit(server, "params.ipynb", parameters={"n": "seven"})  # str * str: a TypeError
    job = server.wait(job["id"])
    assert job["status"] == "completed" and job["native_state"].startswith("Done: Execution Complete"), job
    out = output_text(server, job)
    assert "result=49" in out and f"basket=['{item['id']}']" in out
    workdir = server.tmp / "root" / job["workdir"]
    assert (workdir / "out" / "answer.txt").read_text() == "49"  # written by the notebook on the worker
    jdl = (workdir / "job.jdl").read_text()
    assert "InputSandbox" not in jdl and "CPUTime = 1800;" in jdl  # the job's script fetches its input
    # DIRAC's states, each seen by the poller, with the minor status in the job's log
    log = server.call("GET", f"jobs/{job['id']}/log", expect=200)
    natives = [e.get("native_state") or "" for e in log["events"]]
    for state in ("Received", "Matched", "Running: Application", "Done: Execution Complete"):
        assert any(n.startswith(state) for n in natives), natives
    assert any(n.endswith("(papermill running)") for n in natives), natives  # the application status
    assert "result=49" in log["stderr"] + log["stdout"]
    # executed by DIRAC's JobWrapper, in the agent's working directory, with this Python
    prov = json.loads((workdir / "provenance.json").read_text())
    assert prov["executed_in"]["executable"] == sys.executable
    assert "papermill" in prov["executed_in"]["packages"]

    failing = server.wait(failing["id"])
    assert failing["status"] == "failed" and failing["native_state"].startswith("Failed"), failing
    assert "Application Finished With Errors" in failing["message"]
    log = server.call("GET", f"jobs/{failing['id']}/log", expect=200)
    assert "TypeError" in log["stderr"]
    assert "TypeError" in (server.tmp / "root" / failing["output"]).read_text()  # the notebook as far as it ran

    # resubmit: the same inputs, a new DIRAC job that runs again
    again = server.call("POST", f"jobs/{job['id']}/resubmit", expect=201)
    assert again["resubmitted_from"] == job["id"] and again["native_id"] != job["native_id"]
    again = server.wait(again["id"])
    assert again["status"] == "completed" and "result=49" in output_text(server, again)


def killed_in_dirac(native_id, seconds=60):
    """DiracX's status of the job shows the kill (Killed, or Received Kill signal) in time."""
    token = json.loads(Path(CREDENTIALS).read_text())["access_token"]
    body = {"parameters": ["Status", "MinorStatus"], "sort": [],
            "search": [{"parameter": "JobID", "operator": "eq", "value": int(native_id)}]}
    deadline = time.monotonic() + seconds
    row = None
    while time.monotonic() < deadline:
        req = urllib.request.Request(f"{URL}/api/jobs/search", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            rows = json.loads(r.read())
        row = rows[0] if rows else None
        if row and (row["Status"] == "Killed" or "Kill" in (row.get("MinorStatus") or "")):
            return row
        time.sleep(1)
    raise AssertionError(f"DIRAC does not show job {native_id} killed: {row}")


def test_kill_stops_the_running_payload_and_a_server_restart_loses_no_job(server):
    job = submit(server, "params.ipynb", parameters={"delay": 300})
    server.wait(job["id"], until=("running",), native="Running: Application")
    job = server.call("DELETE", f"jobs/{job['id']}", expect=200)
    assert job["status"] == "cancelled", job
    # DIRAC's own record of the kill: "Killed", or "Failed: Received Kill signal" when the job
    # wrapper's report (its watchdog stopped the payload) comes after the kill order
    assert killed_in_dirac(job["native_id"]), job
    log = server.call("GET", f"jobs/{job['id']}/log", expect=200)
    assert [e["status"] for e in log["events"]][-1] == "cancelled"
    # The JobWrapper's watchdog gets the kill order with its heartbeat and stops papermill: the one
    # JobAgent is free again and runs the next job long before the 300 s would be over. The
    # esap-lab server is killed while that job runs, and started again.
    t0 = time.time()
    job = submit(server, "params.ipynb", parameters={"n": 11, "delay": 4})
    server.wait(job["id"], until=("running",), timeout=150)
    server.stop(signal.SIGKILL)  # nothing is cleaned up
    server.start()
    job = server.wait(job["id"], timeout=150)
    assert job["status"] == "completed" and time.time() - t0 < 150, job
    assert "result=121" in output_text(server, job)


def test_token_file_mode_presents_the_files_token_read_at_each_call(tmp_path):
    """``token_file`` (the hub login's token, esap_lab.hub keeps the file fresh): each call presents
    what the file holds now. Here the file holds a token DiracX issued (the test user's), then one
    it did not issue, then the test user's again; the hub's own login token is tried in
    tests/test_hub_live.py."""
    import asyncio

    from esap_lab.errors import RemoteError
    from esap_lab.hub import write_token_file
    from esap_lab.jobs.backends.dirac import DiracBackend

    good = json.loads(Path(CREDENTIALS).read_text())["access_token"]
    path = tmp_path / ".esap" / "access_token"
    backend = DiracBackend("dirac", url=URL, token_file=str(path))
    write_token_file(path, good)
    asyncio.run(backend.check())  # DiracX's userinfo answered for the file's token
    write_token_file(path, "not-a-diracx-token")
    with pytest.raises(RemoteError, match="refused your login's token") as e:
        asyncio.run(backend.check())
    assert e.value.reason == "remote-authentication-failed" and "not-a-diracx-token" not in e.value.message
    write_token_file(path, good)
    asyncio.run(backend.check())
    # the hub could not renew the login: "log in again", DiracX is not even asked
    write_token_file(path.with_name("access_token.error"), "Your login has expired: log in again at the hub.\n")
    with pytest.raises(RemoteError, match="log in again at the hub") as e:
        asyncio.run(backend.check())
    assert (e.value.reason, e.value.status) == ("login-expired", 401)
    path.unlink()
    path.with_name("access_token.error").unlink()
    with pytest.raises(RemoteError, match="cannot be read"):
        asyncio.run(backend.check())
    with pytest.raises(ValueError, match="not both"):
        DiracBackend("dirac", url=URL, token_file=str(path), credentials_file=CREDENTIALS)
