"""The schema browser on a service with 5,000 tables, through esap-lab's REST API.

    python benchmarks/schema_browser.py [--tables 5000] [--url TAP-OR-VOSI-BASE]

The service is a stand-in for a VizieR-size TAP service's VOSI tables (served from this process;
the local DaCHS has a few dozen tables): 50 schemas of 100 tables. Prints the time of the first
answer (cold: the service's table names fetched and parsed), of a filter over all tables, and of
one table's columns, each against the 1 s target, and pyvo's fetch of the same tableset (what a
notebook waits for with ``TAPService.tables``) for comparison. ``--url`` measures a real service
instead (e.g. the local DaCHS's 5,000 tables: $ESAP_TEST_MANY_TABLES_URL; the filter then looks for
``--q``, the columns are those of ``--table``). Then the first answer after a restart of the
server on the same data directory (the table names kept on disk).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

NS = ('xmlns:vtm="http://www.ivoa.net/xml/VOSITables/v1.0" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
COLUMNS = "".join(f'<column><name>c{i}</name><description>Column {i}</description><unit>deg</unit><ucd>pos.eq.ra'
                  '</ucd><dataType xsi:type="vs:VOTableType">double</dataType></column>' for i in range(20))


def table(s: int, t: int, columns: bool) -> str:
    return (f'<table type="table"><name>cat{s:03d}.t{t:04d}</name><description>Table {t} of group {s}'
            f'{" quasars" if t % 97 == 0 else ""}</description>{COLUMNS if columns else ""}</table>')


def tableset(schemas: int, per: int, columns: bool) -> bytes:
    parts = [f'<?xml version="1.0" encoding="utf-8"?><vtm:tableset {NS}>']
    for s in range(schemas):
        parts.append(f"<schema><name>cat{s:03d}</name><description>Group {s}</description>")
        parts += [table(s, t, columns) for t in range(per)]
        parts.append("</schema>")
    return "".join([*parts, "</vtm:tableset>"]).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tables", type=int, default=5000)
    ap.add_argument("--url", help="a real service's base URL (its VOSI tables at <url>/tables)")
    ap.add_argument("--q", default="quasars")
    ap.add_argument("--table", default="cat007.t0042")
    args = ap.parse_args()
    per = 100
    schemas = max(1, args.tables // per)
    small, full = tableset(schemas, per, False), tableset(schemas, per, True)
    one = f'<?xml version="1.0"?><vtm:table {NS}>{table(7, 42, True)[20:-8]}</vtm:table>'.encode()

    class Vosi(BaseHTTPRequestHandler):
        def do_GET(self):
            body = {"/tap/tables?detail=min": small, "/tap/tables": full, "/tap/tables/cat007.t0042": one}.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *a):
            pass

    vosi = ThreadingHTTPServer(("127.0.0.1", 0), Vosi)
    threading.Thread(target=vosi.serve_forever, daemon=True).start()
    url = args.url.rstrip("/") if args.url else f"http://127.0.0.1:{vosi.server_address[1]}/tap"
    server = BenchServer({"archives": [{"id": "big", "title": "Many tables", "tap": url}], "query_timeout": 120})
    try:
        server.call("GET", "version")
        t0 = time.perf_counter()
        top = server.call("GET", "archives/big/tables")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        hits = server.call("GET", f"archives/big/tables?q={args.q}")
        filtering = time.perf_counter() - t0
        t0 = time.perf_counter()
        cols = server.call("GET", f"archives/big/tables/{args.table}")
        columns = time.perf_counter() - t0
        import pyvo

        t0 = time.perf_counter()
        n = len(list(pyvo.dal.TAPService(url).tables.keys()))
        plain = time.perf_counter() - t0
        print(f"{url}: {n} tables in {top['total']} schemas")
        print(f"  first answer (cold, schemas):  {first * 1000:7.1f} ms  (target < 1000 ms)")
        print(f"  filter q={args.q} ({hits['total']} tables): {filtering * 1000:7.1f} ms  (target < 1000 ms)")
        print(f"  one table's {len(cols['columns'])} columns:      {columns * 1000:7.1f} ms")
        print(f"  pyvo TAPService.tables ({n} tables, whole tableset): {plain * 1000:7.1f} ms "
              f"-> first answer / pyvo = {first / plain:.2f}x")
        import requests

        raw = []
        for _ in range(3):
            t0 = time.perf_counter()
            _ = requests.get(f"{url}/tables", params={"detail": "min"}, timeout=120).content
            raw.append(time.perf_counter() - t0)
        print(f"  the service alone, its table names (/tables?detail=min, median of 3): "
              f"{sorted(raw)[1] * 1000:7.1f} ms -> first answer / service = {first / sorted(raw)[1]:.2f}x")
    finally:
        server.stop()
    # a restart on the same data directory: the names kept on disk answer at once (and are read
    # again from the service behind, once older than the cache's ttl)
    again = BenchServer({"archives": [{"id": "big", "title": "Many tables", "tap": url}], "query_timeout": 120,
                         "data_dir": str(server.tmp / "data")})
    try:
        again.call("GET", "version")
        t0 = time.perf_counter()
        again.call("GET", "archives/big/tables")
        restart = time.perf_counter() - t0
        print(f"  first answer after a restart (names kept on disk): {restart * 1000:7.1f} ms  (target < 1000 ms)")
    finally:
        again.stop()
        vosi.shutdown()


if __name__ == "__main__":
    main()
