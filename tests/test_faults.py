"""Faults: a broken or slow archive or Rucio answers a 502/504 naming it, in plain words, within
its deadline, and slows nothing else.

A TCP proxy this file controls (asyncio, in a thread of its own, on 127.0.0.1) sits between
esap-lab and the real DaCHS or Rucio and misbehaves on demand: ``refuse`` (nothing listens),
``hang`` (takes the request, never answers), ``cut`` (closes mid-answer), ``trickle`` (100 B/s).
The fault table (mode, answer, time, healthy-call p95) is printed at the end.
"""

from __future__ import annotations

import asyncio
import http.server
import os
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import pytest
from conftest import LOCAL_ARCHIVE, VO_URL, poll_until

RUCIO = os.environ.get("ESAP_TEST_RUCIO_HOST", "http://127.0.0.1:18080")
DEADLINE = 3.0  # the "timeout" of the faulty services: one request may take this long in all
MARGIN = 3.0  # what the answer may take beyond it (a loaded two-core CI machine)
TRICKLING = 8
TAP = {"kind": "tap", "query": "SELECT TOP 5 source_id, ra, dec FROM esapdemo.sources"}
CONE = {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}


class FaultProxy:
    """A TCP proxy from a free port on 127.0.0.1 to ``upstream`` (host:port), misbehaving by ``mode``."""

    CUT_AFTER = 600  # bytes of the answer passed on before the connection is cut
    TRICKLE = 10  # bytes every 0.1 s: 100 B/s

    def __init__(self, upstream: str, mode: str):
        self.upstream = urlsplit(upstream)
        self.mode = mode
        self.open = 0  # client connections open now
        self.connections = 0  # client connections seen
        with socket.socket() as s:  # a free port; in "refuse" mode nothing will listen on it
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self._server = None
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), name=f"proxy-{mode}", daemon=True)
        self.thread.start()
        started.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        if self.mode != "refuse":
            self._server = self.loop.run_until_complete(
                asyncio.start_server(self._client, "127.0.0.1", self.port, reuse_address=True))
        started.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.connections += 1
        tasks = []
        try:
            if self.mode == "hang":
                while await reader.read(65536):
                    pass  # read the request, never answer
                return
            up_reader, up_writer = await asyncio.open_connection(self.upstream.hostname, self.upstream.port)
            tasks = [asyncio.ensure_future(self._pipe(reader, up_writer, None)),
                     asyncio.ensure_future(self._pipe(up_reader, writer, self.mode))]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            up_writer.close()
        except OSError:
            pass
        finally:
            for t in tasks:
                t.cancel()
            writer.close()
            self.open -= 1

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, mode: str | None) -> None:
        sent = 0
        while True:
            data = await src.read(self.TRICKLE if mode == "trickle" else 65536)
            if not data:
                return
            if mode == "cut" and sent + len(data) >= self.CUT_AFTER:
                dst.write(data[: self.CUT_AFTER - sent])
                await dst.drain()
                return  # and the connection is closed, mid-answer
            dst.write(data)
            await dst.drain()
            sent += len(data)
            if mode == "trickle":
                await asyncio.sleep(0.1)

    def close(self) -> None:
        async def stop():
            if self._server is not None:
                self._server.close()
            for t in asyncio.all_tasks():
                if t is not asyncio.current_task():
                    t.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


MODES = ("refuse", "hang", "cut", "trickle")
TABLE: list[tuple] = []  # (call, mode, answer, seconds, healthy p95)


@pytest.fixture(scope="module")
def proxies():
    made = {f"vo-{m}": FaultProxy(VO_URL, m) for m in MODES}
    made |= {f"vo-slow{i}": FaultProxy(VO_URL, "trickle") for i in range(TRICKLING)}
    made |= {f"rucio-{m}": FaultProxy(RUCIO, m) for m in ("hang", "trickle")}
    yield made
    for p in made.values():
        p.close()


@pytest.fixture(scope="module")
def redirector():
    """An HTTP server on 127.0.0.1 that redirects every request to the same path on DaCHS, but
    under the name "localhost": another host (same address)."""
    target = urlsplit(VO_URL)

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{target.port}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _through(proxy: FaultProxy, aid: str) -> dict:
    return {"id": aid, "title": f"Faulty archive {aid}", "timeout": DEADLINE if "slow" not in aid else 60,
            "tap": f"{proxy.url}/tap", "scs": f"{proxy.url}/esapdemo/q/cone/scs.xml"}


