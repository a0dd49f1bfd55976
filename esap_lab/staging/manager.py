"""Transfers: Rucio downloads, replication rules and plain URLs, tracked in the database.

A transfer is planned and checked when it is asked for (unknown DIDs, files without any
replica, a destination outside the server root, refused credentials all fail the request
itself), then runs in the background:

- download: rucio's DownloadClient in a worker process (esap_lab.staging.fetch), files into
  ``<destination>/<scope>/<name>``, progress read from the growing files, checksums verified;
- replica: a replication rule (with a lifetime) to the instance's destination RSE, polled
  until its locks are OK; replicas are then mapped to local paths through the mount;
- url: streamed downloads with size and checksum checks.

The same request twice reuses the transfer (a key over what is staged and where). A server
restart resumes what was running: downloads start again (files already complete and verified
are kept), rules are polled again. Cancelling kills the worker and removes partial files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import delete, select

from ..db import Database
from ..errors import BadRequest, Conflict, EsapError, NotFound
from . import urls as urlfetch
from .dids import did_parts, list_contents
from .fetch import WORKER_CONFIG_ENV, write_client_config
from .models import ACTIVE, FINAL, DidContents, StageBody, TransferInfo, UrlSpec
from .sessions import RucioSessions, translate
from .store import TransferRecord, _aware, utcnow

log = logging.getLogger("esap_lab.staging")

PROGRESS_EVERY = 1.0  # seconds between two progress writes to the database
FETCH_MODULE = "esap_lab.staging.fetch"
LARGE_FILE = 4_000_000  # bytes: average file size from which downloads are disk-bound


class _Job:
    """A transfer running in this server process."""

    def __init__(self, tid: str):
        self.tid = tid
        self.cancelled = threading.Event()
        self.stopping = False  # the server stops: leave the record running (resumed later)
        self.task: asyncio.Task | None = None
        self.proc: asyncio.subprocess.Process | None = None


class StagingManager:
    def __init__(self, db: Database, sessions: RucioSessions, root_dir: str | os.PathLike, *,
                 basket: Any = None, url_timeout: float = 60.0, python: str | None = None):
        self.db = db
        self.sessions = sessions
        self.root = Path(root_dir).resolve()
        self.basket = basket  # callable: item id -> basket item (esap_lab.basket); None: items unsupported
        self.url_timeout = url_timeout
        self.python = python or sys.executable
        self._jobs: dict[str, _Job] = {}
        self._url_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="esap-lab-url")
        self._submit_locks: dict[str, asyncio.Lock] = {}
        self._reapers: set[asyncio.Future] = set()
        self._warm: asyncio.subprocess.Process | None = None

    # -- asking for a transfer -----------------------------------------------------------------
    async def submit(self, body: StageBody) -> tuple[TransferInfo, bool]:
        """-> (the transfer, whether it is new). The same request again reuses the transfer."""
        dids, urls, instance = await self._expand(body)
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
            self._spawn(rec.id)
        return rec.info(self.root), created

    async def _create(self, key, body, cfg, dids, urls, instance, mode, destination) -> tuple[TransferRecord, bool]:
        existing = await self.db.run(self._reusable, key)
        if existing is not None:
            return existing, False
        if dids:
            files, rule = await self.sessions.call(instance, self._plan_dids, cfg, dids, mode, destination,
                                                   body.lifetime)
        else:
            files, rule = [], None
        files += self._plan_urls(urls, destination, {f["path"] for f in files})
        now = utcnow()
        sizes = [f.get("bytes") for f in files]
        rec = TransferRecord(
            id=uuid.uuid4().hex, key=key, mode=mode, instance=instance if dids else None, status="queued",
            title=self._title(dids, urls, mode, cfg), destination=destination,
            request={"dids": dids, "urls": [u.model_dump(exclude_none=True) for u in urls],
                     "items": list(body.items), "lifetime": body.lifetime},
            files=files, rule=rule, bytes_total=sum(sizes) if None not in sizes else None, bytes_done=0,
            files_total=len(files), files_done=0, created=now, updated=now)
        await self.db.run(self._insert, rec)
        return rec, True

    def under_root(self, folder: str) -> Path:
        """``folder`` (relative to the server root, or absolute) if it lies under the root."""
        p = Path(folder).expanduser()
        p = (p if p.is_absolute() else self.root / p).resolve()
        if p != self.root and self.root not in p.parents:
            raise BadRequest(f"The destination {folder!r} is outside the server's root folder; "
                             "choose a folder you can see in the file browser.", reason="destination-outside-root")
        return p

    async def _expand(self, body: StageBody) -> tuple[list[str], list[UrlSpec], str | None]:
        """DIDs, URLs and the Rucio instance from the body, basket items resolved."""
        dids = list(dict.fromkeys(body.dids))
        urls = list(body.urls)
        instances = {body.instance} if body.instance else set()
        if body.items:
            if self.basket is None:
                raise BadRequest("Staging basket items is not available on this server.", reason="no-basket")
            for iid in dict.fromkeys(body.items):
                item = await self.db.run(self.basket, iid)
                kind = getattr(item, "kind", None)
                if kind == "did":
                    dids.append(item.did)
                    if item.instance:
                        instances.add(item.instance)
                elif kind == "file":
                    urls.append(_url_spec(item.url, iid, name=item.name, bytes=item.size,
                                          checksum=item.checksum if _known_checksum(item.checksum) else None))
                elif kind == "record":
                    found = _record_urls(item)
                    if not found:
                        raise BadRequest(f"Basket item {iid} ({item.title}) has no access URL to download.",
                                         reason="nothing-to-stage")
                    urls += [_url_spec(u, iid) for u in found]
                else:
                    raise BadRequest(f"Basket item {iid} is a {kind}: stage its results (records) instead.",
                                     reason="nothing-to-stage")
        dids = list(dict.fromkeys(dids))
        seen: set[str] = set()
        urls = [u for u in urls if not (u.url in seen or seen.add(u.url))]
        if len(instances) > 1:
            raise BadRequest("The DIDs come from several Rucio instances "
                             f"({', '.join(sorted(instances))}); stage them one instance at a time.",
                             reason="several-instances")
        instance = next(iter(instances), None)
        if dids:
            instance = self.sessions.config(instance).name
        return dids, urls, instance

    @staticmethod
    def _title(dids: list[str], urls: list[UrlSpec], mode: str, cfg) -> str:
        what = dids + [u.url.rsplit("/", 1)[-1] for u in urls]
        head = what[0] if what else "nothing"
        more = f" and {len(what) - 1} more" if len(what) > 1 else ""
        where = f" → {cfg.destination_rse}" if mode == "replica" else ""
        return f"{head}{more}{where}"

    def _plan_dids(self, client, cfg, dids: list[str], mode: str, destination: str,
                   lifetime: int | None) -> tuple[list[dict], dict | None]:
        """Check the DIDs and list their files with replicas (blocking; inside sessions.run).
        Replica mode also makes (or finds) the rules."""
        refs, file_refs, parents = [], {}, {}
        for did in dids:
            scope, name = did_parts(did)
            meta = client.get_did(scope, name)  # DataIdentifierNotFound -> 404
            refs.append({"scope": scope, "name": name})
            inside = [meta] if meta.get("type") == "FILE" else client.list_files(scope, name)
            for f in inside:
                key = f"{f['scope']}:{f['name']}"
                file_refs.setdefault(key, {"scope": f["scope"], "name": f["name"]})
                parents.setdefault(key, []).append(f"{scope}:{name}")
        files: dict[str, dict] = {}
        lost: list[str] = []
        for rep in _replicas(client, list(file_refs.values())):
            did = f"{rep['scope']}:{rep['name']}"
            if did in files:
                continue
            states = rep.get("states") or {}
            pfns = sorted(((p, m) for p, m in (rep.get("pfns") or {}).items()
                           if states.get(m.get("rse")) == "AVAILABLE"),
                          key=lambda pm: (pm[1].get("type") != "DISK", pm[1].get("priority") or 0))
            at_target = mode == "replica" and states.get(cfg.destination_rse) in ("AVAILABLE", "COPYING")
            if not pfns and not at_target:
                lost.append(did)
            adler, md5 = rep.get("adler32"), rep.get("md5")
            files[did] = {
                "did": did, "parents": parents.get(did, []),
                "name": rep["name"], "bytes": rep.get("bytes"), "bytes_done": 0, "state": "queued",
                "checksum": f"adler32:{adler}" if adler else (f"md5:{md5}" if md5 else None),
                "adler32": adler, "md5": md5, "scope": rep["scope"],
                "pfns": [[p, m.get("rse")] for p, m in pfns],
                "path": _download_path(destination, rep["scope"], rep["name"]) if mode == "download" else None,
            }
        if not files:
            raise Conflict(f"{', '.join(dids)} contain(s) no files (Rucio instance {cfg.name}).",
                           reason="no-files")
        if lost:
            shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
            raise Conflict(f"No replica is available for {len(lost)} file(s): {shown} (Rucio instance {cfg.name}).",
                           reason="no-replica")
        rule = None
        if mode == "replica":
            rule = self._make_rules(client, cfg, refs, lifetime or cfg.rule_lifetime)
        return list(files.values()), rule

    @staticmethod
    def _make_rules(client, cfg, refs: list[dict], lifetime: int) -> dict:
        from rucio.common.exception import DuplicateRule

        ids = []
        for ref in refs:
            try:
                ids += client.add_replication_rule([ref], copies=1, rse_expression=cfg.destination_rse,
                                                   lifetime=lifetime, account=cfg.account,
                                                   comment="esap-lab staging")
            except DuplicateRule:
                # the account already has this rule (another session, a forgotten transfer): reuse it
                for r in client.list_did_rules(ref["scope"], ref["name"]):
                    if r["account"] == cfg.account and r["rse_expression"] == cfg.destination_rse:
                        ids.append(r["id"])
                        break
        return {"ids": ids, "rse": cfg.destination_rse, "state": "REPLICATING"}

    @staticmethod
    def _plan_urls(urls: list[UrlSpec], destination: str, taken: set[str]) -> list[dict]:
        out = []
        for u in urls:
            name = urlfetch.file_name(u.url, u.name)
            path = Path(destination) / name
            n = 2
            while str(path) in taken:
                stem, dot, ext = name.partition(".")
                path = Path(destination) / f"{stem}-{n}{dot}{ext}"
                n += 1
            taken.add(str(path))
            out.append({"url": u.url, "name": path.name, "bytes": u.bytes, "bytes_done": 0, "state": "queued",
                        "checksum": u.checksum, "path": str(path)})
        return out

    # -- the database --------------------------------------------------------------------------
    def _insert(self, rec: TransferRecord) -> None:
        with self.db.session() as s:
            s.add(rec)

    def _reusable(self, key: str) -> TransferRecord | None:
        with self.db.read() as s:
            recs = list(s.scalars(select(TransferRecord).where(TransferRecord.key == key)
                                  .order_by(TransferRecord.created.desc()).limit(5)))
        for rec in recs:
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

    def _load(self, tid: str) -> TransferRecord:
        with self.db.read() as s:
            rec = s.get(TransferRecord, tid)
        if rec is None:
            raise NotFound(f"No transfer {tid!r}: it never existed or was removed.", reason="unknown-transfer")
        return rec

    def _update(self, tid: str, values: dict[str, Any]) -> TransferRecord | None:
        with self.db.session() as s:
            rec = s.get(TransferRecord, tid)
            if rec is None:
                return None
            if rec.status in FINAL and values.get("status") not in (None, rec.status):
                return rec  # cancelled meanwhile: a late worker result changes nothing
            for k, v in values.items():
                setattr(rec, k, v)
            rec.updated = utcnow()
            if values.get("status") in FINAL:
                rec.finished = rec.updated
            return rec

    # -- reading -------------------------------------------------------------------------------
    async def get(self, tid: str) -> TransferInfo:
        return (await self.db.run(self._load, tid)).info(self.root)

    async def list(self, status: str | None = None, files: bool = False, limit: int = 100) -> list[TransferInfo]:
        def query():
            q = select(TransferRecord).order_by(TransferRecord.created.desc()).limit(limit)
            if status:
                q = q.where(TransferRecord.status == status)
            with self.db.read() as s:
                return [r.info(self.root, with_files=files) for r in s.scalars(q)]

        return await self.db.run(query)

    async def contents(self, instance: str, did: str, offset: int = 0, limit: int = 1000) -> DidContents:
        """A DID's files with sizes and replica states (for browsing before staging)."""
        return await asyncio.to_thread(list_contents, self.sessions, self.sessions.config(instance).name, did,
                                       offset, limit)

    async def wait(self, tid: str, timeout: float) -> TransferInfo:
        deadline = time.monotonic() + timeout
        while True:
            info = await self.get(tid)
            if info.status in FINAL or time.monotonic() >= deadline:
                return info
            await asyncio.sleep(0.1)

    # -- running -------------------------------------------------------------------------------
    def _spawn(self, tid: str) -> None:
        job = _Job(tid)
        self._jobs[tid] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job))

    async def _run(self, job: _Job) -> None:
        tid = job.tid
        try:
            rec = await self.db.run(self._update, tid, {"status": "running", "message": None})
            if rec is None or rec.status != "running":
                return
            if job.cancelled.is_set():
                return
            if rec.mode == "replica":
                await self._run_replica(job, rec)
            else:
                await self._run_download(job, rec)
        except asyncio.CancelledError:
            if not job.stopping:
                raise
        except EsapError as e:
            if job.stopping:
                return  # the worker was ended by the server's stop: resumed at the next start
            await self.db.run(self._update, tid, {"status": "error", "message": e.message, "reason": e.reason,
                                                  "error_status": e.status})
        except Exception:  # noqa: BLE001 - a fault of ours: logged, reported without a traceback
            log.exception("transfer %s failed", tid)
            await self.db.run(self._update, tid, {"status": "error", "reason": "internal-error", "error_status": 500,
                                                  "message": "The transfer failed inside esap-lab; the server "
                                                             "log has details."})
        finally:
            if self._jobs.get(tid) is job:
                self._jobs.pop(tid, None)

    # download mode (and plain URLs) ---------------------------------------------------------
    async def _run_download(self, job: _Job, rec: TransferRecord) -> None:
        files = rec.files
        for f in files:
            if f["state"] != "done":
                f["state"], f["message"] = "running", None
        did_files = [f for f in files if f.get("did") and f["state"] != "done"]
        url_files = [f for f in files if f.get("url") and f["state"] != "done"]
        watcher = asyncio.get_running_loop().create_task(self._watch(job, rec))
        try:
            results = await asyncio.gather(self._download_dids(job, rec, did_files),
                                           self._download_urls(job, url_files), return_exceptions=True)
        finally:
            watcher.cancel()
        if job.cancelled.is_set() or job.stopping:
            return
        errors = [r for r in results if isinstance(r, BaseException)]
        for e in errors:
            if not isinstance(e, EsapError):
                raise e
        done = [f for f in files if f["state"] == "done"]
        failed = [f for f in files if f["state"] != "done"]
        values = {"files": files, "files_done": len(done), "bytes_done": _bytes_done(files)}
        if errors:
            e = errors[0]
            values.update(status="error", message=e.message, reason=e.reason, error_status=e.status)
        elif failed:
            first = "; ".join(f"{f.get('did') or f.get('url')}: {f.get('message') or 'failed'}" for f in failed[:3])
            values.update(status="error", reason="files-failed", error_status=502,
                          message=f"{len(failed)} of {len(files)} file(s) could not be staged: {first}")
        else:
            values.update(status="completed", message=None)
        await self.db.run(self._update, rec.id, values)

    async def _download_dids(self, job: _Job, rec: TransferRecord, files: list[dict]) -> None:
        if not files:
            return
        cfg = self.sessions.config(rec.instance)
        conn = await asyncio.to_thread(self.sessions.connection, cfg.name)
        sizes = [f.get("bytes") or 0 for f in files]
        # many small files: as many at once as allowed (per-file latency dominates); large
        # files: a few at once (the disk is the limit, more threads only contend)
        parallel = cfg.parallel if sum(sizes) / len(sizes) < LARGE_FILE else min(cfg.parallel, 4)
        spec = {"connection": conn, "parallel": parallel,
                "files": [{"did": f["did"], "pfns": f["pfns"], "adler32": f.get("adler32"), "md5": f.get("md5"),
                           "base_dir": str(Path(rec.destination) / f["scope"]), "path": f["path"]}
                          for f in files]}
        proc = job.proc = await self._worker(multi_vo=bool(cfg.vo))
        if job.cancelled.is_set() or job.stopping:  # cancelled while the worker was being readied
            job.proc = None
            await _kill(proc)
            return
        errors = asyncio.ensure_future(proc.stderr.read())
        proc.stdin.write(json.dumps(spec).encode())
        await proc.stdin.drain()
        proc.stdin.close()
        # the worker closes its stdout once the files are there; it may still be sending Rucio's
        # download traces (it ends by itself, or with the server): no need to wait for that
        out = await proc.stdout.read()
        job.proc = None
        err = await errors if proc.returncode is not None else b""
        self._reap(proc, errors)
        if job.cancelled.is_set() or job.stopping:
            return
        try:
            answer = json.loads(out or b"{}")
        except ValueError:
            answer = {}
        if "results" not in answer:
            if answer.get("error"):
                raise _worker_error(cfg, answer)
            log.error("download worker of transfer %s ended without a result: %s", rec.id,
                      err.decode(errors="replace")[-2000:])
            raise EsapError("The download worker stopped unexpectedly; the server log has details.",
                            status=500, reason="worker-died")
        results = answer["results"]
        for f in files:
            state = (results.get(f["did"]) or {}).get("state", "FAILED")
            if state in ("DONE", "ALREADY_DONE", "FOUND_IN_PCACHE") and Path(f["path"]).is_file():
                f["state"], f["bytes_done"] = "done", f.get("bytes") or Path(f["path"]).stat().st_size
            else:
                f["state"] = "error"
                f["message"] = {"FAIL_VALIDATE": "checksum mismatch after download",
                                "FILE_NOT_FOUND": "no replica could be read"}.get(state, f"download failed ({state})")

    async def _worker(self, multi_vo: bool) -> asyncio.subprocess.Process:
        """A download worker process. One is kept started ahead (rucio imported, waiting for its
        spec), which saves the ~0.4 s of a Python start and rucio's imports per transfer."""
        warm, self._warm = self._warm, None
        if multi_vo or warm is None or warm.returncode is not None:
            if warm is not None and warm.returncode is None:
                self._warm = warm  # keep it for the next single-VO transfer
            proc = await self._start_worker(multi_vo)
        else:
            proc = warm
        if self._warm is None:
            self._warm = await self._start_worker(False)
        return proc

    async def _start_worker(self, multi_vo: bool) -> asyncio.subprocess.Process:
        cfg = self.sessions.token_dir / ("worker-multivo.cfg" if multi_vo else "worker.cfg")
        await asyncio.to_thread(write_client_config, cfg, multi_vo)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", WORKER_CONFIG_ENV: str(cfg)}
        return await asyncio.create_subprocess_exec(
            self.python, "-m", FETCH_MODULE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, env=env)

    def _reap(self, proc: asyncio.subprocess.Process, errors: asyncio.Future) -> None:
        task = asyncio.ensure_future(asyncio.wait_for(asyncio.gather(proc.wait(), errors), 120))
        self._reapers.add(task)
        task.add_done_callback(lambda t: (self._reapers.discard(t), t.cancelled() or t.exception()))

    async def _download_urls(self, job: _Job, files: list[dict]) -> None:
        loop = asyncio.get_running_loop()

        def one(f: dict) -> None:
            def progress(n: int) -> None:
                f["bytes_done"] = n

            try:
                n = urlfetch.fetch(f["url"], f["path"], size=f.get("bytes"), checksum=f.get("checksum"),
                                   cancelled=job.cancelled, progress=progress, timeout=self.url_timeout)
                f["state"], f["bytes_done"] = "done", n
                if f.get("bytes") is None:
                    f["bytes"] = n
            except urlfetch.Cancelled:
                f["state"] = "cancelled"
            except urlfetch.FetchError as e:
                f["state"], f["message"] = "error", str(e)

        await asyncio.gather(*(loop.run_in_executor(self._url_pool, one, f) for f in files))

    async def _watch(self, job: _Job, rec: TransferRecord) -> None:
        """Progress of a running download, from the files as they grow; written at most once a second."""
        files = rec.files
        since = time.time() - 1
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            await asyncio.to_thread(_measure, files, since)
            await self.db.run(self._update, rec.id, {
                "files": [dict(f) for f in files], "bytes_done": _bytes_done(files),
                "files_done": sum(f["state"] == "done" for f in files),
                "bytes_total": rec.bytes_total if rec.bytes_total is not None else _total(files)})

    # replica mode ----------------------------------------------------------------------------
    async def _run_replica(self, job: _Job, rec: TransferRecord) -> None:
        cfg = self.sessions.config(rec.instance)
        while True:
            try:
                values = await self.sessions.call(cfg.name, self._poll_rule, cfg, rec)
            except NotFound as e:
                raise EsapError(f"The replication rule is gone: {e.message}", status=410,
                                reason="rule-gone") from None
            except EsapError as e:
                if e.status in (401, 403):
                    raise
                # Rucio away for a moment: say so and keep polling
                await self.db.run(self._update, rec.id, {"message": f"{e.message} Retrying."})
                values = None
            if values is not None:
                rec = await self.db.run(self._update, rec.id, values) or rec
                if values.get("status") == "completed" or rec.status in FINAL:
                    return
            await asyncio.sleep(cfg.poll_interval)

    def _poll_rule(self, client, cfg, rec: TransferRecord) -> dict[str, Any]:
        rule = dict(rec.rule or {})
        rse = rule.get("rse") or cfg.destination_rse
        totals = {"OK": 0, "REPLICATING": 0, "STUCK": 0}
        states, expires = [], None
        for rid in rule.get("ids", []):
            r = client.get_replication_rule(rid)
            states.append(r["state"])
            totals["OK"] += r.get("locks_ok_cnt") or 0
            totals["REPLICATING"] += r.get("locks_replicating_cnt") or 0
            totals["STUCK"] += r.get("locks_stuck_cnt") or 0
            if r.get("expires_at"):
                e = _aware(r["expires_at"]) if isinstance(r["expires_at"], datetime) else _parse_time(r["expires_at"])
                expires = e if expires is None or e < expires else expires
        worst = "STUCK" if "STUCK" in states else ("REPLICATING" if any(s != "OK" for s in states) else "OK")
        rule.update(state=worst, locks_ok=totals["OK"], locks_replicating=totals["REPLICATING"],
                    locks_stuck=totals["STUCK"], expires_at=expires.isoformat() if expires else None)
        files = [dict(f) for f in rec.files]
        by_did = {f["did"]: f for f in files}
        prefix = cfg.rse_prefix or _rse_prefix(client, rse)
        refs = [{"scope": f["scope"], "name": f["name"]} for f in files]
        for rep in client.list_replicas(refs, rse_expression=rse, all_states=True, ignore_availability=True):
            f = by_did.get(f"{rep['scope']}:{rep['name']}")
            if f is None:
                continue
            state = (rep.get("states") or {}).get(rse)
            f["replica_state"] = state
            if state == "AVAILABLE":
                f["state"], f["bytes_done"] = "done", f.get("bytes") or 0
                pfn = next(iter((rep.get("rses") or {}).get(rse) or []), None)
                f["path"] = _local_path(pfn, prefix, cfg.rse_mount_path) if pfn else None
            else:
                f["state"] = "running"
        done = sum(f["state"] == "done" for f in files)
        values: dict[str, Any] = {"rule": rule, "files": files, "files_done": done, "bytes_done": _bytes_done(files)}
        if worst == "OK" and done == len(files):
            values.update(status="completed", message=None)
        elif worst == "STUCK":
            values["message"] = (f"{totals['STUCK']} file(s) are stuck on {rse}; Rucio keeps retrying. "
                                 "Cancel to give up.")
        else:
            values["message"] = None
        return values

    # -- ending ----------------------------------------------------------------------------------
    async def cancel(self, tid: str) -> TransferInfo | None:
        """Cancel a running transfer (-> its final state), or forget a finished one (-> None)."""
        rec = await self.db.run(self._load, tid)
        if rec.status in FINAL:
            await self.db.run(self._forget, tid)
            return None
        job = self._jobs.get(tid)
        if job is not None:
            job.cancelled.set()
            await _kill(job.proc)
            if job.task is not None and rec.mode == "replica":
                job.task.cancel()
            if job.task is not None:
                await asyncio.wait({job.task}, timeout=10)
        rec = await self.db.run(self._load, tid)
        files = [dict(f) for f in rec.files]
        note = None
        if rec.mode == "replica" and rec.rule:
            note = await self._drop_rules(rec)
        else:
            await asyncio.to_thread(_remove_partials, files)
        for f in files:
            if f["state"] != "done":
                f["state"] = "cancelled"
        rec = await self.db.run(self._update, tid, {"status": "cancelled", "files": files, "message": note,
                                                    "files_done": sum(f["state"] == "done" for f in files),
                                                    "bytes_done": _bytes_done(files)})
        return rec.info(self.root) if rec else None

    async def _drop_rules(self, rec: TransferRecord) -> str | None:
        """Delete the transfer's rules; -> a note for the user when Rucio keeps them."""
        def drop(client):
            from rucio.common.exception import RuleNotFound

            for rid in rec.rule.get("ids", []):
                with contextlib.suppress(RuleNotFound):
                    client.delete_replication_rule(rid, purge_replicas=False)

        try:
            await self.sessions.call(rec.instance, drop)
            return None
        except EsapError as e:
            log.warning("could not delete the rules of transfer %s: %s", rec.id, e.message)
            expires = (rec.rule or {}).get("expires_at")
            until = f" until it expires ({expires})" if expires else " until it expires"
            return (f"Cancelled here, but Rucio did not delete the replication rule: {e.message} "
                    f"The rule stays{until}.")

    def _forget(self, tid: str) -> None:
        with self.db.session() as s:
            s.execute(delete(TransferRecord).where(TransferRecord.id == tid))

    async def resume(self) -> None:
        """After a restart: continue every transfer that was queued or running."""
        def pending():
            with self.db.read() as s:
                return [r.id for r in s.scalars(select(TransferRecord).where(TransferRecord.status.in_(ACTIVE)))]

        for tid in await self.db.run(pending):
            if tid not in self._jobs:
                log.info("resuming transfer %s", tid)
                self._spawn(tid)

    async def stop(self) -> None:
        """The server stops: end the workers, leave the transfers to be resumed."""
        jobs = list(self._jobs.values())
        for job in jobs:
            job.stopping = True
            proc = job.proc
            if job.task is not None:
                job.task.cancel()
            await _kill(proc)
        warm, self._warm = self._warm, None
        await _kill(warm)
        if jobs:
            await asyncio.wait({j.task for j in jobs if j.task}, timeout=5)
        self._url_pool.shutdown(wait=False, cancel_futures=True)


