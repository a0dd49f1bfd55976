"""A real Jupyter server process, stopped and started again: queries and their rows survive,
and a query that was running is resumed."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import LOCAL_ARCHIVE

TOKEN = "esap-restart-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        cfg = tmp / "config.json"
        cfg.write_text(json.dumps({
            "ServerApp": {"jpserver_extensions": {"esap_lab": True}, "open_browser": False,
                          "ip": "127.0.0.1", "port": self.port, "root_dir": str(tmp / "root"),
                          "allow_root": True},
            "IdentityProvider": {"token": TOKEN},
            "EsapLab": {"archives": [LOCAL_ARCHIVE], "db_url": f"sqlite:///{tmp / 'esap.sqlite'}",
                        "data_dir": str(tmp / "data"), "outbound_allow_private": ["127.0.0.1"]},
        }))
        (tmp / "root").mkdir(exist_ok=True)
        self.proc = None

    def start(self):
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.tmp / "cfgdir"), JUPYTER_DATA_DIR=str(self.tmp / "datadir"))
        log = open(self.tmp / "server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={self.tmp / 'config.json'}"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        for _ in range(150):
            try:
                self.call("GET", "version")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError((self.tmp / "server.log").read_text()[-3000:])

    def stop(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(30)

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/esap-lab/api/{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"null")


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    if s.proc.poll() is None:
        s.stop(signal.SIGTERM)


def test_query_and_rows_survive_a_restart(server):
    info = server.call("POST", "archives/local/queries",
                       {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.2})
    assert info["status"] == "completed"
    before = server.call("GET", f"queries/{info['id']}/rows?limit=20&sort=vmag")
    server.stop()
    server.start()
    again = server.call("GET", f"queries/{info['id']}")
    assert again["status"] == "completed" and again["row_count"] == info["row_count"]
    assert again["columns"] == info["columns"]
    after = server.call("GET", f"queries/{info['id']}/rows?limit=20&sort=vmag")
    assert after == before


def test_a_running_async_query_is_resumed_after_a_crash(server):
    q = "SELECT source_id, vmag FROM esapdemo.sources WHERE source_id <= 150000"
    info = server.call("POST", "archives/local/queries?wait=0",
                       {"kind": "tap", "query": q, "async": True, "maxrec": 150000})
    time.sleep(0.5)  # let it submit the UWS job
    server.stop()  # SIGKILL: nothing is cleaned up
    server.start()
    for _ in range(300):
        state = server.call("GET", f"queries/{info['id']}")
        if state["status"] in ("completed", "error"):
            break
        time.sleep(0.2)
    assert state["status"] == "completed", state
    assert state["row_count"] == 150000
