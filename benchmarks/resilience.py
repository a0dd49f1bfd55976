"""Resilience: how much slow archives slow everything else.

    python benchmarks/resilience.py [--repeat 20]

For N = 0, 4 and 16 archives answering at 100 B/s (a TCP proxy in this process trickles the real
DaCHS's answers) with one query each in progress, the median and p95 latency of a cone search on
the healthy local archive (POST, wait for the result) and of GET /basket, and the ratio of each
median to its N=0 figure (target at N=16: <= 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer

VO = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
LOCAL = {"id": "local", "title": "Local demo archive", "tap": f"{VO}/tap", "scs": f"{VO}/esapdemo/q/cone/scs.xml"}
CONE = {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}
SLOW_QUERY = {"kind": "tap", "query": "SELECT TOP 1000 source_id, ra, dec FROM esapdemo.sources"}
COUNTS = (0, 4, 16)


class Trickle:
    """TCP proxies on 127.0.0.1 to ``upstream`` passing the answers on at 100 B/s (one thread)."""

    def __init__(self, upstream: str, n: int):
        self.upstream = urlsplit(upstream)
        self.loop = asyncio.new_event_loop()
        self.ports: list[int] = []
        ready = threading.Event()
        threading.Thread(target=self._run, args=(n, ready), daemon=True).start()
        ready.wait(10)

    def _run(self, n: int, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        for _ in range(n):
            server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
            self.ports.append(server.sockets[0].getsockname()[1])
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.upstream.hostname, self.upstream.port)
        except OSError:
            writer.close()
            return

        async def pipe(src, dst, slow: bool):
            while data := await src.read(10 if slow else 65536):
                dst.write(data)
                await dst.drain()
                if slow:
                    await asyncio.sleep(0.1)

        tasks = [asyncio.ensure_future(pipe(reader, up_writer, False)),
                 asyncio.ensure_future(pipe(up_reader, writer, True))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for t in tasks:
                t.cancel()
            writer.close()
            up_writer.close()


def measure(server: BenchServer, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cone search on the healthy archive": [], "GET /basket": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        info = server.call("POST", "archives/local/queries?wait=30", CONE)
        assert info["status"] == "completed", info
        t1 = time.perf_counter()
        server.call("GET", "basket")
        t2 = time.perf_counter()
        times["cone search on the healthy archive"].append(t1 - t0)
        times["GET /basket"].append(t2 - t1)
    return times


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    proxies = Trickle(VO, max(COUNTS))
    slow = [{"id": f"slow{i}", "title": f"Slow archive {i}", "timeout": 600,
             "tap": f"http://127.0.0.1:{port}/tap"} for i, port in enumerate(proxies.ports)]
    server = BenchServer({"archives": [LOCAL, *slow], "query_timeout": 60})
    try:
        measure(server, 3)  # warm-up (imports, connections, the first result file)
        print(f"esap-lab resilience benchmark: latency while N archives answer at 100 B/s "
              f"({args.repeat} calls each, in rounds alternating N; DaCHS on loopback)")
        print(f"{'call':36} {'N':>3} {'median':>9} {'p95':>9} {'ratio N/0':>10}")
        # rounds alternate N = 0, 4, 16 so a change of the machine's load touches every N alike
        times = {n: {} for n in COUNTS}
        per_round = 5
        for _ in range(max(1, args.repeat // per_round)):
            for n in COUNTS:
                running = [server.call("POST", f"archives/slow{i}/queries?wait=0", SLOW_QUERY) for i in range(n)]
                time.sleep(0.5)  # every slow query is reading its trickle now
                for name, xs in measure(server, per_round).items():
                    times[n].setdefault(name, []).extend(xs)
                states = [server.call("GET", f"queries/{q['id']}")["status"] for q in running]
                assert all(s == "running" for s in states), states
                for q in running:
                    server.call("DELETE", f"queries/{q['id']}")
        for name in times[0]:
            base = statistics.median(times[0][name])
            for n in COUNTS:
                xs = times[n][name]
                med = statistics.median(xs)
                target = "  (target <= 1.5)" if n == max(COUNTS) else ""
                print(f"{name:36} {n:>3} {med * 1000:7.1f}ms {p95(xs) * 1000:7.1f}ms {med / base:>10.2f}{target}")
    finally:
        server.stop()


if __name__ == "__main__":
    socket.setdefaulttimeout(120)
    main()
