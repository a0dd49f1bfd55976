"""One lifecycle for every long operation (queries, transfers, jobs).

    queued -> running -> completed | error | cancelled

Each area keeps its own table and its own work; this module holds what they share:

- the states (``ACTIVE``, ``FINAL``) and the common fields (``status``, ``message``, ``reason``,
  ``service`` of a remote failure, ``created``/``started``/``finished``/``updated``);
- ``transition``: how a record changes state (a final state is never left again; ``started``
  and ``finished`` are stamped on the way; ``updated`` on every change);
- ``failure`` and ``error_of``: an exception as the stored fields, and back (so the error a
  user gets later is the error the operation met: same status, reason and service);
- ``Runner``: the operations running in this process, each an asyncio task with a cancel flag
  that blocking workers can poll, a total deadline, and a stop that leaves them to be resumed;
- ``cancel_or_forget``: the one meaning of DELETE (cancel while active, forget once ended);
- ``wait_until``: waiting for a final state (scripts and tests).

Jobs name their error state ``failed`` and have one more active state (``waiting-for-data``):
the functions take the area's own ``final`` states.

Plain Python, no tornado: usable from a script.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from .errors import EsapError, RemoteError, RemoteTimeout
from .executors import CancelToken

log = logging.getLogger("esap_lab.operations")

QUEUED, RUNNING, COMPLETED, ERROR, CANCELLED = "queued", "running", "completed", "error", "cancelled"
ACTIVE: tuple[str, ...] = (QUEUED, RUNNING)
FINAL: tuple[str, ...] = (COMPLETED, ERROR, CANCELLED)
Status = Literal["queued", "running", "completed", "error", "cancelled"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(d: datetime | None) -> datetime | None:
    """A datetime read back from SQLite (naive) as the UTC time it was."""
    return d if d is None or d.tzinfo else d.replace(tzinfo=timezone.utc)


class OperationFields(BaseModel):
    """The fields every long operation shows (REST and OpenAPI)."""

    message: str | None = Field(None, description="what is happening, or why it ended as it did")
    reason: str | None = Field(None, description="a short machine-readable cause of an error")
    service: str | None = Field(None, description="the remote service that failed, for remote errors")
    created: datetime
    started: datetime | None = None
    finished: datetime | None = Field(None, description="when it reached a final state")
    updated: datetime


def operation_fields(rec: Any) -> dict[str, Any]:
    """The lifecycle fields of a stored operation as its info model takes them (``status`` and
    those of ``OperationFields``, times as UTC): what every area's record -> info shares."""
    return {"status": rec.status, "message": rec.message, "reason": rec.reason, "service": rec.service,
            "created": aware(rec.created), "started": aware(rec.started), "updated": aware(rec.updated),
            "finished": aware(rec.finished)}


# -- state changes ------------------------------------------------------------------------------
def transition(rec: Any, values: dict[str, Any], final: Iterable[str] = FINAL,
               running: Iterable[str] = (RUNNING,), now: datetime | None = None) -> bool:
    """Apply ``values`` to a record (inside the area's transaction). A record in a final state
    keeps it: a late result (a worker ending after a cancel) changes nothing -> False.
    ``started`` is stamped on the first running state, ``finished`` on the final one, ``updated``
    on every change (for records that have these fields). -> whether anything changed."""
    final = tuple(final)
    new = values.get("status", rec.status)
    if rec.status in final and new != rec.status:
        return False
    changed = False
    for k, v in values.items():
        if getattr(rec, k) != v:
            setattr(rec, k, v)
            changed = True
    if not changed:
        return False
    now = now or utcnow()
    if new in tuple(running) and getattr(rec, "started", False) is None:
        rec.started = now
    if new in final and "status" in values and getattr(rec, "finished", False) is None:
        rec.finished = now
        if getattr(rec, "started", False) is None and new == COMPLETED:
            rec.started = now
    if hasattr(rec, "updated"):
        rec.updated = now
    return True


def failure(exc: BaseException, status: str = ERROR, what: str = "It") -> dict[str, Any]:
    """The stored fields of an operation that ended with ``exc`` (messages are for the user; an
    unexpected exception is reported as our fault, without its text)."""
    if isinstance(exc, EsapError):
        return {"status": status, "message": exc.message, "reason": exc.reason, "error_status": exc.status,
                "service": getattr(exc, "service", None)}
    return {"status": status, "reason": "internal-error", "error_status": 500, "service": None,
            "message": f"{what} failed inside esap-lab; the server log has details."}


def error_of(rec: Any, default: str = "It failed.") -> EsapError:
    """The error an ended operation met, rebuilt from its fields (status, reason, service)."""
    service = getattr(rec, "service", None)
    status = getattr(rec, "error_status", None)
    if service:
        err = RemoteError(service, rec.message or default, reason=rec.reason)
        err.status = status or 502
        return err
    return EsapError(rec.message or default, status=status or 500, reason=rec.reason)


class DeadlinePassed(RemoteTimeout):
    """An operation ran past its total deadline (504)."""

    reason = "deadline"

    def __init__(self, what: str, seconds: float, service: str = "esap-lab"):
        super().__init__(service, f"{what} did not finish within its deadline of {seconds:g} s; it was stopped.")


