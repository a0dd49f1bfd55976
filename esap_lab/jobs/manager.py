"""Notebook jobs: prepared in a folder under the server root, handed to a batch backend, tracked
in the database by a background poller that survives a restart of the server.

Each job keeps, in its folder (``<root>/<jobs_dir>/<time>-<notebook>-<id>/``): the input notebook
copy, ``parameters.json``, ``basket.json`` (the snapshot of the basket items passed in),
``provenance.json`` (Python and package versions, the notebook's checksum), the generated batch
script, the logs, and once done the executed ``<notebook>-output.ipynb``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import platform
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Database
from ..errors import BadRequest, Conflict, EsapError, NotFound, RemoteError
from .backends import JobBackend, JobSpec, NativeStatus
from .backends.base import ENVIRONMENT, INPUT, PARAMETERS, output_name
from .models import (ACTIVE_STATUSES, FINAL_STATUSES, BackendInfo, JobInfo, JobLog, JobOutput, Resources,
                     SubmitBody)

log = logging.getLogger("esap_lab.jobs")

#: transfer ids -> their status (staging: queued|running|completed|error|cancelled); unknown ids absent
TransferLookup = Callable[[list[str]], Awaitable[dict[str, str]]]
#: basket item ids -> the items (dicts, in the order asked); an unknown id raises NotFound
BasketLookup = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]

MAX_EVENTS = 200


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(d: datetime | None) -> datetime | None:
    return d.replace(tzinfo=timezone.utc) if d is not None and d.tzinfo is None else d


class JobRecord(Base):
    __tablename__ = "esap_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    notebook: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(64), index=True)
    backend_type: Mapped[str] = mapped_column(String(32))
    native_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(20), index=True)
    native_state: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[dict] = mapped_column(JSON)
    resources: Mapped[dict] = mapped_column(JSON)
    basket: Mapped[list | None] = mapped_column(JSON)
    wait_for: Mapped[list] = mapped_column(JSON)
    workdir: Mapped[str] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    provenance: Mapped[dict | None] = mapped_column(JSON)
    events: Mapped[list] = mapped_column(JSON)
    resubmitted_from: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def info(self) -> JobInfo:
        return JobInfo(
            id=self.id, name=self.name, notebook=self.notebook, backend=self.backend,
            backend_type=self.backend_type, native_id=self.native_id, status=self.status,
            native_state=self.native_state, message=self.message, parameters=self.parameters,
            resources=self.resources, basket=self.basket, wait_for=self.wait_for or [], workdir=self.workdir,
            output=self.output, resubmitted_from=self.resubmitted_from, created=_aware(self.created),
            submitted=_aware(self.submitted), started=_aware(self.started), finished=_aware(self.finished),
            updated=_aware(self.updated),
        )


def environment() -> dict[str, Any]:
    """The Python environment the job is submitted from (provenance)."""
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower()] = dist.version
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "executable": sys.executable, "platform": platform.platform(),
            "packages": dict(sorted(packages.items()))}


class JobManager:
    def __init__(self, db: Database, root_dir: Path, backends: dict[str, JobBackend], *,
                 jobs_dir: str = "esap-jobs", poll_interval: float = 1.0,
                 transfers: TransferLookup | None = None, basket: BasketLookup | None = None):
        self.db = db
        self.root = Path(root_dir).resolve()
        self.jobs_dir = (self.root / jobs_dir).resolve()
        if not self.jobs_dir.is_relative_to(self.root):
            raise ValueError(f"jobs_dir {jobs_dir!r} must be a folder under the server root")
        self.backends = backends
        self.poll_interval = poll_interval
        self.transfers = transfers
        self.basket = basket
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._env: dict[str, Any] | None = None
        self._lock = asyncio.Lock()
        self._starting: set[str] = set()  # jobs being handed to their backend right now

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start polling; jobs left active by an earlier run of the server are picked up."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._poll_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad round must not stop the poller
                log.exception("job poller round failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except asyncio.TimeoutError:
                pass

    # -- backends -----------------------------------------------------------------------------
    def backend(self, name: str) -> JobBackend:
        try:
            return self.backends[name]
        except KeyError:
            raise NotFound(f"No job backend {name!r}; configured: {', '.join(self.backends)}.",
                           reason="unknown-backend") from None

    async def list_backends(self, check: bool = True) -> list[BackendInfo]:
        async def one(b: JobBackend) -> BackendInfo:
            info = BackendInfo(name=b.name, type=b.type, title=b.display_title, resources=list(b.resources),
                               default=b.default)
            if check:
                try:
                    await asyncio.wait_for(b.check(), 15)
                    info.available = True
                    info.partitions = await b.partitions()
                except asyncio.TimeoutError:
                    info.available, info.message = False, f"{b.name} did not answer within 15 s."
                except EsapError as e:
                    info.available, info.message = False, e.message
            return info

        return list(await asyncio.gather(*(one(b) for b in self.backends.values())))

    # -- submitting ---------------------------------------------------------------------------
    def resolve_notebook(self, path: str) -> Path:
        rel = path.strip().lstrip("/")
        full = (self.root / rel).resolve()
        if not full.is_relative_to(self.root):
            raise BadRequest(f"The notebook {path!r} is outside the server's root folder.", reason="outside-root")
        if not full.is_file():
            raise BadRequest(f"No notebook {path!r} under the server's root folder.", reason="notebook-not-found")
        if full.suffix != ".ipynb":
            raise BadRequest(f"{path!r} is not a notebook (.ipynb).", reason="not-a-notebook")
        return full

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    async def submit(self, body: SubmitBody, *, resubmitted_from: str | None = None,
                     basket_snapshot: list[dict] | None = None) -> JobInfo:
        backend = self.backend(body.backend)
        notebook = await asyncio.to_thread(self.resolve_notebook, body.notebook)
        resources = body.resources.model_dump(exclude_none=True)
        backend.validate(resources)
        try:
            json.dumps(body.parameters)
        except (TypeError, ValueError) as e:
            raise BadRequest(f"The parameters are not plain JSON values: {e}", reason="bad-parameters") from e
        if basket_snapshot is None and body.basket is not None:
            basket_snapshot = await self._basket_snapshot(body.basket)
        waiting = False
        if body.wait_for:
            states = await self._transfer_states(body.wait_for)
            missing = [t for t in body.wait_for if t not in states]
            if missing:
                raise BadRequest(f"Unknown transfer(s) {', '.join(missing)}: a job can only wait for transfers that "
                                 "exist.", reason="unknown-transfer")
            waiting = any(states[t] != "completed" for t in body.wait_for)

        jid = uuid.uuid4().hex
        now = utcnow()
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in notebook.stem)[:40]
        workdir = self.jobs_dir / f"{now:%Y%m%d-%H%M%S}-{stem}-{jid[:8]}"
        parameters = dict(body.parameters)
        if basket_snapshot is not None:
            parameters["esap_basket"] = basket_snapshot
        if self._env is None:
            self._env = await asyncio.to_thread(environment)

        def prepare():
            workdir.mkdir(parents=True)
            shutil.copyfile(notebook, workdir / INPUT)
            (workdir / PARAMETERS).write_text(json.dumps(parameters, indent=1, default=str))
            if basket_snapshot is not None:
                (workdir / "basket.json").write_text(json.dumps(basket_snapshot, indent=1, default=str))
            provenance = {
                "notebook": self.rel(notebook),
                "notebook_sha256": hashlib.sha256((workdir / INPUT).read_bytes()).hexdigest(),
                "parameters": body.parameters, "basket": basket_snapshot, "resources": resources,
                "backend": {"name": backend.name, "type": backend.type},
                "submitted_from": self._env, "created": now.isoformat(),
            }
            python = getattr(backend, "python", None)
            if python:
                provenance["job_python"] = python
            (workdir / "provenance.json").write_text(json.dumps(provenance, indent=1, default=str))
            return provenance

        provenance = await asyncio.to_thread(prepare)
        rec = JobRecord(
            id=jid, name=body.name or notebook.name, notebook=self.rel(notebook), backend=backend.name,
            backend_type=backend.type, status="waiting-for-data" if waiting else "queued",
            parameters=body.parameters, resources=resources, basket=basket_snapshot, wait_for=list(body.wait_for),
            workdir=self.rel(workdir), provenance=provenance, resubmitted_from=resubmitted_from,
            events=[{"time": now.isoformat(), "status": "waiting-for-data" if waiting else "queued"}],
            created=now, updated=now)

        def insert():
            with self.db.session() as s:
                s.add(rec)

        self._starting.add(jid)
        try:
            await self.db.run(insert)
            if not waiting:
                try:
                    await self._start(rec)
                except EsapError:
                    # The batch system refused or could not be reached: no half-made job is kept.
                    await self.db.run(self._delete, jid)
                    await asyncio.to_thread(shutil.rmtree, workdir, True)
                    raise
        finally:
            self._starting.discard(jid)
        self._wake.set()
        return await self.get(jid)

    async def _start(self, rec: JobRecord) -> None:
        """Hand the job to its backend; the caller has put its id in ``_starting``."""
        backend = self.backend(rec.backend)
        native = await backend.submit(self._spec(rec))
        now = utcnow()
        await self.db.run(self._apply, rec.id, {"native_id": native, "submitted": now, "status": "queued",
                                                "message": None}, None)

    async def _start_later(self, jid: str) -> None:
        """From the poller: start a job that has no batch id yet, unless someone else does."""
        if jid in self._starting:
            return
        self._starting.add(jid)
        try:
            rec = await self._record(jid)  # fresh: the snapshot of the poll round may be stale
            if rec.native_id is None and rec.status == "queued":
                await self._start(rec)
        finally:
            self._starting.discard(jid)

    def _spec(self, rec: JobRecord) -> JobSpec:
        return JobSpec(id=rec.id, name=rec.name, workdir=self.root / rec.workdir, resources=rec.resources or {},
                       output=output_name(rec.notebook))

    async def _basket_snapshot(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        if self.basket is None:
            return [{"id": i} for i in ids]
        return await self.basket(ids)

    async def _transfer_states(self, ids: list[str]) -> dict[str, str]:
        if self.transfers is None:
            raise BadRequest("This server has no staging service, so a job cannot wait for transfers.",
                             reason="no-staging")
        return await self.transfers(ids)

    # -- state changes ------------------------------------------------------------------------
    def _apply(self, jid: str, values: dict[str, Any], event: dict | None) -> bool:
        """Update a job in one transaction. A final state is never left again. True if changed."""
        with self.db.session() as s:
            q = select(JobRecord).where(JobRecord.id == jid)
            if not self.db.is_sqlite:
                q = q.with_for_update()
            rec = s.scalars(q).first()
            if rec is None:
                return False
            new_status = values.get("status", rec.status)
            if rec.status in FINAL_STATUSES and new_status != rec.status:
                return False
            changed = False
            for k, v in values.items():
                if getattr(rec, k) != v:
                    setattr(rec, k, v)
                    changed = True
            if event is not None and changed:
                rec.events = [*(rec.events or []), event][-MAX_EVENTS:]
            if changed:
                rec.updated = utcnow()
            return changed

    def _executed_in(self, rec: JobRecord) -> dict | None:
        """The environment the job's own Python reported (environment.json), added to the
        provenance (column and provenance.json)."""
        workdir = self.root / rec.workdir
        try:
            env = json.loads((workdir / ENVIRONMENT).read_text())
        except (OSError, ValueError):
            return None
        try:
            prov = json.loads((workdir / "provenance.json").read_text())
            prov["executed_in"] = env
            (workdir / "provenance.json").write_text(json.dumps(prov, indent=1, default=str))
        except (OSError, ValueError):
            pass
        return env

    def _delete(self, jid: str) -> None:
        with self.db.session() as s:
            s.execute(delete(JobRecord).where(JobRecord.id == jid))

    async def _observe(self, rec: JobRecord, st: NativeStatus) -> None:
        now = utcnow()
        values: dict[str, Any] = {"native_state": st.native_state}
        values["message"] = st.message
        values["status"] = st.status
        if st.status == "running" and rec.started is None:
            values["started"] = now
        if st.status in FINAL_STATUSES:
            values["finished"] = now
            if rec.started is None and st.status == "completed":
                values["started"] = now
            note = None
            if rec.native_id is not None and rec.backend in self.backends:
                try:
                    note = await self.backend(rec.backend).fetch_outputs(rec.native_id, self._spec(rec))
                except EsapError as e:
                    note = f"The outputs could not be fetched: {e.message}"
            output = self.root / rec.workdir / output_name(rec.notebook)
            if output.exists():
                values["output"] = self.rel(output)
            executed_in = await asyncio.to_thread(self._executed_in, rec)
            if executed_in is not None:
                values["provenance"] = {**(rec.provenance or {}), "executed_in": executed_in}
            if note:
                values["message"] = f"{values.get('message') or ''} {note}".strip()
        event = {"time": now.isoformat(), "status": st.status, "native_state": st.native_state}
        if await self.db.run(self._apply, rec.id, values, event if (st.status != rec.status or
                                                                    st.native_state != rec.native_state) else None):
            if st.status != rec.status:
                log.info("job %s (%s %s): %s -> %s", rec.id, rec.backend, rec.native_id, rec.status, st.status)

    async def poll(self) -> None:
        """One round: release jobs whose data arrived, ask the backends about active jobs."""
        async with self._lock:
            def active():
                with self.db.read() as s:
                    return list(s.scalars(select(JobRecord).where(JobRecord.status.in_(ACTIVE_STATUSES))))

            jobs = await self.db.run(active)
            if not jobs:
                return
            tracked: dict[str, list[JobRecord]] = {}
            others = []
            for rec in jobs:
                if rec.backend in self.backends and rec.native_id is not None and rec.status != "waiting-for-data":
                    tracked.setdefault(rec.backend, []).append(rec)
                else:
                    others.append(rec)
            await asyncio.gather(*(self._poll_one(rec) for rec in others),
                                 *(self._poll_backend(name, recs) for name, recs in tracked.items()))

    async def _poll_backend(self, name: str, recs: list[JobRecord]) -> None:
        """One question to the batch system for all of its active jobs."""
        try:
            states = await self.backend(name).status_many([(r.native_id, self._spec(r)) for r in recs])
        except RemoteError as e:
            # The batch system is unreachable for now: keep the jobs' states, say why they are stale.
            for rec in recs:
                await self.db.run(self._apply, rec.id, {"message": f"State not refreshed: {e.message}"}, None)
            return
        for rec in recs:
            st = states.get(rec.native_id)
            if st is None:
                continue
            try:
                stale = (rec.message or "").startswith("State not refreshed")
                if st.status != rec.status or st.native_state != rec.native_state or stale or \
                        st.status in FINAL_STATUSES:
                    await self._observe(rec, st)
            except EsapError as e:
                log.warning("job %s: %s", rec.id, e.message)

    async def _poll_one(self, rec: JobRecord) -> None:
        try:
            if rec.backend not in self.backends:
                await self._observe(rec, NativeStatus("failed", rec.native_state or "unknown",
                                                      f"The backend {rec.backend!r} is no longer configured."))
                return
            if rec.status == "waiting-for-data":
                await self._check_data(rec)
                return
            if rec.native_id is None:
                await self._start_later(rec.id)  # e.g. accepted, then the server stopped before sbatch
        except RemoteError as e:
            await self.db.run(self._apply, rec.id, {"message": f"Not started yet: {e.message}"}, None)
        except EsapError as e:
            await self._observe(rec, NativeStatus("failed", rec.native_state or "error", e.message))

    async def _check_data(self, rec: JobRecord) -> None:
        if self.transfers is None:
            await self._observe(rec, NativeStatus("failed", "waiting-for-data", "No staging service any more."))
            return
        states = await self.transfers(rec.wait_for)
        bad = [t for t in rec.wait_for if states.get(t) in (None, "error", "cancelled")]
        if bad:
            why = ", ".join(f"{t} ({states.get(t) or 'gone'})" for t in bad)
            await self._observe(rec, NativeStatus("failed", "waiting-for-data",
                                                  f"An input transfer did not complete: {why}."))
            return
        if all(states.get(t) == "completed" for t in rec.wait_for):
            log.info("job %s: its data is staged; submitting to %s", rec.id, rec.backend)
            await self.db.run(self._apply, rec.id, {"status": "queued"},
                              {"time": utcnow().isoformat(), "status": "queued", "native_state": "data staged"})
            await self._start_later(rec.id)

    # -- reading ------------------------------------------------------------------------------
    async def _record(self, jid: str) -> JobRecord:
        def get():
            with self.db.read() as s:
                return s.get(JobRecord, jid)

        rec = await self.db.run(get)
        if rec is None:
            raise NotFound(f"No job {jid!r}: it never existed or was removed.", reason="unknown-job")
        return rec

    async def get(self, jid: str) -> JobInfo:
        return (await self._record(jid)).info()

    async def list(self, statuses: list[str] | None = None, backend: str | None = None,
                   limit: int = 200) -> list[JobInfo]:
        def query():
            q = select(JobRecord).order_by(JobRecord.created.desc()).limit(limit)
            if statuses:
                q = q.where(JobRecord.status.in_(statuses))
            if backend:
                q = q.where(JobRecord.backend == backend)
            with self.db.read() as s:
                return [r.info() for r in s.scalars(q)]

        return await self.db.run(query)

    async def wait(self, jid: str, timeout: float, statuses=FINAL_STATUSES) -> JobInfo:
        """Wait until the job reaches one of ``statuses`` (for scripts and tests)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            info = await self.get(jid)
            if info.status in statuses or loop.time() > end:
                return info
            await asyncio.sleep(0.2)

    # -- actions ------------------------------------------------------------------------------
    async def cancel(self, jid: str) -> JobInfo:
        rec = await self._record(jid)
        if rec.status in FINAL_STATUSES:
            raise Conflict(f"Job {jid} has already ended ({rec.status}).", reason="job-ended")
        if rec.native_id is not None and rec.backend in self.backends:
            backend = self.backend(rec.backend)
            spec = self._spec(rec)
            await backend.cancel(rec.native_id, spec)
            # Report the batch system's own final state when it comes quickly.
            for _ in range(25):
                st = await backend.status(rec.native_id, spec)
                if st.status in FINAL_STATUSES:
                    if st.status != "cancelled":
                        st = NativeStatus("cancelled", st.native_state, "Cancelled by the user.")
                    await self._observe(rec, st)
                    return await self.get(jid)
                await asyncio.sleep(0.2)
        await self._observe(rec, NativeStatus("cancelled", rec.native_state or "cancel requested",
                                              "Cancelled by the user."))
        return await self.get(jid)

    async def forget(self, jid: str) -> None:
        """Remove an ended job from the list (its folder stays: it holds the user's results)."""
        rec = await self._record(jid)
        if rec.status not in FINAL_STATUSES:
            raise Conflict(f"Job {jid} is still {rec.status}; cancel it first.", reason="job-active")
        await self.db.run(self._delete, jid)

    async def cancel_or_forget(self, jid: str) -> JobInfo | None:
        """DELETE /jobs/{jid}: cancel an active job (returns it), forget an ended one (None)."""
        rec = await self._record(jid)
        if rec.status in FINAL_STATUSES:
            await self.forget(jid)
            return None
        try:
            return await self.cancel(jid)
        except Conflict:  # it ended meanwhile
            return await self.get(jid)

    async def resubmit(self, jid: str) -> JobInfo:
        """The same notebook (as it is now, or the job's input copy if it was removed), parameters,
        resources and basket snapshot, on the same backend."""
        rec = await self._record(jid)
        notebook = rec.notebook
        if not await asyncio.to_thread((self.root / notebook).is_file):
            notebook = f"{rec.workdir}/{INPUT}"
        body = SubmitBody(notebook=notebook, backend=rec.backend, parameters=rec.parameters,
                          resources=Resources(**(rec.resources or {})), name=rec.name)
        return await self.submit(body, resubmitted_from=rec.id, basket_snapshot=rec.basket)

    async def logs(self, jid: str, limit: int) -> JobLog:
        rec = await self._record(jid)
        stdout = stderr = ""
        if rec.backend in self.backends:
            stdout, stderr = await self.backend(rec.backend).logs(rec.native_id, self._spec(rec), limit)
        return JobLog(id=rec.id, status=rec.status, stdout=stdout, stderr=stderr, events=rec.events or [])

    async def output(self, jid: str) -> JobOutput:
        rec = await self._record(jid)
        workdir = self.root / rec.workdir

        def files():
            if not workdir.is_dir():
                return []
            return sorted(self.rel(p) for p in workdir.rglob("*") if p.is_file())

        listing = await asyncio.to_thread(files)
        out = workdir / output_name(rec.notebook)
        output = self.rel(out) if out.is_file() else None
        if output is None:
            if rec.status not in FINAL_STATUSES:
                raise Conflict(f"Job {jid} is {rec.status}; its output notebook is not there yet.",
                               reason="job-not-finished")
            raise NotFound(f"Job {jid} ended ({rec.status}) without an output notebook; see its log.",
                           reason="no-output")
        return JobOutput(id=rec.id, status=rec.status, notebook=output, files=listing)
