"""Plain URL downloads: each host has a small bounded pool of threads of its own (esap_lab.executors,
``url:<host>``), each thread streaming one file (esap_lab.staging.urls) with size and checksum
checks, so a slow host slows only its own files. Progress is reported per chunk, a cancel stops
at the next one."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from urllib.parse import urlsplit

from .. import executors
from ..operations import Run
from . import urls as urlfetch


def host_of(url: str) -> str:
    """The pool a URL's download runs in: its host (and port, when given)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return ""


class UrlDownloads:
    def __init__(self, timeout: float, threads: int = executors.WORKERS):
        self.timeout = timeout
        self.threads = threads  # per host
        self._pending: set[Future] = set()

    async def download(self, run: Run, files: list[dict]) -> None:
        """Fetch ``files`` (the transfer's file dicts: ``state``, ``bytes_done``, ``message`` are
        kept up to date here, read by the progress watcher)."""

        def one(f: dict) -> None:
            if run.cancelled.is_set():
                f["state"] = "cancelled"
                return

            def progress(n: int) -> None:
                f["bytes_done"] = n

            try:
                n = urlfetch.fetch(f["url"], f["path"], size=f.get("bytes"), checksum=f.get("checksum"),
                                   cancelled=run.cancelled, progress=progress, timeout=self.timeout)
                f["state"], f["bytes_done"] = "done", n
                if f.get("bytes") is None:
                    f["bytes"] = n
            except urlfetch.Cancelled:
                f["state"] = "cancelled"
            except urlfetch.FetchError as e:
                f["state"], f["message"] = "error", str(e)

        futures = [executors.pool(f"url:{host_of(f['url'])}", self.threads).submit(one, f) for f in files]
        self._pending.update(futures)
        try:
            await asyncio.gather(*(asyncio.wrap_future(fut) for fut in futures))
        finally:
            self._pending.difference_update(futures)

    def shutdown(self) -> None:
        """Drop the files still waiting for a thread (the pools are shared: they stay)."""
        for fut in list(self._pending):
            fut.cancel()