# -- running in this process --------------------------------------------------------------------
class Run:
    """One operation running in this process."""

    def __init__(self, oid: str, deadline: float | None):
        self.id = oid
        # set on cancel, deadline or stop: blocking workers poll it, and its callbacks run at once
        # (e.g. closing the connection a download reads from)
        self.cancelled = CancelToken()
        self.stopping = False  # the server stops: leave the record active, resumed at the next start
        self.deadline = deadline
        self.expired = False  # the deadline passed
        self.task: asyncio.Task | None = None
        self._aborts: list[Callable[[], Awaitable[Any]]] = []

    def on_abort(self, fn: Callable[[], Awaitable[Any]]) -> None:
        """Register what ends the work at once (kill a worker process...) on cancel, deadline or stop."""
        self._aborts.append(fn)

    async def abort(self) -> None:
        self.cancelled.set()
        for fn in list(self._aborts):
            try:
                await fn()
            except Exception:  # ending one part must not keep the others running
                log.exception("operation %s: abort step failed", self.id)


#: what the runner calls to record a failure: (operation id, fields from ``failure``)
Record = Callable[[str, dict[str, Any]], Awaitable[Any]]


class Runner:
    """The operations of one area running in this process: spawn, cancel, stop, resume.

    ``work(run)`` does the operation and records its own success; the runner records failures
    (``record(id, failure(exc))``), including a total deadline passed (reason ``deadline``,
    504) and a fault of ours (``internal-error``, logged with its traceback)."""

    def __init__(self, what: str, record: Record, deadline: float | None = None):
        self.what = what  # "transfer", "query": for messages and logs
        self.record = record
        self.deadline = deadline
        self.runs: dict[str, Run] = {}

    def __contains__(self, oid: str) -> bool:
        return oid in self.runs

    def get(self, oid: str) -> Run | None:
        return self.runs.get(oid)

    def spawn(self, oid: str, work: Callable[[Run], Awaitable[Any]], deadline: float | None = None) -> Run:
        run = Run(oid, deadline if deadline is not None else self.deadline)
        self.runs[oid] = run
        run.task = asyncio.get_running_loop().create_task(self._main(run, work))
        return run

    async def _main(self, run: Run, work: Callable[[Run], Awaitable[Any]]) -> None:
        oid = run.id
        timer = None
        if run.deadline:
            def expire() -> None:
                run.expired = True
                run.task.cancel()

            timer = asyncio.get_running_loop().call_later(run.deadline, expire)
        try:
            await work(run)
        except asyncio.CancelledError:
            if run.expired and not run.stopping:
                await run.abort()
                await self.record(oid, failure(DeadlinePassed(f"The {self.what}", run.deadline)))
            elif not run.stopping and not run.cancelled.is_set():
                raise
        except EsapError as e:
            if not (run.stopping or run.cancelled.is_set()):
                await self.record(oid, failure(e))
        except Exception as e:  # a fault of ours: logged, reported without a traceback
            if not (run.stopping or run.cancelled.is_set()):
                log.exception("%s %s failed", self.what, oid)
                await self.record(oid, failure(e, what=f"The {self.what}"))
        finally:
            if timer is not None:
                timer.cancel()
            if self.runs.get(oid) is run:
                self.runs.pop(oid, None)

    async def cancel(self, oid: str, timeout: float = 10, interrupt: bool = False) -> None:
        """Stop a running operation: set its flag, run its aborts, and wait (up to ``timeout``)
        for its task to end; ``interrupt`` also cancels the task (for work that only waits)."""
        run = self.runs.get(oid)
        if run is None:
            return
        await run.abort()
        if run.task is not None:
            if interrupt:
                run.task.cancel()
            await asyncio.wait({run.task}, timeout=timeout)

    async def stop(self, timeout: float = 5) -> None:
        """The server stops: end the work but leave the records active (``resume`` continues them)."""
        runs = list(self.runs.values())
        for run in runs:
            run.stopping = True
            if run.task is not None:
                run.task.cancel()
            await run.abort()
        tasks = {r.task for r in runs if r.task is not None}
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def resume(self, ids: Iterable[str], work: Callable[[Run], Awaitable[Any]],
               created: dict[str, datetime] | None = None) -> list[str]:
        """After a restart: spawn again the operations left active (not those already running).
        With ``created`` (id -> when it was asked for), the deadline counts from then, not from now."""
        started = []
        now = utcnow()
        for oid in ids:
            if oid not in self.runs:
                log.info("resuming %s %s", self.what, oid)
                deadline = None
                if self.deadline and created and oid in created:
                    deadline = max(0.001, self.deadline - (now - aware(created[oid])).total_seconds())
                self.spawn(oid, work, deadline)
                started.append(oid)
        return started


# -- DELETE and waiting -------------------------------------------------------------------------
async def cancel_or_forget(status: str, cancel: Callable[[], Awaitable[Any]],
                           forget: Callable[[], Awaitable[Any]], final: Iterable[str] = FINAL) -> Any:
    """DELETE on an operation: cancel it while it is active (-> what ``cancel`` returns: its new
    state), forget it once it has ended (-> None; its results, files, outputs stay)."""
    if status in tuple(final):
        await forget()
        return None
    return await cancel()


async def wait_until(get: Callable[[], Awaitable[Any]], timeout: float, final: Iterable[str] = FINAL,
                     interval: float = 0.1) -> Any:
    """Poll ``get()`` until its ``status`` is final or ``timeout`` seconds passed; -> the last answer."""
    final = tuple(final)
    end = time.monotonic() + timeout
    while True:
        info = await get()
        if info.status in final or time.monotonic() >= end:
            return info
        await asyncio.sleep(interval)
