"""One search over five archives vs the slowest of them alone, through esap-lab's REST API.

    python benchmarks/fanout.py [--repeat 3] [--radius 0.3] [--latency SECONDS]

Each archive is first searched alone (POST /archives/{a}/queries, waiting for the end); then all
five at once (POST /searches, waiting for the end). Prints the median fan-out time over the
median time of the slowest single archive (target <= 1.2), twice:

1. five independent archives: five processes (benchmarks/_replay.py), each answering with the
   real DaCHS's answer to this cone search after the time DaCHS took to make it (or --latency).
   One machine cannot run five real archives that share nothing; these do not share a server,
   so what the fan-out adds over one of them is esap-lab's own cost;
2. five entries of the one local DaCHS (the same service under five ids): bounded by what that
   single service can do at once on this machine's cores (printed too, as raw requests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer, free_port  # noqa: E402

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


def measure(archives: list[dict], request: dict, repeat: int) -> tuple[float, float, int]:
    """(slowest single archive's median, fan-out median, rows per archive) through one server."""
    ids = [a["id"] for a in archives]
    server = BenchServer({"archives": archives, "query_timeout": 300})
    try:
        for a in ids:  # warm up (imports, connections, the services' caches)
            server.call("POST", f"archives/{a}/queries?wait=60", request)
        singles: dict[str, list[float]] = {a: [] for a in ids}
        fanout: list[float] = []
        rows = 0
        for _ in range(repeat):
            for a in ids:
                t0 = time.perf_counter()
                info = server.call("POST", f"archives/{a}/queries?wait=60", request)
                singles[a].append(time.perf_counter() - t0)
                assert info["status"] == "completed", info
                rows = info["row_count"]
            t0 = time.perf_counter()
            res = server.call("POST", "searches?wait=60", {"request": request, "archives": ids})
            fanout.append(time.perf_counter() - t0)
            assert res["status"] == "completed" and all(e["status"] == "completed" for e in res["archives"]), res
        return max(statistics.median(t) for t in singles.values()), statistics.median(fanout), rows
    finally:
        server.stop()


def report(title: str, slowest: float, many: float) -> None:
    print(title)
    print(f"  slowest single archive: {slowest * 1000:8.1f} ms")
    print(f"  fan-out over all {len(IDS)}:    {many * 1000:8.1f} ms")
    print(f"  ratio fan-out / slowest single: {many / slowest:.2f}x (target <= 1.2x; "
          f"in sequence it would be about {len(IDS)}x)")


def independent(request: dict, radius: float, repeat: int, latency: float | None) -> None:
    url = f"{VO}/esapdemo/q/cone/scs.xml"
    params = {"RA": request["ra"], "DEC": request["dec"], "SR": radius}
    times = []
    for _ in range(max(3, repeat)):
        t0 = time.perf_counter()
        body = requests.get(url, params=params, timeout=60).content
        times.append(time.perf_counter() - t0)
    delay = statistics.median(times) if latency is None else latency
    tmp = Path(tempfile.mkdtemp(prefix="esap-fanout-"))
    (tmp / "answer.xml").write_bytes(body)
    ports = [free_port() for _ in IDS]
    procs = [subprocess.Popen([sys.executable, str(Path(__file__).parent / "_replay.py"), str(p),
                               str(tmp / "answer.xml"), str(delay)]) for p in ports]
    try:
        for p in ports:
            for _ in range(100):
                try:
                    requests.get(f"http://127.0.0.1:{p}/", timeout=5)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
        archives = [{"id": a, "title": f"Archive {a[-1]}", "scs": f"http://127.0.0.1:{p}/scs.xml"}
                    for a, p in zip(IDS, ports, strict=True)]
        slowest, many, rows = measure(archives, request, repeat)
        report(f"five independent archives (the DaCHS answer, {rows} rows, {len(body) / 1024:.0f} KiB, each after "
               f"{delay * 1000:.0f} ms), median of {repeat}", slowest, many)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--radius", type=float, default=0.3, help="cone radius, degrees")
    ap.add_argument("--latency", type=float, default=None,
                    help="seconds each independent archive takes (default: what DaCHS took)")
    args = ap.parse_args()
    request = {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": args.radius}
    independent(request, args.radius, args.repeat, args.latency)
    slowest, many, rows = measure(ARCHIVES, request, args.repeat)
    report(f"five entries of the one local DaCHS, {rows} rows each, median of {args.repeat}", slowest, many)
    print(f"  the service alone, {len(IDS)} raw requests at once / one: {service_floor(args.radius, args.repeat):.2f}x "
          "(what one shared DaCHS allows)")


if __name__ == "__main__":
    main()