@pytest.fixture
def esap_archives(proxies, redirector):
    return [LOCAL_ARCHIVE] + [_through(p, aid) for aid, p in proxies.items() if aid.startswith("vo-")] + [
        {"id": "redirects", "title": "Redirecting archive", "tap": f"{redirector}/tap"},
        {"id": "private", "title": "Private archive", "tap": "http://10.255.255.1/tap"},
        {"id": "loopback6", "title": "Loopback archive", "tap": f"http://[::1]:{urlsplit(VO_URL).port}/tap"},
    ]


def _rucio(name: str, host: str) -> dict:
    return {"name": name, "title": f"Rucio {name}", "rucio_host": host,
            "account": os.environ.get("ESAP_TEST_RUCIO_ACCOUNT", "alice"),
            "username": os.environ.get("ESAP_TEST_RUCIO_USERNAME", "alice"), "auth_type": "userpass",
            "password_env": "ESAP_TEST_RUCIO_PASSWORD", "timeout": DEADLINE, "download_folder": "rucio"}


@pytest.fixture
def esap_config(proxies):
    return {"rucio_instances": [_rucio("lake", RUCIO)] + [_rucio(aid, p.url) for aid, p in proxies.items()
                                                          if aid.startswith("rucio-")]}


async def timed(coro):
    t0 = time.perf_counter()
    out = await coro
    return time.perf_counter() - t0, out


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]


async def healthy_calls(api, page_of: str, seconds: float) -> list[float]:
    """Latencies of calls that need no faulty service: a query to the direct archive, a page of
    a finished query, GET /basket, a Rucio scope list on the direct instance."""
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for call in (api("POST", "archives", "local", "queries", body=CONE, params={"wait": "10"}, expect=201),
                     api("GET", "queries", page_of, "rows", params={"offset": 0, "limit": 50}, expect=200),
                     api("GET", "basket", expect=200),
                     api("GET", "rucio", "lake", "scopes", expect=200)):
            t, _ = await timed(call)
            times.append(t)
    return times


def close_wait(ports: set[int]) -> list[str]:
    """Sockets of this process (the server's) in CLOSE-WAIT whose peer is one of ``ports``."""
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            mine.add(link[8:-1])
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            remote_port, state = int(cols[2].rsplit(":", 1)[1], 16), cols[3]
            if state == "08" and remote_port in ports and cols[9] in mine:
                out.append(line)
    return out