# -- helpers ----------------------------------------------------------------------------------
REPLICA_CHUNK = 50


def _replicas(client, refs: list[dict]) -> list[dict]:
    """list_replicas of many files, asked in chunks at once: the server's time grows with the
    number of files, and it answers several requests in parallel."""
    chunks = [refs[i:i + REPLICA_CHUNK] for i in range(0, len(refs), REPLICA_CHUNK)]

    def ask(chunk: list[dict]) -> list[dict]:
        return list(client.list_replicas(chunk, all_states=True, ignore_availability=False))

    if len(chunks) <= 1:
        return ask(refs) if refs else []
    with ThreadPoolExecutor(min(8, len(chunks)), thread_name_prefix="esap-lab-replicas") as pool:
        return [rep for part in pool.map(ask, chunks) for rep in part]


def _download_path(destination: str, scope: str, name: str) -> str:
    """Where a DID's file goes: <destination>/<scope>/<name>, never outside the destination
    (names may hold slashes; a leading one is dropped as rucio's DownloadClient does)."""
    rel = Path(scope) / name.lstrip("/")
    if ".." in rel.parts:
        raise BadRequest(f"The file name {scope}:{name} cannot be used as a local path.", reason="bad-file-name")
    return str(Path(destination) / rel)


def _url_spec(url: str, iid: str, **fields) -> UrlSpec:
    if not url.lower().startswith(("http://", "https://")):
        raise BadRequest(f"Basket item {iid} points at {url}: only http(s) URLs can be downloaded here "
                         "(stage Rucio data by its DID).", reason="unsupported-url")
    return UrlSpec(url=url, **{k: v for k, v in fields.items() if v is not None})


