"""Software from the OSSR, as the server uses it: search, one record with its codemeta.json,
suggestions from the basket, "open here" (download, verify, unpack into the workspace) and "run
with my basket" (a notebook of the record as a batch job).

Every remote call runs in the OSSR's own small thread pool (esap_lab.executors), through an
esap_lab.outbound session (the server's address and redirect policy), under a total deadline
(``timeout`` for metadata, ``download_timeout`` for an open): an OSSR that cannot be reached is a
502 naming it, one that is too slow a 504. No tornado here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from .. import executors
from ..errors import BadRequest, EsapError
from ..operations import Run, Runner, cancel_or_forget, utcnow
from . import codemeta
from .matching import RecordText, basket_terms, query_for, score
from .models import (
    BasketTerm,
    OpenBody,
    OpenOperation,
    OpenResult,
    RunBody,
    SearchPage,
    SoftwareRecord,
    Suggestion,
    SuggestionList,
)
from .store import OpenRecord, OpenStore, SoftwareFolders, file_name, is_archive
from .zenodo import Deadline, Ossr, _hasher, codemeta_file, zenodo_fields

log = logging.getLogger("esap_lab.software")

T = TypeVar("T")

DEFAULT_URL = "https://zenodo.org"
DEFAULT_COMMUNITY = "escape2020"


class SoftwareService:
    def __init__(self, root_dir: Path, *, base_url: str = DEFAULT_URL, community: str = DEFAULT_COMMUNITY,
                 folder: str = "software", timeout: float = 30.0, download_timeout: float = 600.0,
                 max_bytes: int = 2 << 30, candidates: int = 30,
                 basket: Any = None, jobs: Any = None, archives: Any = None, db: Any = None):
        """``basket``: an esap_lab.basket BasketService; ``jobs``: an esap_lab.jobs JobManager;
        ``archives``: an ArchiveRegistry (archive titles for the suggestions). All optional."""
        self.ossr = Ossr(base_url, community, request_timeout=timeout)
        self.folders = SoftwareFolders(root_dir, folder)
        self.timeout = timeout
        self.download_timeout = download_timeout
        self.max_bytes = max_bytes
        self.candidates = candidates
        self.basket = basket
        self.jobs = jobs
        self.archives = archives
        self._pool = executors.pool(f"ossr:{self.ossr.base_url}")  # its own: a slow OSSR slows only itself
        self._codemeta: OrderedDict[tuple[str, str], tuple[dict, list[str], bool]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        # "open here" as a long operation: its records in the state database (``db``)
        self.db = db
        self.opens = OpenStore(db) if db is not None else None
        self.runner = Runner("open", self._record_failure, download_timeout + 30)

    def close(self) -> None:
        """Nothing to release: the pool is esap_lab.executors', the sessions are per operation."""

    async def _call(self, fn: Callable[..., T], *args: Any, deadline: Deadline) -> T:
        """``fn(*args, deadline)`` on the pool; the deadline bounds the whole wait (the call itself
        stops at its next network wait, and cleans up after itself, once it has passed)."""
        fut = self._pool.submit(fn, *args, deadline)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout=max(deadline.remaining(), 0) + 2.0)
        except asyncio.TimeoutError:
            raise deadline.expired() from None

    # -- records ------------------------------------------------------------------------------
    async def search(self, q: str = "", page: int = 1, size: int = 10) -> SearchPage:
        deadline = Deadline(self.timeout, f"{self.ossr.label}: search")
        try:
            data = await self._call(self.ossr.search, q, page, size, deadline=deadline)
            records = await self._records([h for h in data["hits"]["hits"] if isinstance(h, dict)], deadline)
        finally:
            deadline.close()
        total = _total(data["hits"].get("total"), len(records))
        has_next = bool((data.get("links") or {}).get("next")) or page * size < total
        return SearchPage(q=q, page=page, size=size, total=total, next_page=page + 1 if has_next and records else None,
                          community=self.ossr.community, records=records)

    async def get(self, rid: str) -> SoftwareRecord:
        deadline = Deadline(self.timeout, f"{self.ossr.label}: record {rid}")
        try:
            raw = await self._call(self.ossr.record, rid, deadline=deadline)
            return (await self._records([raw], deadline))[0]
        finally:
            deadline.close()

    async def _records(self, raws: list[dict[str, Any]], deadline: Deadline) -> list[SoftwareRecord]:
        fields = [zenodo_fields(r, self.ossr) for r in raws]
        metas = await asyncio.gather(*(self._codemeta_of(f, deadline) for f in fields))
        return [_merge(f, m) for f, m in zip(fields, metas, strict=True)]

    async def _codemeta_of(self, fields: dict[str, Any], deadline: Deadline) -> tuple[dict, list[str], str]:
        f = codemeta_file(fields)
        if f is None:
            return {}, [], "missing"
        key = (fields["id"], f.get("checksum") or f["url"])
        if key in self._codemeta:
            self._codemeta.move_to_end(key)
            got, problems, valid = self._codemeta[key]
        else:
            try:
                raw = await self._call(self.ossr.read_file, f["url"], deadline=deadline)
            except EsapError as e:
                return {}, [f"codemeta.json could not be fetched: {e.message}"], "unavailable"
            if not _checksum_ok(raw, f.get("checksum")):
                return {}, ["codemeta.json does not match the checksum the OSSR publishes"], "unavailable"
            got, problems, valid = codemeta.parse(raw)
            self._codemeta[key] = (got, problems, valid)
            while len(self._codemeta) > 1024:
                self._codemeta.popitem(last=False)
        if not valid:
            return {}, problems, "invalid"
        return got, problems, "partial" if problems else "ok"

    # -- suggestions --------------------------------------------------------------------------
    async def basket_items(self) -> list[dict[str, Any]]:
        if self.basket is None:
            return []
        items: list[dict[str, Any]] = []
        while True:
            page = json.loads(await self.basket.page_json(None, len(items), 5000, "asc"))
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return items

    def _archive_titles(self) -> dict[str, str]:
        if self.archives is None:
            return {}
        return {a.cfg.id: a.cfg.title for a in self.archives}

    async def suggest(self, limit: int = 10) -> SuggestionList:
        terms = basket_terms(await self.basket_items(), self._archive_titles())
        found = [BasketTerm(label=t.label, kind=t.kind, weight=t.weight) for t in terms]
        q = query_for(terms)
        if not q:
            return SuggestionList(terms=found, suggestions=[])
        page = await self.search(q, 1, self.candidates)
        ranked = []
        for rec in page.records:
            s, labels = score(terms, RecordText.of(rec.keywords, rec.name, rec.title, rec.description))
            if s > 0:
                ranked.append(Suggestion(record=rec, score=s, matches=labels, why=", ".join(labels)))
        ranked.sort(key=lambda r: (-r.score, r.record.name.lower()))
        return SuggestionList(terms=found, suggestions=ranked[:limit])

    # -- open here ----------------------------------------------------------------------------
    def _lock(self, rid: str) -> asyncio.Lock:
        return self._locks.setdefault(rid, asyncio.Lock())

    async def open(self, rid: str, body: OpenBody | None = None, run: Run | None = None) -> OpenResult:
        """Download, verify and unpack the record's files (at once: POST /software/{id}/open; as a
        long operation, ``run`` is its Run: progress reported, cancel and deadline obeyed)."""
        body = body or OpenBody()
        async with self._lock(rid):
            existing = await asyncio.to_thread(self.folders.opened, rid, self.ossr.base_url)
            if existing is not None and body.files is None:
                return await asyncio.to_thread(self._result, rid, existing, 0, True, [])
            rec = await self.get(rid)
            files = rec.files
            if body.files is not None:
                known = {f.key for f in rec.files}
                unknown = [k for k in body.files if k not in known]
                if unknown:
                    raise BadRequest(f"files: the record has no file {', '.join(map(repr, unknown))} (it has: "
                                     f"{', '.join(sorted(known)) or 'none'}).", reason="unknown-file")
                files = [f for f in rec.files if f.key in body.files]
            if not files:
                raise BadRequest(f"The OSSR record {rid} has no files to open.", reason="no-files")
            target = self.folders.target(rec.name, rec.version, rid)
            if existing is not None:  # other files of the same record: a fresh folder beside
                target = target.with_name(target.name + "-" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S"))
            marker = {"id": rid, "ossr": self.ossr.base_url, "doi": rec.doi, "name": rec.name,
                      "version": rec.version, "title": rec.title,
                      "files": [{"key": f.key, "checksum": f.checksum} for f in files],
                      "opened": datetime.now(timezone.utc).isoformat()}
            deadline = Deadline(self.download_timeout, f"{self.ossr.label}: files of record {rid}")
            if run is not None:
                await self._running(run, rec, files, deadline)
            try:
                got, skipped = await self._call(self._install, target, files, marker, deadline=deadline)
            finally:
                deadline.close()
            return await asyncio.to_thread(self._result, rid, target, got, False, skipped)

    # -- open here, as a long operation ------------------------------------------------------
    async def start_open(self, rid: str, body: OpenBody | None = None) -> OpenOperation:
        """POST /software/{id}/opens: the open runs in the background (queued -> running ->
        completed | error | cancelled); GET follows its progress, DELETE cancels it."""
        body = body or OpenBody()
        now = utcnow()
        rec = OpenRecord(id=uuid.uuid4().hex, record_id=rid, ossr=self.ossr.base_url, title=f"record {rid}",
                         files=body.files, status="queued", bytes_done=0, created=now, updated=now)
        info = await self._db(self.opens.insert, rec)
        self.runner.spawn(rec.id, self._open_work)
        return info

    async def _open_work(self, run: Run) -> None:
        rec = await self._db(self.opens.load, run.id)
        result = await self.open(rec.record_id, OpenBody(files=rec.files), run=run)
        await self._db(self.opens.update, run.id, {
            "status": "completed", "result": result.model_dump(mode="json"), "bytes_done": result.bytes,
            "message": (f"{result.path} was there already." if result.reused else
                        f"In {result.path}: {result.files} files, checksums verified.")})

    async def _running(self, run: Run, rec: SoftwareRecord, files: list, deadline: Deadline) -> None:
        """The record is known: say so, and let the download report its bytes and stop on cancel."""
        sizes = [f.size for f in files]
        await self._db(self.opens.update, run.id, {
            "status": "running", "title": f"{rec.name} {rec.version or ''}".strip(),
            "bytes_total": sum(sizes) if None not in sizes else None,
            "message": f"Downloading {len(files)} file{'s' if len(files) != 1 else ''} from {self.ossr.base_url}"})
        deadline.cancelled = run.cancelled
        run.cancelled.on_cancel(lambda: deadline.session.abort() if deadline.session is not None else None)
        done, last = [0], [0.0]

        def on_bytes(n: int) -> None:  # in the download thread: a write at most every half second
            done[0] += n
            if time.monotonic() - last[0] >= 0.5:
                last[0] = time.monotonic()
                self.opens.update(run.id, {"bytes_done": done[0]})

        deadline.on_bytes = on_bytes

    async def get_open(self, oid: str) -> OpenOperation:
        return (await self._db(self.opens.load, oid)).info()

    async def recent_opens(self, limit: int = 20) -> list[OpenOperation]:
        return await self._db(self.opens.recent, limit)

    async def delete_open(self, oid: str) -> OpenOperation | None:
        """DELETE: cancel while it runs (-> its new state), forget once ended (-> None)."""
        rec = await self._db(self.opens.load, oid)

        async def cancel() -> OpenOperation:
            await self.runner.cancel(oid)  # the download stops at its next chunk; its folder is removed
            await self._db(self.opens.update, oid, {"status": "cancelled", "message": "Cancelled; nothing was kept."})
            return await self.get_open(oid)

        return await cancel_or_forget(rec.status, cancel, lambda: self._db(self.opens.forget, oid))

    async def _record_failure(self, oid: str, fields: dict) -> None:
        await self._db(self.opens.update, oid, fields)

    async def resume(self) -> None:
        """After a restart: the opens left queued or running start again (a folder appears whole
        or not at all, so nothing half-done is in the way)."""
        if self.opens is None:
            return
        active = await self._db(self.opens.active)
        self.runner.resume([oid for oid, _ in active], self._open_work, {oid: c for oid, c in active})

    async def stop(self) -> None:
        await self.runner.stop()

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        if self.db is None:
            raise BadRequest("This server keeps no state for software operations (no database).",
                             reason="no-database")
        return await self.db.run(fn, *args)

    def _install(self, target: Path, files: list, marker: dict, deadline: Deadline) -> tuple[int, list[str]]:
        total = [0]

        def fill(tmp: Path) -> list[str]:
            budget = [self.max_bytes]
            downloads = tmp / ".download"
            downloads.mkdir()
            got = []
            for f in files:
                path = downloads / file_name(f.key)
                total[0] += self.ossr.download(f.url, path, size=f.size, checksum=f.checksum, deadline=deadline,
                                               budget=budget, name=f.key)
                got.append(path)
            skipped: list[str] = []
            for path in got:
                if deadline.remaining() <= 0:
                    raise deadline.expired()
                if is_archive(path.name):
                    skipped += self.folders.unpack_into(path, tmp, self.max_bytes)
                    path.unlink()
                elif (tmp / path.name).exists():
                    skipped.append(f"{path.name} (name already taken by an archive's entry)")
                else:
                    path.rename(tmp / path.name)
            shutil.rmtree(downloads)
            return skipped

        skipped = self.folders.install(target, fill, marker)
        return total[0], skipped

    def _result(self, rid: str, target: Path, got: int, reused: bool, skipped: list[str]) -> OpenResult:
        readme, notebooks, n = self.folders.describe(target)
        return OpenResult(id=rid, path=self.folders.rel(target), open=readme or (notebooks[0] if notebooks else None),
                          readme=readme, notebooks=notebooks, files=n, bytes=got, reused=reused, skipped=skipped)

    # -- run with my basket -------------------------------------------------------------------
    async def run(self, rid: str, body: RunBody):
        if self.jobs is None:
            raise BadRequest("This server has no job service.", reason="no-jobs")
        opened = await self.open(rid)
        if body.notebook is None:
            if not opened.notebooks:
                raise BadRequest(f"notebook: the software in {opened.path} has no notebook to run.",
                                 reason="no-notebook")
            notebook = opened.notebooks[0]
        else:
            rel = PurePosixPath(body.notebook)
            if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".ipynb":
                raise BadRequest("notebook: give a .ipynb path inside the software's folder, e.g. "
                                 f"{opened.notebooks[0][len(opened.path) + 1:] if opened.notebooks else 'main.ipynb'}.",
                                 reason="invalid-notebook")
            notebook = f"{opened.path}/{rel.as_posix()}"
            if notebook not in opened.notebooks:
                names = ", ".join(n[len(opened.path) + 1:] for n in opened.notebooks) or "none"
                raise BadRequest(f"notebook: {body.notebook} is not a notebook of {opened.path} (it has: {names}).",
                                 reason="unknown-notebook")
        ids = body.basket if body.basket is not None else [it["id"] for it in await self.basket_items()]
        from ..jobs.models import SubmitBody

        # The job runs in a folder of its own (esap-jobs/...): the notebook learns where its software is.
        parameters = {"esap_software_dir": str(self.folders.root_dir / opened.path), **body.parameters}
        submit = SubmitBody(notebook=notebook, backend=body.backend, parameters=parameters,
                            resources=body.resources, basket=ids,
                            name=f"{opened.path.rsplit('/', 1)[-1]}: {PurePosixPath(notebook).name}")
        return await self.jobs.submit(submit)


def _total(total: Any, fallback: int) -> int:
    if isinstance(total, dict):  # Elasticsearch 7 shape {"value": n, "relation": "eq"}
        total = total.get("value")
    return int(total) if isinstance(total, int) else fallback


def _checksum_ok(raw: bytes, checksum: str | None) -> bool:
    h = _hasher(checksum)
    if h is None:
        return True  # nothing to check against
    h.update(raw)
    return h.hexdigest() == checksum.split(":", 1)[1].lower()


def _merge(fields: dict[str, Any], meta: tuple[dict, list[str], str]) -> SoftwareRecord:
    got, problems, status = meta
    merged = {**fields, **got}
    if not merged.get("name"):
        merged["name"] = fields["title"]
    return SoftwareRecord(**merged, codemeta_status=status, codemeta_problems=problems,
                          codemeta_fields=[k for k in codemeta.FIELDS.values() if k in got])
