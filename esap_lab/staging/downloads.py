"""Download mode (Rucio files and plain URLs): both kinds at once, progress written while the
files grow, the outcome per file and for the transfer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from ..errors import EsapError
from ..operations import Run
from . import urls as urlfetch
from .store import TransferRecord, TransferStore
from .urlpool import UrlDownloads
from .workers import DownloadWorkers

PROGRESS_EVERY = 0.25  # seconds between two progress writes to the database (at least)
MAX_PAUSE = 3.0  # seconds between two progress writes (at most)


class Downloads:
    def __init__(self, sessions: Any, store: TransferStore, workers: DownloadWorkers, urls: UrlDownloads):
        self.sessions = sessions
        self.store = store
        self.workers = workers
        self.urls = urls

    async def run(self, run: Run, rec: TransferRecord) -> None:
        files = rec.files
        for f in files:
            if f["state"] != "done":
                f["state"], f["message"] = "running", None
        did_files = [f for f in files if f.get("did") and f["state"] != "done"]
        url_files = [f for f in files if f.get("url") and f["state"] != "done"]
        watcher = asyncio.get_running_loop().create_task(self._watch(rec))
        try:
            results = await asyncio.gather(self._dids(run, rec, did_files), self.urls.download(run, url_files),
                                           return_exceptions=True)
        finally:
            watcher.cancel()
        if run.cancelled.is_set() or run.stopping:
            return
        errors = [r for r in results if isinstance(r, BaseException)]
        for e in errors:
            if not isinstance(e, EsapError):
                raise e
        done = [f for f in files if f["state"] == "done"]
        failed = [f for f in files if f["state"] != "done"]
        values: dict[str, Any] = {"files": files, "files_done": len(done), "bytes_done": bytes_done(files)}
        if errors:
            await self.store.db.run(self.store.update, rec.id, values)
            raise errors[0]  # recorded by the runner (status, reason, service)
        if failed:
            first = "; ".join(f"{f.get('did') or f.get('url')}: {f.get('message') or 'failed'}" for f in failed[:3])
            values.update(status="error", reason="files-failed", error_status=502,
                          message=f"{len(failed)} of {len(files)} file(s) could not be staged: {first}")
        else:
            values.update(status="completed", message=None)
        await self.store.db.run(self.store.update, rec.id, values)

    async def _dids(self, run: Run, rec: TransferRecord, files: list[dict]) -> None:
        if not files:
            return
        cfg = self.sessions.config(rec.instance)
        conn = await self.sessions.offload(cfg.name, self.sessions.connection, cfg.name)
        await self.workers.download(run, cfg, conn, files, rec.destination)

    async def _watch(self, rec: TransferRecord) -> None:
        """Progress of a running download, from the files as they grow and complete: written every
        PROGRESS_EVERY seconds, less often when a write is slow (many files: the list is large)."""
        files = rec.files
        since = time.time() - 1
        pause = PROGRESS_EVERY
        while True:
            await asyncio.sleep(pause)
            began = time.monotonic()
            await asyncio.to_thread(measure, files, since)
            await self.store.db.run(self.store.update, rec.id, {
                "files": [dict(f) for f in files], "bytes_done": bytes_done(files),
                "files_done": sum(f["state"] == "done" for f in files),
                "bytes_total": rec.bytes_total if rec.bytes_total is not None else total(files)})
            # never more than a few seconds apart, however slow the database is
            pause = min(MAX_PAUSE, max(PROGRESS_EVERY, 10 * (time.monotonic() - began)))


def bytes_done(files: list[dict]) -> int:
    return sum(int(f.get("bytes_done") or 0) for f in files)


def total(files: list[dict]) -> int | None:
    sizes = [f.get("bytes") for f in files]
    return None if None in sizes else sum(sizes)


def measure(files: list[dict], since: float) -> None:
    """bytes_done of the running files, from the partial and final files on disk. rucio's
    DownloadClient renames a file into place only once its checksum is verified, so a final file
    written during this run (and no partial one left) is done."""
    for f in files:
        if f["state"] != "running" or not f.get("path") or f.get("url"):
            continue  # URL downloads report their own progress
        final, part = Path(f["path"]), urlfetch.part_path(f["path"])
        try:
            f["bytes_done"] = part.stat().st_size
            continue
        except OSError:
            pass
        try:
            st = final.stat()
        except OSError:
            continue
        f["bytes_done"] = st.st_size
        if st.st_mtime >= since and st.st_size == f.get("bytes"):
            f["state"] = "done"


def remove_partials(files: list[dict]) -> None:
    for f in files:
        if f.get("path") and f["state"] != "done":
            urlfetch.part_path(f["path"]).unlink(missing_ok=True)
            if f.get("url"):
                continue
            # a Rucio file not verified yet (the worker was killed between rename and report)
            p = Path(f["path"])
            if f.get("bytes") is not None and p.is_file() and p.stat().st_size != f["bytes"]:
                p.unlink(missing_ok=True)
