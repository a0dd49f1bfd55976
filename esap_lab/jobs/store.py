"""The jobs table and the only code that reads and writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Database
from ..errors import NotFound
from ..operations import aware, transition, utcnow
from .models import ACTIVE_STATUSES, FINAL_STATUSES, JobInfo

MAX_EVENTS = 200


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
    reason: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(256))
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
            native_state=self.native_state, message=self.message, reason=self.reason, service=self.service,
            parameters=self.parameters, resources=self.resources, basket=self.basket, wait_for=self.wait_for or [],
            workdir=self.workdir, output=self.output, resubmitted_from=self.resubmitted_from,
            created=aware(self.created), submitted=aware(self.submitted), started=aware(self.started),
            finished=aware(self.finished), updated=aware(self.updated),
        )


class JobStore:
    """Reads and writes of the jobs table; blocking (callers go through ``Database.run``)."""

    def __init__(self, db: Database):
        self.db = db

    def insert(self, rec: JobRecord) -> None:
        with self.db.session() as s:
            s.add(rec)

    def delete(self, jid: str) -> None:
        with self.db.session() as s:
            s.execute(delete(JobRecord).where(JobRecord.id == jid))

    def load(self, jid: str) -> JobRecord:
        with self.db.read() as s:
            rec = s.get(JobRecord, jid)
        if rec is None:
            raise NotFound(f"No job {jid!r}: it never existed or was removed.", reason="unknown-job")
        return rec

    def apply(self, jid: str, values: dict[str, Any], event: dict | None) -> bool:
        """Update a job in one transaction (operations.transition: a final state is never left
        again); ``event`` is added to its history when something changed. -> whether it did."""
        with self.db.session() as s:
            q = select(JobRecord).where(JobRecord.id == jid)
            if not self.db.is_sqlite:
                q = q.with_for_update()
            rec = s.scalars(q).first()
            if rec is None:
                return False
            if not transition(rec, values, final=FINAL_STATUSES):
                return False
            if event is not None:
                rec.events = [*(rec.events or []), event][-MAX_EVENTS:]
            return True

    def active(self) -> list[JobRecord]:
        with self.db.read() as s:
            return list(s.scalars(select(JobRecord).where(JobRecord.status.in_(ACTIVE_STATUSES))))

    def list(self, statuses: list[str] | None, backend: str | None, limit: int) -> list[JobInfo]:
        q = select(JobRecord).order_by(JobRecord.created.desc()).limit(limit)
        if statuses:
            q = q.where(JobRecord.status.in_(statuses))
        if backend:
            q = q.where(JobRecord.backend == backend)
        with self.db.read() as s:
            return [r.info() for r in s.scalars(q)]


__all__ = ["MAX_EVENTS", "JobRecord", "JobStore", "utcnow"]
