"""The background poller of jobs: one round every ``poll_interval`` seconds (or at once when
woken), over the jobs left active in the database, so jobs of an earlier run of the server are
picked up after a restart (the operations' resume).

A round releases jobs whose staged data arrived, starts jobs accepted but never handed over,
asks each batch system once about all of its jobs, and stops jobs past the total deadline."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..errors import EsapError, RemoteError
from ..operations import failure, utcnow
from .backends import NativeStatus
from .models import FINAL_STATUSES
from .store import JobRecord

if TYPE_CHECKING:
    from .manager import JobManager

log = logging.getLogger("esap_lab.jobs")


class JobPoller:
    def __init__(self, manager: JobManager, interval: float):
        self.m = manager
        self.interval = interval
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _forever(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round must not stop the poller
                log.exception("job poller round failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except asyncio.TimeoutError:
                pass

    async def poll(self) -> None:
        """One round."""
        m = self.m
        async with self._lock:
            jobs = await m.db.run(m.store.active)
            if not jobs:
                return
            if m.deadline:
                now = utcnow()
                late = [r for r in jobs if (now - r.info().created).total_seconds() > m.deadline]
                for rec in late:
                    await m.stop_late(rec)
                jobs = [r for r in jobs if r not in late]
            tracked: dict[str, list[JobRecord]] = {}
            others = []
            for rec in jobs:
                if rec.backend in m.backends and rec.native_id is not None and rec.status != "waiting-for-data":
                    tracked.setdefault(rec.backend, []).append(rec)
                else:
                    others.append(rec)
            await asyncio.gather(*(self._one(rec) for rec in others),
                                 *(self._backend(name, recs) for name, recs in tracked.items()))

    async def _backend(self, name: str, recs: list[JobRecord]) -> None:
        """One question to the batch system for all of its active jobs."""
        m = self.m
        try:
            states = await m.backend(name).status_many([(r.native_id, m.spec(r)) for r in recs])
        except RemoteError as e:
            # The batch system is unreachable for now: keep the jobs' states, say why they are stale.
            for rec in recs:
                await m.db.run(m.store.apply, rec.id, {"message": f"State not refreshed: {e.message}"}, None)
            return
        for rec in recs:
            st = states.get(rec.native_id)
            if st is None:
                continue
            try:
                stale = (rec.message or "").startswith("State not refreshed")
                if st.status != rec.status or st.native_state != rec.native_state or stale or \
                        st.status in FINAL_STATUSES:
                    await m.observe(rec, st)
            except EsapError as e:
                log.warning("job %s: %s", rec.id, e.message)

    async def _one(self, rec: JobRecord) -> None:
        m = self.m
        try:
            if rec.backend not in m.backends:
                await m.observe(rec, NativeStatus("failed", rec.native_state or "unknown",
                                                  f"The backend {rec.backend!r} is no longer configured."),
                                reason="backend-gone")
                return
            if rec.status == "waiting-for-data":
                await self._check_data(rec)
                return
            if rec.native_id is None:
                await m.start_later(rec.id)  # e.g. accepted, then the server stopped before sbatch
        except RemoteError as e:
            await m.db.run(m.store.apply, rec.id, {"message": f"Not started yet: {e.message}"}, None)
        except EsapError as e:
            f = failure(e, status="failed")
            await m.observe(rec, NativeStatus("failed", rec.native_state or "error", e.message),
                            reason=f["reason"], service=f["service"])

    async def _check_data(self, rec: JobRecord) -> None:
        m = self.m
        if m.transfers is None:
            await m.observe(rec, NativeStatus("failed", "waiting-for-data", "No staging service any more."),
                            reason="no-staging")
            return
        states = await m.transfers(rec.wait_for)
        bad = [t for t in rec.wait_for if states.get(t) in (None, "error", "cancelled")]
        if bad:
            why = ", ".join(f"{t} ({states.get(t) or 'gone'})" for t in bad)
            await m.observe(rec, NativeStatus("failed", "waiting-for-data",
                                              f"An input transfer did not complete: {why}."),
                            reason="input-not-staged")
            return
        if all(states.get(t) == "completed" for t in rec.wait_for):
            log.info("job %s: its data is staged; submitting to %s", rec.id, rec.backend)
            await m.db.run(m.store.apply, rec.id, {"status": "queued"},
                           {"time": utcnow().isoformat(), "status": "queued", "native_state": "data staged"})
            await m.start_later(rec.id)
