"""Queries: started on an archive, run off the event loop, stored with their rows on disk.

A query's metadata lives in the database (it survives a restart: a query that was running is
resumed, reattaching to its remote UWS job when it had one); its rows live in a file of their
own (results.ResultStore).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

import pyarrow as pa
from pydantic import TypeAdapter
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import executors
from ..db import Base, Database
from ..errors import BadRequest, Conflict, EsapError, NotFound
from ..operations import ACTIVE, error_of, failure, transition, utcnow
from ..operations import aware as _aware
from . import votable
from .ivoa import Cancelled
from .models import Column, QueryInfo, QueryRequest, RowsPage
from .registry import ArchiveRegistry
from .results import ResultStore

log = logging.getLogger("esap_lab.queries")
_request_adapter = TypeAdapter(QueryRequest)


class QueryRecord(Base):
    __tablename__ = "esap_queries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    archive: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    row_count: Mapped[int | None] = mapped_column(Integer)
    overflow: Mapped[bool] = mapped_column(Boolean, default=False)
    columns: Mapped[list | None] = mapped_column(JSON)
    access_url_column: Mapped[str | None] = mapped_column(String(256))
    message: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(64))
    error_status: Mapped[int | None] = mapped_column(Integer)
    service: Mapped[str | None] = mapped_column("error_service", String(256))  # the remote service that failed
    remote_url: Mapped[str | None] = mapped_column(Text)
    phase: Mapped[str | None] = mapped_column(String(16))  # the UWS phase of its remote job
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def info(self) -> QueryInfo:
        return QueryInfo(
            id=self.id, archive=self.archive, kind=self.kind, request=self.request, status=self.status,
            row_count=self.row_count, overflow=bool(self.overflow),
            columns=[Column(**c) for c in (self.columns or [])], access_url_column=self.access_url_column,
            message=self.message, reason=self.reason, service=self.service, created=_aware(self.created),
            started=_aware(self.started), finished=_aware(self.finished), updated=_aware(self.updated),
            phase=self.phase, elapsed=self._elapsed(),
        )

    def _elapsed(self) -> float | None:
        if self.started is None:
            return None
        end = _aware(self.finished) or utcnow()
        return round(max(0.0, (end - _aware(self.started)).total_seconds()), 1)

    def error(self) -> EsapError:
        return error_of(self, "The query failed.")


RESULTS = "results"  # the executor of the local result files (paging never waits on an archive)


def archive_service(archive_id: str) -> str:
    """The executor of one archive: its queries and checks run in threads of their own."""
    return f"archive:{archive_id}"


class _Running:
    def __init__(self):
        self.cancelled = executors.CancelToken()
        self.task: asyncio.Task | None = None
        self.future = None  # the call in the archive's executor


class QueryManager:
    def __init__(self, db: Database, registry: ArchiveRegistry, results: ResultStore):
        self.db = db
        self.registry = registry
        self.results = results
        self._running: dict[str, _Running] = {}
        # where TAP uploads come from besides stored results (set by the app): the basket's
        # record items and my tables, each through its area's service
        self.basket = None
        self.tables = None

    # -- starting ---------------------------------------------------------------------------
    async def submit(self, archive_id: str, request, wait: float = 0.0) -> QueryInfo:
        """Start a query and wait up to ``wait`` seconds for it. A query that fails within the
        wait is forgotten and its error raised (a bad query is a 400, not a stored record)."""
        archive = self.registry.get(archive_id)
        if request.kind not in archive.capabilities:
            raise BadRequest(f"Archive {archive.cfg.title!r} cannot answer {request.kind!r} queries; it answers: "
                             f"{', '.join(archive.capabilities) or 'none'}.", reason="unsupported-kind")
        uploads = await self.uploads(request)  # a wrong source is a 400 naming it, before anything is stored
        now = utcnow()
        rec = QueryRecord(id=uuid.uuid4().hex, archive=archive_id, kind=request.kind,
                          request=request.model_dump(mode="json", by_alias=True, exclude_none=True),
                          status="running", overflow=False, created=now, started=now,
                          updated=now)  # starts at once

        def insert():
            with self.db.session() as s:
                s.add(rec)

        info = rec.info()  # (before the session takes the record)
        await self.db.run(insert)
        self._spawn(rec.id, archive, request, remote=None, uploads=uploads)
        if wait <= 0:
            return info  # running: the task has not even started (no read back needed)
        await self.wait(rec.id, wait)
        rec = await self._record(rec.id)
        if rec.status == "error":
            err = rec.error()
            await self._forget(rec.id)
            raise err
        return rec.info()

    async def store(self, archive: str, kind: str, request: dict, result) -> QueryInfo:
        """Record a result made here (e.g. several archives' results merged) as a completed query
        of its own: paged, sorted, exported and plotted like any other."""
        now = utcnow()
        rec = QueryRecord(id=uuid.uuid4().hex, archive=archive, kind=kind, request=request, status="completed",
                          row_count=result.row_count, overflow=result.overflow,
                          columns=[c.model_dump() for c in result.columns],
                          access_url_column=result.access_url_column, created=now, started=now, finished=now,
                          updated=now)
        info = rec.info()  # (before the session takes the record)
        await executors.run(RESULTS, self.results.write, rec.id, result)

        def insert():
            with self.db.session() as s:
                s.add(rec)

        try:
            await self.db.run(insert)
        except Exception:
            await executors.run(RESULTS, self.results.delete, rec.id)
            raise
        return info

    def _spawn(self, qid: str, archive, request, remote: str | None, uploads: dict[str, bytes] | None = None) -> None:
        run = _Running()
        self._running[qid] = run
        run.task = asyncio.get_running_loop().create_task(self._execute(qid, archive, request, remote, run, uploads))

    async def _execute(self, qid, archive, request, remote, run: _Running, uploads=None) -> None:
        try:
            def on_remote(url, phase=None):
                if not run.cancelled.is_set():
                    self._update(qid, {"remote_url": url, **({"phase": phase} if phase else {})})

            def work():
                if run.cancelled.is_set():
                    raise Cancelled()  # cancelled while waiting for a thread of the archive
                extra = {"uploads": uploads} if uploads else {}
                result = archive.run(request, remote=remote, on_remote=on_remote, cancelled=run.cancelled, **extra)
                try:
                    if run.cancelled.is_set():
                        raise Cancelled()
                    self.results.write(qid, result, run.cancelled)
                except InterruptedError:
                    raise Cancelled() from None
                finally:
                    close = getattr(result.batches, "close", None)
                    if close is not None:
                        close()  # a stream left half read ends its response now
                return result

            run.future = executors.submit(archive_service(archive.cfg.id), work)
            try:
                result = await asyncio.wrap_future(run.future)
            except asyncio.CancelledError:
                if run.cancelled.is_set() and run.future.cancelled():
                    return  # cancelled before it started
                raise
            await self.db.run(self._update, qid, {
                "status": "completed", "row_count": result.row_count, "overflow": result.overflow,
                "columns": [c.model_dump() for c in result.columns],
                "access_url_column": result.access_url_column, "message": None,
            })
        except Cancelled:
            pass  # cancel() forgets the query
        except asyncio.CancelledError:
            raise
        except EsapError as e:
            await self.db.run(self._update, qid, failure(e))
        except Exception as e:  # noqa: BLE001 - a fault of ours: logged, reported without a traceback
            log.exception("query %s failed", qid)
            await self.db.run(self._update, qid, failure(e, what="The query"))
        finally:
            self._running.pop(qid, None)

    def _update(self, qid: str, values: dict[str, Any]) -> None:
        with self.db.session() as s:
            rec = s.get(QueryRecord, qid)
            if rec is None:
                return  # forgotten meanwhile
            transition(rec, values)  # the common lifecycle (esap_lab.operations)

    async def resume(self) -> None:
        """After a restart: run again what was queued or running (reattach remote jobs)."""
        def pending():
            with self.db.read() as s:
                return list(s.scalars(select(QueryRecord).where(QueryRecord.status.in_(ACTIVE))))

        for rec in await self.db.run(pending):
            try:
                archive = self.registry.get(rec.archive)
                request = _request_adapter.validate_python(rec.request)
                # the uploaded tables are read again (a remote job that runs already needs none)
                uploads = await self.uploads(request) if rec.remote_url is None else None
            except Exception as e:  # noqa: BLE001 - archive removed from the config since, an upload gone
                await self.db.run(self._update, rec.id, {
                    "status": "error", "reason": "not-resumable",
                    "message": f"The query could not be resumed after a restart: {getattr(e, 'message', e)}"})
                continue
            log.info("resuming query %s on %s", rec.id, rec.archive)
            if rec.status != "running":
                await self.db.run(self._update, rec.id, {"status": "running"})
            self._spawn(rec.id, archive, request, remote=rec.remote_url, uploads=uploads)

    # -- TAP uploads --------------------------------------------------------------------------
    async def uploads(self, request) -> dict[str, bytes] | None:
        """The tables a TAP query uploads, each as a VOTable (BINARY2) under its TAP_UPLOAD name.
        A source that is not there, or a column it has not, is a 400 naming the field."""
        sources = getattr(request, "uploads", None)
        if not sources:
            return None
        out = {}
        for name, src in sources.items():
            field = f"uploads.{name}"
            table, meta = await self._upload_table(field, src)
            if src.columns:
                missing = [c for c in src.columns if c not in table.column_names]
                if missing:
                    raise BadRequest(f"Invalid request: {field}.columns: no column {missing[0]!r} in the uploaded "
                                     f"table; it has: {', '.join(table.column_names)}.", reason="unknown-column")
                table = table.select(list(dict.fromkeys(src.columns)))
            out[name] = await executors.run(RESULTS, votable.encode, table, meta, name)
        return out

    async def _upload_table(self, field: str, src) -> tuple[pa.Table, dict[str, dict]]:
        def described(columns) -> dict[str, dict]:
            return {c.name: {"unit": c.unit, "ucd": c.ucd, "description": c.description} for c in columns or []}

        if src.query is not None:
            def stored():
                with self.db.read() as s:
                    return s.get(QueryRecord, src.query)

            rec = await self.db.run(stored)
            if rec is None or rec.status != "completed" or not self.results.exists(src.query):
                state = "does not exist" if rec is None else (
                    f"is {rec.status}" if rec.status != "completed" else "has no stored rows any more")
                raise BadRequest(f"Invalid request: {field}.query: query {src.query!r} {state}; upload a "
                                 "completed query's result.", reason="upload-source-missing")
            table = await executors.run(RESULTS, self.results.read, src.query)
            return table, described(Column(**c) for c in rec.columns or [])
        if src.table is not None:
            if self.tables is None:
                raise BadRequest(f"Invalid request: {field}.table: this server keeps no tables.",
                                 reason="upload-source-missing")
            try:
                info, table = await self.tables.arrow(src.table)
            except NotFound as e:
                raise BadRequest(f"Invalid request: {field}.table: {e.message}", reason="upload-source-missing") from None
            return table, described(info.columns)
        if self.basket is None:
            raise BadRequest(f"Invalid request: {field}.basket: this server has no basket.",
                             reason="upload-source-missing")
        rows: list[dict] = []
        columns: dict[str, Column] = {}
        for iid in dict.fromkeys(src.basket):
            try:
                item = await self.basket.get(iid)
            except NotFound as e:
                raise BadRequest(f"Invalid request: {field}.basket: {e.message}", reason="upload-source-missing") from None
            item = getattr(item, "root", item)
            if item.kind != "record":
                raise BadRequest(f"Invalid request: {field}.basket: {iid} is a {item.kind} item; only record items "
                                 "hold rows.", reason="not-a-record")
            rows.extend(item.rows)
            for c in item.columns or []:
                columns.setdefault(c.name, Column(**c.model_dump(include=set(Column.model_fields))))
        names = [n for n in columns if any(n in r for r in rows)]
        for r in rows:
            names.extend(k for k in r if k not in names)
        try:
            table = pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise BadRequest(f"Invalid request: {field}.basket: the records' columns do not agree ({e}).",
                             reason="upload-rows-mixed") from None
        return table, described(columns.values())

    # -- reading ----------------------------------------------------------------------------
    async def _record(self, qid: str) -> QueryRecord:
        def get():
            with self.db.read() as s:
                return s.get(QueryRecord, qid)

        rec = await self.db.run(get)
        if rec is None:
            raise NotFound(f"No query {qid!r}: it never existed or was deleted.", reason="unknown-query")
        return rec

    async def get(self, qid: str) -> QueryInfo:
        return (await self._record(qid)).info()

    async def get_many(self, qids: list[str]) -> dict[str, QueryInfo]:
        """The queries of ``qids`` that exist, read in one go (a fan-out's status)."""
        def query():
            with self.db.read() as s:
                return {r.id: r.info() for r in s.scalars(select(QueryRecord).where(QueryRecord.id.in_(qids)))}

        return await self.db.run(query) if qids else {}

    async def settled(self, qids: list[str], timeout: float, first: bool = False) -> None:
        """Wait up to ``timeout`` seconds for the running ones of ``qids`` to end (``first``: for
        the first of them to end)."""
        tasks = [run.task for q in qids if (run := self._running.get(q)) is not None and run.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED if first else asyncio.ALL_COMPLETED)

    async def wait(self, qid: str, timeout: float) -> QueryInfo:
        run = self._running.get(qid)
        if run is not None and run.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(run.task), timeout)
            except TimeoutError:
                pass
        return await self.get(qid)

    async def list(self, limit: int = 100) -> list[QueryInfo]:
        def query():
            with self.db.read() as s:
                rows = s.scalars(select(QueryRecord).order_by(QueryRecord.created.desc()).limit(limit))
                return [r.info() for r in rows]

        return await self.db.run(query)

    async def rows(self, qid: str, offset: int, limit: int, sort: str | None, order: str) -> RowsPage:
        rec = await self._record(qid)
        if rec.status != "completed":
            detail = f": {rec.message}" if rec.status == "error" and rec.message else ""
            raise Conflict(f"Query {qid} has no rows to show: it is {rec.status}{detail}.", reason="query-not-completed")
        if not self.results.exists(qid):
            raise NotFound(f"The rows of query {qid} are gone from the server; run it again.",
                           reason="rows-missing")
        total, rows, index = await executors.run(RESULTS, self.results.page, qid, offset, limit, sort, order)
        return RowsPage(offset=offset, limit=limit, total=total, sort=sort, order=order, rows=rows, index=index)

    # -- ending -----------------------------------------------------------------------------
    async def cancel(self, qid: str) -> None:
        """Cancel (aborting a remote job) and forget the query and its rows."""
        await self._record(qid)
        run = self._running.get(qid)
        if run is not None:
            run.cancelled.set()  # closes the connection the query is reading from
            if run.future is not None:
                run.future.cancel()  # not started yet: it never will
            if run.task is not None:
                # let the worker abort the remote UWS job before we answer
                await asyncio.wait({run.task}, timeout=5)
        await self._forget(qid)

    async def _forget(self, qid: str) -> None:
        def forget():
            with self.db.session() as s:
                s.execute(delete(QueryRecord).where(QueryRecord.id == qid))

        await self.db.run(forget)
        await executors.run(RESULTS, self.results.delete, qid)
