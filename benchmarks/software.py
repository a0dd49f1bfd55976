"""Software benchmark: one page of OSSR search results with each record's codemeta.json, through
a real Jupyter server, against the plain way (one search, then each record's codemeta.json
fetched one after the other, as eossr's ``Record.get_codemeta`` does).

    python benchmarks/software.py [--records 10] [--latency 0.05] [--rounds 5]

Zenodo cannot run here: the OSSR stand-in of the tests (tests/zenodo_standin.py) on 127.0.0.1
answers Zenodo's records API (search and file content) after ``--latency`` seconds per request,
like a remote site. Prints the time per page: plain, esap-lab's first search (codemeta.json
fetched in parallel on the software pool), esap-lab again (codemeta.json cached by checksum),
and the ratios plain / esap-lab.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from _server import BenchServer
from zenodo_standin import FakeZenodo


def stand_in(n: int, latency: float) -> tuple[FakeZenodo, str]:
    """The one OSSR stand-in (tests/zenodo_standin.py) with ``n`` records, each with a codemeta.json."""
    z = FakeZenodo("bench", latency=latency, keep_alive=True)
    for i in range(n):
        cm = json.dumps({"name": f"tool{i}", "version": "1.0", "keywords": ["spectra"],
                         "author": [{"givenName": "A", "familyName": "B"}]}).encode()
        z.add(5000 + i, f"Tool {i}", keywords=["spectra"], description="<p>A tool.</p>",
              creators=({"name": "B, A"},), files={"codemeta.json": cm})
    return z, z.start()


def plain(url: str, n: int) -> float:
    """The plain way: the search, then each codemeta.json in turn."""
    start = time.perf_counter()
    with urllib.request.urlopen(f"{url}/api/records?communities=bench&q=&page=1&size={n}", timeout=30) as r:
        hits = json.loads(r.read())["hits"]["hits"]
    for h in hits:
        with urllib.request.urlopen(h["files"][0]["links"]["self"], timeout=30) as r:
            json.loads(r.read())
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=10)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    server, url = stand_in(a.records, a.latency)
    bench = BenchServer({"archives": [], "software_url": url, "software_community": "bench"})
    try:
        plain_t = statistics.median(plain(url, a.records) for _ in range(a.rounds))
        path = f"software?page=1&size={a.records}"
        t = time.perf_counter()
        page = bench.call("GET", path)  # a fresh server: no codemeta.json cached yet
        first = time.perf_counter() - t
        assert len(page["records"]) == a.records and page["records"][0]["codemeta_fields"], page["records"][0]
        cached = []
        for _ in range(a.rounds):
            t = time.perf_counter()
            bench.call("GET", path)
            cached.append(time.perf_counter() - t)
        print(f"OSSR stand-in: {a.records} records, {a.latency * 1000:.0f} ms per request")
        print(f"plain (search, then codemeta.json one by one): {plain_t * 1000:8.1f} ms")
        print(f"esap-lab, first search (codemeta.json in parallel): {first * 1000:8.1f} ms  "
              f"ratio {plain_t / first:.2f}")
        c = statistics.median(cached)
        print(f"esap-lab, again (codemeta.json cached):          {c * 1000:8.1f} ms  ratio {plain_t / c:.2f}")
    finally:
        bench.stop()
        server.stop()


if __name__ == "__main__":
    main()
