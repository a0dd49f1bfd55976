"""Basket benchmark: 10,000 items added, then listed, through a real Jupyter server.

    python benchmarks/basket.py [--items 10000] [--db-url postgresql+psycopg://...]

Prints the add throughput (batches of 100, and one item per request), the time to list all
items server-side (the handler's work, from the server's own access log) and as seen by an
HTTP client, and the ratio against plain sqlite3 reading the same rows (SQLite only).
Target: listing 10,000 items under 100 ms server-side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOKEN = "esap-basket-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, db_url: str):
        self.port = free_port()
        self.log = tmp / "server.log"
        cfg = tmp / "config.json"
        cfg.write_text(json.dumps({
            "ServerApp": {"jpserver_extensions": {"esap_lab": True}, "open_browser": False, "ip": "127.0.0.1",
                          "port": self.port, "root_dir": str(tmp), "allow_root": True,
                          "log_level": "DEBUG"},  # successful requests and their times are logged at DEBUG
            "IdentityProvider": {"token": TOKEN},
            "EsapLab": {"archives": [], "db_url": db_url, "data_dir": str(tmp / "data")},
        }))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "cfg"), JUPYTER_DATA_DIR=str(tmp / "jdata"))
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", f"--config={cfg}"],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=env)
        for _ in range(200):
            try:
                self.call("GET", "basket")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(self.log.read_text()[-3000:])

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/esap-lab/api/{path}", data=data, method=method,
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())

    def logged_ms(self, path_part: str) -> list[float]:
        """Request times the server logged for URLs containing ``path_part`` (tornado's log)."""
        pat = re.compile(r"GET /esap-lab/api/" + re.escape(path_part) + r"\S* .*?\(.*?\) ([0-9.]+)ms")
        return [float(m.group(1)) for m in pat.finditer(self.log.read_text())]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def item(n: int) -> dict:
    if n % 4 == 0:
        return {"kind": "record", "archive": "local", "query_id": "q1",
                "rows": [{"source_id": n, "ra": 150 + n * 1e-4, "dec": 2.0 - n * 1e-4, "vmag": 12 + (n % 70) / 10}]}
    if n % 4 == 1:
        return {"kind": "file", "url": f"https://example.org/data/f{n}.fits", "size": 2880 * n}
    if n % 4 == 2:
        return {"kind": "did", "scope": "user.bench", "name": f"run{n}.h5", "did_type": "file"}
    return {"kind": "query", "archive": "local",
            "request": {"kind": "cone", "ra": 150 + n * 1e-3, "dec": 2.0, "radius": 0.1}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--single", type=int, default=500, help="items added one per request")
    ap.add_argument("--db-url", default="", help="default: a SQLite file in a temporary directory")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db_url = args.db_url or f"sqlite:///{tmp / 'bench.sqlite'}"
        server = Server(tmp, db_url)
        try:
            n_single = min(args.single, args.items)
            t0 = time.perf_counter()
            for n in range(n_single):
                server.call("POST", "basket/items", item(n))
            single = time.perf_counter() - t0
            t0 = time.perf_counter()
            for start in range(n_single, args.items, 100):
                server.call("POST", "basket/items", [item(n) for n in range(start, min(start + 100, args.items))])
            batched = time.perf_counter() - t0
            summary = server.call("GET", "basket")
            assert summary["count"] == args.items, summary

            client_ms = []
            for _ in range(7):
                t0 = time.perf_counter()
                page = server.call("GET", f"basket/items?limit={args.items}")
                client_ms.append((time.perf_counter() - t0) * 1000)
            assert len(page["items"]) == args.items
            server_ms = server.logged_ms("basket/items?limit=")
        finally:
            server.stop()

        print(f"basket benchmark: {args.items} items ({db_url.split(':', 1)[0]})")
        print(f"  add, one item per request : {n_single / single:8.0f} items/s ({single / n_single * 1000:.1f} ms each)")
        batch_n = args.items - n_single
        if batch_n:
            print(f"  add, 100 items per request: {batch_n / batched:8.0f} items/s")
        med = sorted(client_ms)[len(client_ms) // 2]
        if server_ms:
            smed = sorted(server_ms)[len(server_ms) // 2]
            verdict = "OK" if smed < 100 else "OVER TARGET"
            print(f"  list {args.items} items, server-side (median of {len(server_ms)}): {smed:.1f} ms "
                  f"[target < 100 ms: {verdict}]")
        print(f"  list {args.items} items, HTTP client (median of {len(client_ms)}): {med:.1f} ms "
              f"({len(json.dumps(page)) / 1e6:.1f} MB)")
        if db_url.startswith("sqlite:///"):
            plain = []
            for _ in range(7):
                t0 = time.perf_counter()
                con = sqlite3.connect(db_url[len("sqlite:///"):])
                docs = [r[0] for r in con.execute("SELECT doc FROM esap_basket_items ORDER BY seq")]
                body = "[" + ",".join(docs) + "]"
                con.close()
                plain.append((time.perf_counter() - t0) * 1000)
            pmed = sorted(plain)[len(plain) // 2]
            assert body
            if server_ms:
                print(f"  plain sqlite3 reading the same rows: {pmed:.1f} ms (server-side list / plain = "
                      f"{smed / pmed:.1f}x)")


if __name__ == "__main__":
    main()
