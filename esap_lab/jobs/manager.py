"""Notebook jobs: prepared in a folder under the server root (jobs.prepare), handed to a batch
backend, tracked in the database (jobs.store) by a background poller (jobs.poller) that
survives a restart of the server.

Jobs follow the common lifecycle of long operations (esap_lab.operations) with two names of
their own, as the batch systems and the front end know them: ``waiting-for-data`` (active:
the transfers it waits for are not complete yet) and ``failed`` (the error state). DELETE
cancels an active job in its batch system and forgets an ended one (its folder stays). With a
``deadline``, a job still active that many seconds after it was asked for is cancelled and
ends ``failed`` with reason ``deadline``.

Each job keeps, in its folder (``<root>/<jobs_dir>/<time>-<notebook>-<id>/``): the input notebook
copy, ``parameters.json``, ``basket.json``, ``provenance.json``, the generated batch script, the
logs, and once done the executed ``<notebook>-output.ipynb``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..db import Database
from ..errors import BadRequest, Conflict, EsapError, NotFound
from ..operations import cancel_or_forget, utcnow, wait_until
from .backends import JobBackend, JobSpec, NativeStatus
from .backends.base import INPUT, output_name
from .models import FINAL_STATUSES, BackendInfo, JobInfo, JobLog, JobOutput, Resources, SubmitBody
from .poller import JobPoller
from .prepare import environment, executed_in, prepare, resolve_notebook, workdir_for
from .store import JobRecord, JobStore

log = logging.getLogger("esap_lab.jobs")

#: transfer ids -> their status (staging: queued|running|completed|error|cancelled); unknown ids absent
TransferLookup = Callable[[list[str]], Awaitable[dict[str, str]]]
#: basket item ids -> the items (dicts, in the order asked); an unknown id raises NotFound
BasketLookup = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]

__all__ = ["BasketLookup", "JobManager", "JobRecord", "TransferLookup", "environment"]


class JobManager:
    def __init__(self, db: Database, root_dir: Path, backends: dict[str, JobBackend], *,
                 jobs_dir: str = "esap-jobs", poll_interval: float = 1.0,
                 transfers: TransferLookup | None = None, basket: BasketLookup | None = None,
                 deadline: float | None = None):
        self.db = db
        self.store = JobStore(db)
        self.root = Path(root_dir).resolve()
        self.jobs_dir = (self.root / jobs_dir).resolve()
        if not self.jobs_dir.is_relative_to(self.root):
            raise ValueError(f"jobs_dir {jobs_dir!r} must be a folder under the server root")
        self.backends = backends
        self.transfers = transfers
        self.basket = basket
        self.deadline = deadline
        self.poller = JobPoller(self, poll_interval)
        self._env: dict[str, Any] | None = None
        self._starting: set[str] = set()  # jobs being handed to their backend right now

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start polling; jobs left active by an earlier run of the server are picked up."""
        self.poller.start()

    async def stop(self) -> None:
        await self.poller.stop()

    async def poll(self) -> None:
        """One round of the poller (for scripts and tests)."""
        await self.poller.poll()

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
        return resolve_notebook(self.root, path)

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
        workdir = workdir_for(self.jobs_dir, notebook, jid, now)
        parameters = dict(body.parameters)
        if basket_snapshot is not None:
            parameters["esap_basket"] = basket_snapshot
        if self._env is None:
            self._env = await asyncio.to_thread(environment)
        provenance = {
            "notebook": self.rel(notebook), "parameters": body.parameters, "basket": basket_snapshot,
            "resources": resources, "backend": {"name": backend.name, "type": backend.type},
            "submitted_from": self._env, "created": now.isoformat(),
        }
        if getattr(backend, "python", None):
            provenance["job_python"] = backend.python
        provenance = await asyncio.to_thread(prepare, workdir, notebook, parameters, basket_snapshot, provenance)
        status = "waiting-for-data" if waiting else "queued"
        rec = JobRecord(
            id=jid, name=body.name or notebook.name, notebook=self.rel(notebook), backend=backend.name,
            backend_type=backend.type, status=status, parameters=body.parameters, resources=resources,
            basket=basket_snapshot, wait_for=list(body.wait_for), workdir=self.rel(workdir), provenance=provenance,
            resubmitted_from=resubmitted_from, events=[{"time": now.isoformat(), "status": status}],
            created=now, updated=now)

        self._starting.add(jid)
        try:
            await self.db.run(self.store.insert, rec)
            if not waiting:
                try:
                    await self._start(rec)
                except EsapError:
                    # The batch system refused or could not be reached: no half-made job is kept.
                    await self.db.run(self.store.delete, jid)
                    await asyncio.to_thread(shutil.rmtree, workdir, True)
                    raise
        finally:
            self._starting.discard(jid)
        self.poller.wake()
        return await self.get(jid)

    async def _start(self, rec: JobRecord) -> None:
        """Hand the job to its backend; the caller has put its id in ``_starting``."""
        backend = self.backend(rec.backend)
        native = await backend.submit(self.spec(rec))
        await self.db.run(self.store.apply, rec.id, {"native_id": native, "submitted": utcnow(), "status": "queued",
                                                     "message": None}, None)

    async def start_later(self, jid: str) -> None:
        """From the poller: start a job that has no batch id yet, unless someone else does."""
        if jid in self._starting:
            return
        self._starting.add(jid)
        try:
            rec = await self.db.run(self.store.load, jid)  # fresh: the snapshot of the poll round may be stale
            if rec.native_id is None and rec.status == "queued":
                await self._start(rec)
        finally:
            self._starting.discard(jid)

    def spec(self, rec: JobRecord) -> JobSpec:
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
    async def observe(self, rec: JobRecord, st: NativeStatus, reason: str | None = None,
                      service: str | None = None) -> None:
        """Record a state seen in the batch system (or decided here: ``reason`` and ``service``
        of a failure). On a final state the outputs are fetched and the provenance completed."""
        now = utcnow()
        values: dict[str, Any] = {"native_state": st.native_state, "message": st.message, "status": st.status}
        if st.status == "running" and rec.started is None:
            values["started"] = now
        if st.status in FINAL_STATUSES:
            values.update(finished=now, reason=reason, service=service)
            if rec.started is None and st.status == "completed":
                values["started"] = now
            note = None
            if rec.native_id is not None and rec.backend in self.backends:
                try:
                    note = await self.backend(rec.backend).fetch_outputs(rec.native_id, self.spec(rec))
                except EsapError as e:
                    note = f"The outputs could not be fetched: {e.message}"
            output = self.root / rec.workdir / output_name(rec.notebook)
            if output.exists():
                values["output"] = self.rel(output)
            env = await asyncio.to_thread(executed_in, self.root / rec.workdir)
            if env is not None:
                values["provenance"] = {**(rec.provenance or {}), "executed_in": env}
            if note:
                values["message"] = f"{values.get('message') or ''} {note}".strip()
        event = {"time": now.isoformat(), "status": st.status, "native_state": st.native_state}
        changed_state = st.status != rec.status or st.native_state != rec.native_state
        if await self.db.run(self.store.apply, rec.id, values, event if changed_state else None):
            if st.status != rec.status:
                log.info("job %s (%s %s): %s -> %s", rec.id, rec.backend, rec.native_id, rec.status, st.status)

    async def stop_late(self, rec: JobRecord) -> None:
        """A job past the total deadline: cancelled in its batch system, ``failed`` here."""
        if rec.native_id is not None and rec.backend in self.backends:
            try:
                await self.backend(rec.backend).cancel(rec.native_id, self.spec(rec))
            except EsapError as e:
                log.warning("job %s: could not cancel it after its deadline: %s", rec.id, e.message)
        await self.observe(rec, NativeStatus("failed", rec.native_state or "deadline",
                                             f"The job did not end within its deadline of {self.deadline:g} s; "
                                             "it was stopped."), reason="deadline")

    # -- reading ------------------------------------------------------------------------------
    async def _record(self, jid: str) -> JobRecord:
        return await self.db.run(self.store.load, jid)

    async def get(self, jid: str) -> JobInfo:
        return (await self._record(jid)).info()

    async def list(self, statuses: list[str] | None = None, backend: str | None = None,
                   limit: int = 200) -> list[JobInfo]:
        return await self.db.run(self.store.list, statuses, backend, limit)

    async def wait(self, jid: str, timeout: float, statuses=FINAL_STATUSES) -> JobInfo:
        """Wait until the job reaches one of ``statuses`` (for scripts and tests)."""
        return await wait_until(lambda: self.get(jid), timeout, final=statuses, interval=0.2)

    # -- actions ------------------------------------------------------------------------------
    async def cancel(self, jid: str) -> JobInfo:
        rec = await self._record(jid)
        if rec.status in FINAL_STATUSES:
            raise Conflict(f"Job {jid} has already ended ({rec.status}).", reason="job-ended")
        if rec.native_id is not None and rec.backend in self.backends:
            backend = self.backend(rec.backend)
            spec = self.spec(rec)
            await backend.cancel(rec.native_id, spec)
            # Report the batch system's own final state when it comes quickly.
            for _ in range(25):
                st = await backend.status(rec.native_id, spec)
                if st.status in FINAL_STATUSES:
                    if st.status != "cancelled":
                        st = NativeStatus("cancelled", st.native_state, "Cancelled by the user.")
                    await self.observe(rec, st)
                    return await self.get(jid)
                await asyncio.sleep(0.2)
        await self.observe(rec, NativeStatus("cancelled", rec.native_state or "cancel requested",
                                             "Cancelled by the user."))
        return await self.get(jid)

    async def forget(self, jid: str) -> None:
        """Remove an ended job from the list (its folder stays: it holds the user's results)."""
        rec = await self._record(jid)
        if rec.status not in FINAL_STATUSES:
            raise Conflict(f"Job {jid} is still {rec.status}; cancel it first.", reason="job-active")
        await self.db.run(self.store.delete, jid)

    async def cancel_or_forget(self, jid: str) -> JobInfo | None:
        """DELETE /jobs/{jid}: cancel an active job (returns it), forget an ended one (None)."""
        rec = await self._record(jid)

        async def cancel() -> JobInfo:
            try:
                return await self.cancel(jid)
            except Conflict:  # it ended meanwhile
                return await self.get(jid)

        return await cancel_or_forget(rec.status, cancel, lambda: self.forget(jid), final=FINAL_STATUSES)

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
            stdout, stderr = await self.backend(rec.backend).logs(rec.native_id, self.spec(rec), limit)
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