async def test_each_fault_is_a_plain_502_or_504_within_the_deadline(api, proxies, capsys):
    TABLE.clear()
    # a healthy query, for the paging calls and to warm up the direct paths
    _, done = await api("POST", "archives", "local", "queries", body=TAP, params={"wait": "10"}, expect=201)
    await healthy_calls(api, done["id"], 0.5)  # warm-up: the first Rucio login, the first cone search
    baseline = p95(await healthy_calls(api, done["id"], 2.0))
    expect = {"refuse": (502, "is unreachable: the connection was refused", "remote-unreachable"),
              "hang": (504, "timed out", "remote-timeout"),
              "cut": (502, "answered something unreadable", "remote-unreadable"),
              "trickle": (504, "timed out", "remote-timeout")}
    for mode in MODES:
        aid = f"vo-{mode}"
        t, (code, err) = await timed(api("POST", "archives", aid, "queries", body=TAP, params={"wait": "30"}))
        TABLE.append(("archive (TAP sync)", mode, f"{code} {err.get('reason')}", t, None))
        status, words, reason = expect[mode]
        assert code == status, (mode, code, err)
        assert err["service"] == f"Faulty archive {aid}" and words in err["message"], err
        assert err["reason"] == reason and "Pool(" not in err["message"], err
        assert t < DEADLINE + MARGIN, (mode, t)
    for mode in ("hang", "trickle"):
        t, (code, err) = await timed(api("GET", "rucio", f"rucio-{mode}", "scopes"))
        TABLE.append(("Rucio (scopes)", mode, f"{code} {err.get('reason')}", t, None))
        assert code == 504 and "timed out" in err["message"] and "Rucio" in err["service"], err
        assert t < DEADLINE + MARGIN, (mode, t)
    TABLE.append(("healthy calls, nothing slow", "-", "200/201", None, baseline))

    # eight queries reading trickling answers: the healthy calls stay fast meanwhile
    slow = [f"vo-slow{i}" for i in range(TRICKLING)]
    started = [(await api("POST", "archives", aid, "queries", body=TAP, params={"wait": "0"}, expect=201))[1]
               for aid in slow]
    for _ in range(50):
        if all(proxies[aid].open for aid in slow):
            break
        await asyncio.sleep(0.1)
    assert all(proxies[aid].open for aid in slow), [(proxies[aid].open, proxies[aid].connections) for aid in slow]
    busy = await healthy_calls(api, done["id"], 4.0)
    busy_p95 = p95(busy)
    states = [(await api("GET", "queries", info["id"], expect=200))[1]["status"] for info in started]
    assert states == ["running"] * TRICKLING, "the slow queries still run"
    TABLE.append((f"healthy calls, {TRICKLING} trickling queries", "trickle", "200/201", None, busy_p95))
    # 200 ms, unless the machine is so loaded that the same calls take longer with nothing slow
    assert busy_p95 < max(0.2, 2 * baseline), (busy_p95, baseline)

    # cancel stops the reading at once, and leaves no socket behind
    cancel_times = []
    t0 = time.perf_counter()
    for info in started:
        t, _ = await timed(api("DELETE", "queries", info["id"], expect=204))
        cancel_times.append(t)
    for _ in range(40):
        if not any(proxies[aid].open for aid in slow):
            break
        await asyncio.sleep(0.05)
    stopped = time.perf_counter() - t0
    TABLE.append(("cancel of a trickling query", "trickle", "204", max(cancel_times), None))
    TABLE.append((f"all {TRICKLING} connections closed after", "trickle", "-", stopped, None))
    assert not [aid for aid in slow if proxies[aid].open], "a cancelled query still reads"
    assert max(cancel_times) < 2.0, cancel_times

    _, queries = await api("GET", "queries", expect=200)
    assert not [q for q in queries["queries"] if q["status"] in ("queued", "running")], queries
    await asyncio.sleep(0.5)
    peers = {p.port for p in proxies.values()} | {urlsplit(VO_URL).port, urlsplit(RUCIO).port}
    assert not close_wait(peers), "sockets left in CLOSE-WAIT"
    print_table(capsys)


def print_table(capsys) -> None:
    with capsys.disabled():
        print(f"\n{'call':36} {'mode':8} {'answer':28} {'time':>7} {'healthy p95':>12}")
        for what, mode, answer, t, hp95 in TABLE:
            ts = f"{t:6.2f}s" if t is not None else ""
            hs = f"{hp95 * 1000:9.0f} ms" if hp95 is not None else ""
            print(f"{what:36} {mode:8} {answer:28} {ts:>7} {hs:>12}")


async def test_the_outbound_policy_refuses_other_hosts_and_private_addresses(api):
    """Redirects to another host, and private, link-local, unspecified or loopback addresses the
    admin did not allow (the tests allow 127.0.0.1 only), are refused: archives answer a 502
    naming the archive, staged URLs fail naming the rule."""
    cases = {"redirects": "redirected to localhost, another host",
             "private": "10.255.255.1 is a private address",
             "loopback6": "::1 is a loopback address"}
    for aid, words in cases.items():
        t, (code, err) = await timed(api("POST", "archives", aid, "queries", body=TAP, params={"wait": "10"}))
        assert code == 502 and err["reason"] == "outbound-refused" and words in err["message"], err
        assert "outbound_" in err["message"] and t < 2, (err, t)
    _, archives = await api("GET", "archives", expect=200)
    reachable = {a["id"]: a["reachable"] for a in archives["archives"]}
    assert reachable["local"] is True and not any(reachable[aid] for aid in cases), reachable

    urls = ["http://0/x.fits", "http://169.254.169.254/latest/meta-data", f"http://[::1]:{urlsplit(VO_URL).port}/"]
    code, t = await api("POST", "staging", body={"urls": urls, "destination": "refused"})
    if code == 400:  # refused up front
        assert "does not connect to" in t["message"], t
        return
    assert code == 201, t
    t = await poll_until(api, "staging", t["id"], until=("completed", "error", "cancelled"), timeout=30, interval=0.2)
    assert t["status"] == "error", t
    messages = [f["message"] for f in t["files"]]
    assert all("which this server does not connect to" in m for m in messages), messages
