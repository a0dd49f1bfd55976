"""The download worker: a child process of the server that runs rucio's DownloadClient.

    python -m esap_lab.staging.fetch  < spec.json  > results.json

A process (not a thread) so that cancelling a transfer really stops it: the server kills the
process group and removes the partial files. The spec comes through stdin (it carries the
connection's credentials; never argv or the environment). Files are split in shards, each
downloaded by its own DownloadClient (each runs up to 5 threads), so many small files go
faster than one client can; every file is checksum-verified by the DownloadClient. A file
whose first replica fails is tried again from its next replica.

Output: one JSON object {did: {"state": DONE|ALREADY_DONE|FAILED|..., "path": ...}}.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

CLIENT_THREADS = 5  # DownloadClient's own ceiling
WORKER_CONFIG_ENV = "ESAP_LAB_RUCIO_WORKER_CONFIG"


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: a dead server takes its workers along
    except OSError:
        pass


def write_client_config(path, multi_vo: bool) -> str:
    """rucio-clients' DownloadClient reads a few settings from a rucio.cfg (multi-VO, scope
    extraction): the worker gets one of its own, without secrets, instead of whatever the machine
    has (the connection itself is always given explicitly)."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(f"[common]\nmulti_vo = {multi_vo}\n[client]\n")  # [client]: rucio runs as a client
    return str(path)


def _client_config(conn: dict) -> None:
    os.environ["RUCIO_CLIENT_MODE"] = "1"
    if os.environ.get(WORKER_CONFIG_ENV):  # given by the server (and possibly already read)
        os.environ["RUCIO_CONFIG"] = os.environ[WORKER_CONFIG_ENV]
        return
    from pathlib import Path

    os.environ["RUCIO_CONFIG"] = write_client_config(Path(conn["token_dir"]) / "rucio.cfg", bool(conn.get("vo")))


def _use_client_for_rse_info(client) -> None:
    """rucio's RSE manager builds its own clients from the configuration file (which has no
    credentials here): make it ask ours."""
    from rucio.rse import rsemanager

    def rse_info(rse, vo=None, **_):
        return client.get_rse(rse)

    def signed_url(rse, service, op, url, vo=None):
        return client.get_signed_url(rse, service, op, url)

    setattr(rsemanager, "__request_rse_info", rse_info)
    setattr(rsemanager, "__get_signed_url", signed_url)


class TraceSender:
    """Rucio's download traces (popularity, monitoring), sent from a thread of their own over one
    kept-alive connection, instead of a new connection each inside the download threads."""

    def __init__(self, client):
        import queue

        import requests

        self.endpoint = client.trace_host.rstrip("/") + "/traces/"
        self.headers = {"User-Agent": client.user_agent, "Content-Type": "application/json"}
        self.verify = client.ca_cert if client.ca_cert not in (None, True) else True
        self.queue: queue.Queue = queue.Queue()
        self.session = requests.Session()
        self.thread = threading.Thread(target=self._run, name="rucio-traces", daemon=True)
        self.thread.start()

    def put(self, trace: dict) -> None:
        self.queue.put(json.dumps(trace, default=str))

    def _run(self) -> None:
        while (body := self.queue.get()) is not None:
            for _ in range(3):
                try:
                    self.session.post(self.endpoint, data=body, headers=self.headers, timeout=10, verify=self.verify)
                    break
                except Exception:  # noqa: BLE001 - a lost trace never fails a download
                    continue

    def close(self, timeout: float) -> None:
        self.queue.put(None)
        self.thread.join(timeout)


def download(spec: dict, senders: list | None = None) -> dict[str, dict]:
    """Download the spec's files; -> {did: {"state": ...}}. Trace senders still busy are added to
    ``senders`` for the caller to close (without it, they are closed before returning)."""
    _client_config(spec["connection"])
    from rucio.client.downloadclient import DownloadClient

    from .sessions import make_client, quiet_logger

    quiet = quiet_logger("esap_lab.staging.fetch")
    quiet.setLevel(logging.CRITICAL)  # per-file failures come back in the result, not on stderr
    conn = spec["connection"]
    client = make_client(conn, quiet)
    _use_client_for_rse_info(client)
    closing, senders = senders is None, [] if senders is None else senders
    tracer = TraceSender(client) if conn.get("tracing", True) else None
    if tracer is not None:
        senders.append(tracer)
    files = spec["files"]
    parallel = max(1, int(spec.get("parallel", 8)))
    results: dict[str, dict] = {}
    attempt = 0
    todo = [f for f in files if f.get("pfns")]
    for f in files:
        if not f.get("pfns"):
            results[f["did"]] = {"state": "FILE_NOT_FOUND"}
    folders = {f["base_dir"] for f in todo} | {os.path.dirname(f["path"]) for f in todo if f.get("path")}
    for folder in folders:  # made once here: the shards would race for them
        os.makedirs(folder, exist_ok=True)
    while todo:
        shards_n = max(1, min(len(todo), -(-parallel // CLIENT_THREADS)))
        shards = [todo[i::shards_n] for i in range(shards_n)]

        def run(shard: list[dict]) -> list[dict]:
            dl = DownloadClient(client=client, logger=quiet, tracing=tracer is not None)
            if tracer is not None:
                dl._send_trace = tracer.put
            items = []
            for f in shard:
                pfn, rse = f["pfns"][min(attempt, len(f["pfns"]) - 1)]
                item = {"pfn": pfn, "rse": rse, "did": f["did"], "base_dir": f["base_dir"], "no_subdir": True}
                for algo in ("adler32", "md5"):
                    if f.get(algo):
                        item[algo] = f[algo]
                items.append(item)
            per_thread = min(CLIENT_THREADS, max(1, -(-parallel // shards_n)))
            return dl.download_pfns(items, num_threads=per_thread, deactivate_file_download_exceptions=True)

        with ThreadPoolExecutor(len(shards)) as pool:
            outputs = [o for out in pool.map(run, shards) for o in out]
        by_did = {f"{o['scope']}:{o['name']}": o for o in outputs}
        retry = []
        for f in todo:
            o = by_did.get(f["did"], {})
            state = o.get("clientState", "FAILED")
            results[f["did"]] = {"state": state}
            if state not in ("DONE", "ALREADY_DONE") and attempt + 1 < len(f["pfns"]):
                retry.append(f)
        todo, attempt = retry, attempt + 1
    if tracer is not None and closing:
        tracer.close(timeout=60)
    return results


def main() -> None:
    _die_with_parent()
    if os.environ.get(WORKER_CONFIG_ENV):
        # a worker started ahead of time: do the slow imports now, then wait for the spec
        os.environ["RUCIO_CONFIG"] = os.environ[WORKER_CONFIG_ENV]
        os.environ["RUCIO_CLIENT_MODE"] = "1"
        import rucio.client.downloadclient  # noqa: F401
    spec = json.load(sys.stdin)
    senders: list[TraceSender] = []
    try:
        out = {"results": download(spec, senders)}
    except Exception as e:  # noqa: BLE001 - reported to the server, which translates it
        out = {"error": type(e).__name__, "message": " ".join(str(e).split())[:2000]}
    json.dump(out, sys.stdout)
    sys.stdout.flush()
    sys.stdout.close()  # the server has the result; the traces follow in their own time
    for sender in senders:
        sender.close(timeout=60)


if __name__ == "__main__":
    main()
