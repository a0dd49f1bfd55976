"""Search through esap-lab's REST API vs plain pyvo, in one run, against the local DaCHS.

    python benchmarks/search.py [--repeat 5]

Prints, for a cone search and a TAP query of about 10,000 rows, the median time through the
extension (POST the query, wait for it, fetch the first page) over the median time of pyvo
fetching the same result (target <= 0.9); for a 200,000-row TAP result, the time to the first
page over pyvo's fetch alone (target <= 1.5) and the server's peak memory growth over the size
of the result (target <= 2x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pyvo
import requests

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

VO = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
ARCHIVE = {"id": "local", "title": "Local demo archive", "tap": f"{VO}/tap",
           "scs": f"{VO}/esapdemo/q/cone/scs.xml"}
TAP_10K = "SELECT TOP 10000 source_id, ra, dec, vmag FROM esapdemo.sources"
TAP_200K = "SELECT source_id, ra, dec, vmag, bmag, rmag FROM esapdemo.sources"
CONE = {"ra": 155.0, "dec": 5.0, "radius": 1.2}


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def paired(ext, plain, repeat: int) -> tuple[float, float, object]:
    """Medians of the two paths run alternately, so both see the archive in the same state
    (the same load, the same caches)."""
    a, b, out = [], [], None
    for _ in range(repeat):
        t, out = median_time(ext, 1)
        a.append(t)
        b.append(median_time(plain, 1)[0])
    return statistics.median(a), statistics.median(b), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    server = BenchServer({"archives": [ARCHIVE], "query_timeout": 300})
    tap = pyvo.dal.TAPService(ARCHIVE["tap"])
    scs = pyvo.dal.SCSService(ARCHIVE["scs"])

    def ext(body, limit=200):
        info = server.call("POST", "archives/local/queries?wait=60", body)
        assert info["status"] == "completed", info
        page = server.call("GET", f"queries/{info['id']}/rows?offset=0&limit={limit}")
        return info, page

    try:
        ext({"kind": "cone", **CONE})  # warm-up of both paths (imports, connections)
        scs.search((CONE["ra"], CONE["dec"]), CONE["radius"]).to_table()
        print(f"esap-lab search benchmark (median of {args.repeat}; DaCHS on loopback)")
        print(f"{'case':34} {'rows':>7} {'esap-lab':>9} {'pyvo':>8} {'ratio':>6} target")
        rows = []
        t_ext, t_pyvo, (info, _) = paired(
            lambda: ext({"kind": "cone", **CONE}),
            lambda: scs.search((CONE["ra"], CONE["dec"]), CONE["radius"]).to_table(), args.repeat)
        rows.append(("cone search, result + first page", info["row_count"], t_ext, t_pyvo, "<= 0.9"))
        t_ext, t_pyvo, (info, _) = paired(lambda: ext({"kind": "tap", "query": TAP_10K}),
                                          lambda: tap.run_sync(TAP_10K).to_table(), args.repeat)
        rows.append(("TAP sync, result + first page", info["row_count"], t_ext, t_pyvo, "<= 0.9"))

        # 200k rows: time to the first page, and the server's memory
        body = {"kind": "tap", "query": TAP_200K, "maxrec": 200000, "async": False}
        size = len(requests.post(ARCHIVE["tap"] + "/sync", data={"REQUEST": "doQuery", "LANG": "ADQL",
                                 "QUERY": TAP_200K, "MAXREC": 200000}, timeout=300).content)
        rss0, _ = server.memory()
        server.reset_peak()
        t_ext, (info, _) = median_time(lambda: ext(body), 1)  # the first large result of this process
        _, peak_cold = server.memory()
        rss1, _ = server.memory()
        server.reset_peak()
        t_ext, (info, _) = median_time(lambda: ext(body), max(1, args.repeat // 2))
        _, peak_warm = server.memory()
        big = info
        t_pyvo, res = median_time(lambda: tap.run_sync(TAP_200K, maxrec=200000).to_table(), max(1, args.repeat // 2))
        rows.append(("TAP sync 200k, time to first page", info["row_count"], t_ext, t_pyvo, "<= 1.5"))
        t_ext, t_pyvo, (info, _) = paired(lambda: ext({**body, "async": True}),
                                          lambda: tap.run_async(TAP_200K, maxrec=200000).to_table(),
                                          max(1, args.repeat // 2))
        rows.append(("TAP async 200k, time to first page", info["row_count"], t_ext, t_pyvo, "<= 1.5"))
        for name, n, a, b, target in rows:
            print(f"{name:34} {n:>7} {a:>8.3f}s {b:>7.3f}s {a / b:>6.2f} {target}")
        arrow = Path(server.tmp / "data" / "queries" / f"{big['id']}.arrow").stat().st_size
        print(f"200k-row result: {size / 2**20:.1f} MiB as received (VOTable), {arrow / 2**20:.1f} MiB stored (Arrow)")
        for label, grown in (("first large result of the process", peak_cold - rss0),
                             ("later large results", peak_warm - rss1)):
            print(f"server peak memory growth, {label}: {grown / 2**20:.1f} MiB -> "
                  f"{grown / size:.2f}x the result (target <= 2)")
        print(f"(pyvo's own table for the same result: {res.as_array().nbytes / 2**20:.1f} MiB in memory)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
