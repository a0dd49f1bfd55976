"""Transfers: Rucio downloads, replication rules and plain URLs, tracked in the database.

A transfer is planned and checked when it is asked for (unknown DIDs, files without any
replica, a destination outside the server root, refused credentials all fail the request
itself; staging.planning), then runs in the background on the common lifecycle of long
operations (esap_lab.operations: queued -> running -> completed | error | cancelled):

- download: rucio's DownloadClient in a worker process (staging.workers), plain URLs in a pool
  of threads (staging.urlpool), progress read from the growing files (staging.downloads);
- replica: a replication rule (with a lifetime) to the instance's destination RSE, polled
  every ``poll_interval`` until its locks are OK (staging.replicas).

The same request twice reuses the transfer (a key over what is staged and where). A server
restart resumes what was running: downloads start again (files already complete and verified
are kept), rules are polled again. DELETE cancels a running transfer (the worker is killed,
partial files removed, rules deleted) and forgets an ended one. A transfer that runs longer
than ``deadline`` seconds (if set) is stopped as an error (reason ``deadline``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from ..db import Database
from ..errors import BadRequest
from ..operations import Run, Runner, cancel_or_forget, wait_until
from .dids import list_contents
from .downloads import Downloads, bytes_done, remove_partials
from .models import ACTIVE, DidContents, StageBody, TransferInfo
from .planning import Planner
from .replicas import RuleTracker
from .sessions import RucioSessions
from .store import TransferRecord, TransferStore, utcnow
from .urlpool import UrlDownloads
from .workers import DownloadWorkers


class StagingManager:
    def __init__(self, db: Database, sessions: RucioSessions, root_dir: str | os.PathLike, *,
                 basket: Any = None, url_timeout: float = 60.0, python: str | None = None,
                 deadline: float | None = None):
        self.db = db
        self.sessions = sessions
        self.root = Path(root_dir).resolve()
        self.store = TransferStore(db)
        self.planner = Planner(self.root, sessions, basket)
        self.rules = RuleTracker(sessions, self.store)
        self.workers = DownloadWorkers(python or sys.executable, sessions.token_dir)
        self.urls = UrlDownloads(url_timeout)
        self.downloads = Downloads(sessions, self.store, self.workers, self.urls)
        self.runner = Runner("transfer", self._record_failure, deadline)
        self._submit_locks: dict[str, asyncio.Lock] = {}

    def under_root(self, folder: str) -> Path:
        return self.planner.under_root(folder)

    # -- asking for a transfer -----------------------------------------------------------------
    async def submit(self, body: StageBody) -> tuple[TransferInfo, bool]:
        """-> (the transfer, whether it is new). The same request again reuses the transfer."""
        dids, urls, instance = await self.planner.expand(self.db, body)
        cfg = self.sessions.config(instance) if dids else None
        if body.mode == "replica":
            if urls:
                raise BadRequest("URLs can only be downloaded; stage them with mode \"download\".",
                                 reason="bad-mode")
            if not (cfg.destination_rse and cfg.rse_mount_path):
                raise BadRequest(f"Rucio instance {cfg.name} has no replica mode: the administrator has not set "
                                 "destination_rse and rse_mount_path.", reason="no-replica-mode")
            mode, destination = "replica", str(Path(cfg.rse_mount_path))
        else:
            mode = "download" if dids else "url"
            folder = body.destination or (cfg.download_folder if cfg else "downloads")
            destination = str(self.under_root(folder))
        target = cfg.destination_rse if mode == "replica" else destination
        key = hashlib.sha256(json.dumps([mode, instance if dids else None, sorted(dids),
                                         sorted(u.url for u in urls), target]).encode()).hexdigest()
        lock = self._submit_locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # the same request twice at once: one transfer
                rec, created = await self._create(key, body, cfg, dids, urls, instance, mode, destination)
        finally:
            if not lock.locked():
                self._submit_locks.pop(key, None)
        if created:
            self.runner.spawn(rec.id, self._run)
        return rec.info(self.root), created

    async def _create(self, key, body, cfg, dids, urls, instance, mode, destination) -> tuple[TransferRecord, bool]:
        existing = await self.db.run(self._reusable, key)
        if existing is not None:
            return existing, False
        files, rule = [], None
        if dids:
            files, rule = await self.sessions.call(instance, self._plan_dids, cfg, dids, mode, destination,
                                                   body.lifetime)
        files += await asyncio.to_thread(self.planner.plan_urls, urls, destination, {f["path"] for f in files})
        now = utcnow()
        sizes = [f.get("bytes") for f in files]
        rec = TransferRecord(
            id=uuid.uuid4().hex, key=key, mode=mode, instance=instance if dids else None, status="queued",
            title=self.planner.title(dids, urls, mode, cfg), destination=destination,
            request={"dids": dids, "urls": [u.model_dump(exclude_none=True) for u in urls],
                     "items": list(body.items), "lifetime": body.lifetime},
            files=files, rule=rule, bytes_total=sum(sizes) if None not in sizes else None, bytes_done=0,
            files_total=len(files), files_done=0, created=now, updated=now)
        await self.db.run(self.store.insert, rec)
        return rec, True

    def _plan_dids(self, client, cfg, dids, mode, destination, lifetime) -> tuple[list[dict], dict | None]:
        """Blocking, inside sessions.call: the files; in replica mode also the rules."""
        files, refs = self.planner.plan_dids(client, cfg, dids, mode, destination)
        rule = self.rules.make_rules(client, cfg, refs, lifetime or cfg.rule_lifetime) if mode == "replica" else None
        return files, rule

    def _reusable(self, key: str) -> TransferRecord | None:
        for rec in self.store.recent(key):
            if rec.status in ACTIVE:
                return rec
            if rec.status == "completed":
                if rec.mode == "replica":
                    expires = (rec.rule or {}).get("expires_at")
                    if expires is None or datetime.fromisoformat(expires) > utcnow():
                        return rec
                elif all(f.get("path") and Path(f["path"]).is_file() for f in rec.files):
                    return rec
        return None

    # -- reading -------------------------------------------------------------------------------
    async def get(self, tid: str) -> TransferInfo:
        return (await self.db.run(self.store.load, tid)).info(self.root)

    async def list(self, status: str | None = None, files: bool = False, limit: int = 100) -> list[TransferInfo]:
        return await self.db.run(self.store.list, status, limit, self.root, files)

    async def contents(self, instance: str, did: str, offset: int = 0, limit: int = 1000) -> DidContents:
        """A DID's files with sizes and replica states (for browsing before staging)."""
        name = self.sessions.config(instance).name
        return await self.sessions.offload(name, list_contents, self.sessions, name, did, offset, limit)

    async def wait(self, tid: str, timeout: float) -> TransferInfo:
        return await wait_until(lambda: self.get(tid), timeout)

    # -- running -------------------------------------------------------------------------------
    async def _run(self, run: Run) -> None:
        rec = await self.db.run(self.store.update, run.id, {"status": "running", "message": None})
        if rec is None or rec.status != "running" or run.cancelled.is_set():
            return
        if rec.mode == "replica":
            await self.rules.run(rec)
        else:
            await self.downloads.run(run, rec)

    async def _record_failure(self, tid: str, values: dict[str, Any]) -> None:
        if values.get("reason") == "deadline":  # stopped by the runner: clean up as a cancel does
            extra = await self._wind_up(await self.db.run(self.store.load, tid))
            note = extra.pop("message", None)
            values = {**values, **extra, "message": f"{values['message']} {note or ''}".strip()}
        await self.db.run(self.store.update, tid, values)

    # -- ending ----------------------------------------------------------------------------------
    async def cancel(self, tid: str) -> TransferInfo | None:
        """DELETE: cancel a running transfer (-> its final state), or forget an ended one (-> None)."""
        rec = await self.db.run(self.store.load, tid)
        return await cancel_or_forget(rec.status, lambda: self._cancel(rec),
                                      lambda: self.db.run(self.store.forget, tid))

    async def _cancel(self, rec: TransferRecord) -> TransferInfo | None:
        await self.runner.cancel(rec.id, interrupt=rec.mode == "replica")
        rec = await self.db.run(self.store.load, rec.id)
        values = await self._wind_up(rec)
        rec = await self.db.run(self.store.update, rec.id, {"status": "cancelled", **values})
        return rec.info(self.root) if rec else None

    async def _wind_up(self, rec: TransferRecord) -> dict[str, Any]:
        """What a stopped transfer leaves: no partial files, no rules; -> the values to record."""
        files = [dict(f) for f in rec.files]
        note = None
        if rec.mode == "replica" and rec.rule:
            note = await self.rules.drop(rec)
        else:
            await asyncio.to_thread(remove_partials, files)
        for f in files:
            if f["state"] != "done":
                f["state"] = "cancelled"
        values: dict[str, Any] = {"files": files, "files_done": sum(f["state"] == "done" for f in files),
                                  "bytes_done": bytes_done(files)}
        if note:
            values["message"] = note
        elif rec.status in ACTIVE:
            values["message"] = None
        return values

    async def resume(self) -> None:
        """After a restart: continue every transfer that was queued or running."""
        active = await self.db.run(self.store.active)
        self.runner.resume(list(active), self._run, created=active)  # the deadline counts from the request

    async def stop(self) -> None:
        """The server stops: end the workers, leave the transfers to be resumed."""
        await self.runner.stop()
        await self.workers.stop()
        self.urls.shutdown()