def _known_checksum(checksum: str | None) -> bool:
    return bool(checksum) and checksum.split(":", 1)[0].lower() in ("md5", "adler32", "sha1", "sha256")


def _record_urls(item) -> list[str]:
    if getattr(item, "access_url", None):
        return [item.access_url]
    col = getattr(item, "access_url_column", None)
    if col:
        return [str(r[col]) for r in item.rows if r.get(col)]
    return []


def _bytes_done(files: list[dict]) -> int:
    return sum(int(f.get("bytes_done") or 0) for f in files)


def _total(files: list[dict]) -> int | None:
    sizes = [f.get("bytes") for f in files]
    return None if None in sizes else sum(sizes)


def _measure(files: list[dict], since: float) -> None:
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


def _remove_partials(files: list[dict]) -> None:
    for f in files:
        if f.get("path") and f["state"] != "done":
            urlfetch.part_path(f["path"]).unlink(missing_ok=True)
            if f.get("url"):
                continue
            # a Rucio file not verified yet (the worker was killed between rename and report)
            p = Path(f["path"])
            if f.get("bytes") is not None and p.is_file() and p.stat().st_size != f["bytes"]:
                p.unlink(missing_ok=True)


def _rse_prefix(client, rse: str) -> str:
    for proto in client.get_protocols(rse):
        if proto.get("prefix"):
            return proto["prefix"]
    return "/"


def _local_path(pfn: str, prefix: str, mount: str) -> str:
    path = urlparse(pfn).path
    rel = path.lstrip("/")
    pre = prefix.strip("/")
    if pre and rel.startswith(pre + "/"):
        rel = rel[len(pre) + 1:]
    return str(Path(mount) / rel)


def _parse_time(text: str) -> datetime:
    from email.utils import parsedate_to_datetime

    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        return parsedate_to_datetime(text)


def _worker_error(cfg, answer: dict) -> EsapError:
    from rucio.common import exception as rx

    cls = getattr(rx, answer.get("error", ""), None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(answer.get("message", ""))
        except Exception:  # noqa: BLE001 - odd constructor: fall back to the message only
            exc = rx.RucioException(answer.get("message", ""))
        return translate(cfg, exc)
    return EsapError(f"Downloading from Rucio instance {cfg.name} failed: {answer.get('message')}", status=502,
                     reason="download-failed")


async def _kill(proc: asyncio.subprocess.Process | None) -> None:
    """End a worker process and its threads (its own process group)."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
