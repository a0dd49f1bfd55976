"""The notebook side's door (esap_lab.client) against a real Jupyter server.

    python benchmarks/kernel_client.py [--items 2000] [--rows 10000] [--repeat 3]

Prints, as a kernel of the session would see them:
- ``basket.items()`` of N items (REST pages parsed into typed items) against plain ``requests``
  reading the same pages as JSON (the ratio is the cost of the typed items);
- ``item.to_table()`` of a query item whose stored result has R rows (the server's stored result,
  read page by page) against pyvo running the same query on the archive (the plain tool).
Needs the local DaCHS (scripts/services/vo-archive.sh); ESAP_TEST_VO_URL overrides its URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._server import BenchServer  # noqa: E402

VO_URL = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
ARCHIVE = {"id": "local", "title": "Local demo archive", "tap": f"{VO_URL}/tap"}


def median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    server = BenchServer({"archives": [ARCHIVE]})
    try:
        os.environ.update(ESAP_LAB_SERVER_URL=f"http://127.0.0.1:{server.port}/", ESAP_LAB_TOKEN=server.token)
        import requests

        from esap_lab import basket
        from esap_lab.client import client

        for start in range(0, args.items, 500):
            server.call("POST", "basket/items", [{"kind": "file", "url": f"https://example.org/{n}.fits"}
                                                 for n in range(start, min(args.items, start + 500))])
        t_items, items = median_time(basket.items, args.repeat)
        assert len(items) == args.items

        def plain():
            out, offset = [], 0
            while offset < args.items:
                r = requests.get(client().url("basket", "items", params={"offset": offset, "limit": 1000}),
                                 headers={"Authorization": f"token {server.token}"}, timeout=60).json()
                out += r["items"]
                offset += len(r["items"])
            return out

        t_plain, _ = median_time(plain, args.repeat)
        print(f"basket.items() of {args.items} items: {t_items * 1000:.0f} ms; plain requests of the same pages: "
              f"{t_plain * 1000:.0f} ms; ratio {t_items / t_plain:.2f}")

        adql = f"SELECT TOP {args.rows} source_id, ra, dec, vmag FROM esapdemo.sources ORDER BY source_id"
        q = server.call("POST", "archives/local/queries?wait=60", {"kind": "tap", "query": adql})
        assert q["status"] == "completed", q
        item = basket.add(kind="query", archive="local", query_id=q["id"], request=q["request"])
        t_table, table = median_time(item.to_table, args.repeat)
        assert len(table) == args.rows and str(table["ra"].unit) == "deg"

        import pyvo

        tap = pyvo.dal.TAPService(f"{VO_URL}/tap")
        t_pyvo, _ = median_time(lambda: tap.run_sync(adql, maxrec=args.rows).to_table(), args.repeat)
        print(f"query item .to_table() of {args.rows} rows: {t_table * 1000:.0f} ms; pyvo running the query: "
              f"{t_pyvo * 1000:.0f} ms; ratio {t_table / t_pyvo:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
