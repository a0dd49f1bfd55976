"""Plain URL downloads: a bounded pool of threads, each streaming one file (esap_lab.staging.urls)
with size and checksum checks; progress is reported per chunk, a cancel stops at the next one."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from ..operations import Run
from . import urls as urlfetch


class UrlDownloads:
    def __init__(self, timeout: float, threads: int = 8):
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="esap-lab-url")

    async def download(self, run: Run, files: list[dict]) -> None:
        """Fetch ``files`` (the transfer's file dicts: ``state``, ``bytes_done``, ``message`` are
        kept up to date here, read by the progress watcher)."""
        loop = asyncio.get_running_loop()

        def one(f: dict) -> None:
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

        await asyncio.gather(*(loop.run_in_executor(self._pool, one, f) for f in files))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
