"""One search over five archives vs the slowest of them alone, through esap-lab's REST API.

    python benchmarks/fanout.py [--repeat 3] [--radius 0.3]

The five archives are five entries of the local DaCHS (the same service under five ids, each
with its own threads in esap-lab). Each is first searched alone (POST /archives/{a}/queries,
waiting for the end); then all five at once (POST /searches, waiting for the end). Prints the
median fan-out time over the median time of the slowest single archive (target <= 1.2).

The five entries share one DaCHS (and, here, two cores): what the fan-out adds over the slowest is
then the service's own capacity, not esap-lab's; with five real archives each has its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

VO = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
IDS = [f"local{i}" for i in range(1, 6)]
ARCHIVES = [{"id": a, "title": f"Local demo archive {a[-1]}", "tap": f"{VO}/tap",
             "scs": f"{VO}/esapdemo/q/cone/scs.xml"} for a in IDS]


def service_floor(radius: float, repeat: int) -> float:
    """The service's own fan-out: five plain HTTP cone requests at once over one alone (no parsing)."""
    url = f"{VO}/esapdemo/q/cone/scs.xml?RA=155.0&DEC=5.0&SR={radius}"

    def one(_=None):
        return len(requests.get(url, timeout=60).content)

    one()
    alone, together = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        one()
        alone.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(IDS)) as ex:
            list(ex.map(one, range(len(IDS))))
        together.append(time.perf_counter() - t0)
    return statistics.median(together) / statistics.median(alone)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--radius", type=float, default=0.3, help="cone radius, degrees")
    args = ap.parse_args()
    request = {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": args.radius}
    server = BenchServer({"archives": ARCHIVES, "query_timeout": 300})
    try:
        server.call("POST", "archives/local1/queries?wait=60", request)  # warm up (imports, DaCHS caches)
        singles: dict[str, list[float]] = {a: [] for a in IDS}
        fanout: list[float] = []
        rows = None
        for _ in range(args.repeat):
            for a in IDS:
                t0 = time.perf_counter()
                info = server.call("POST", f"archives/{a}/queries?wait=60", request)
                singles[a].append(time.perf_counter() - t0)
                assert info["status"] == "completed", info
                rows = info["row_count"]
            t0 = time.perf_counter()
            res = server.call("POST", "searches?wait=60", {"request": request, "archives": IDS})
            fanout.append(time.perf_counter() - t0)
            assert res["status"] == "completed" and all(e["status"] == "completed" for e in res["archives"]), res
        slowest = max(statistics.median(t) for t in singles.values())
        many = statistics.median(fanout)
        print(f"cone search, {rows} rows per archive, {len(IDS)} archives, median of {args.repeat}")
        print(f"  slowest single archive: {slowest * 1000:8.1f} ms")
        print(f"  fan-out over all {len(IDS)}:    {many * 1000:8.1f} ms")
        print(f"  ratio fan-out / slowest single: {many / slowest:.2f}x (target <= 1.2x; "
              f"in sequence it would be about {len(IDS)}x)")
        print(f"  the service alone, {len(IDS)} raw requests at once / one: {service_floor(args.radius, args.repeat):.2f}x "
              "(what one shared DaCHS allows)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
