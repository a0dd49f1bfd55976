"""A Jupyter server with esap-lab in a subprocess, for the benchmarks (token auth, temp state)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchServer:
    token = "esap-bench"

    def __init__(self, esap_config: dict, server_config: dict | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix="esap-bench-"))
        self.port = free_port()
        (self.tmp / "root").mkdir()
        cfg = {
            "ServerApp": {"jpserver_extensions": {"esap_lab": True}, "open_browser": False, "ip": "127.0.0.1",
                          "port": self.port, "root_dir": str(self.tmp / "root"), "allow_root": True,
                          "log_level": "WARN", **(server_config or {})},
            "IdentityProvider": {"token": self.token},
            "EsapLab": {"db_url": f"sqlite:///{self.tmp / 'esap.sqlite'}", "data_dir": str(self.tmp / "data"),
                        "outbound_allow_private": ["127.0.0.1"], **esap_config},
        }
        (self.tmp / "config.json").write_text(json.dumps(cfg))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.tmp / "cfg"), JUPYTER_DATA_DIR=str(self.tmp / "jd"))
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", f"--config={self.tmp / 'config.json'}"],
                                     stdout=open(self.tmp / "server.log", "wb"), stderr=subprocess.STDOUT, env=env)
        for _ in range(300):
            try:
                self.call("GET", "version")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError((self.tmp / "server.log").read_text()[-2000:])

    def call(self, method: str, path: str, body=None, timeout=600):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/esap-lab/api/{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")

    def memory(self) -> tuple[int, int]:
        """(current RSS, peak RSS) of the server process, bytes."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                fields[k] = int(v.split()[0]) * 1024
        return fields["VmRSS"], fields["VmHWM"]

    def reset_peak(self) -> None:
        # writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
