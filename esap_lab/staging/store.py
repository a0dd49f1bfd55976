"""The transfers table and the only code that reads and writes it (plain SQLAlchemy: the server
and the notebook API read it)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Database
from ..errors import EsapError, NotFound
from ..operations import error_of, operation_fields, transition, utcnow
from .models import ACTIVE, Progress, RuleState, TransferFile, TransferInfo

__all__ = ["TransferRecord", "TransferStore", "show_path", "utcnow"]


class TransferRecord(Base):
    __tablename__ = "esap_transfers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    instance: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(Text)
    request: Mapped[dict] = mapped_column(JSON)
    destination: Mapped[str | None] = mapped_column(Text)
    files: Mapped[list] = mapped_column(JSON)
    rule: Mapped[dict | None] = mapped_column(JSON)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    files_total: Mapped[int] = mapped_column(Integer, default=0)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(64))
    error_status: Mapped[int | None] = mapped_column(Integer)
    service: Mapped[str | None] = mapped_column(String(256))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def info(self, root: Path | None, with_files: bool = True) -> TransferInfo:
        total = self.bytes_total
        if total:
            fraction = min(1.0, self.bytes_done / total)
        else:
            fraction = self.files_done / self.files_total if self.files_total else 0.0
        if self.status == "completed":
            fraction = 1.0
        files = [TransferFile(**{k: v for k, v in f.items() if k in TransferFile.model_fields},
                              ).model_copy(update={"path": show_path(f.get("path"), root)})
                 for f in self.files] if with_files else []
        req = self.request or {}
        return TransferInfo(
            id=self.id, mode=self.mode, instance=self.instance,
            dids=req.get("dids", []), urls=[u["url"] for u in req.get("urls", [])], items=req.get("items", []),
            title=self.title, destination=show_path(self.destination, root),
            progress=Progress(bytes_done=self.bytes_done, bytes_total=total, files_done=self.files_done,
                              files_total=self.files_total, fraction=round(fraction, 4)),
            files=files, rule=RuleState(**self.rule) if self.rule else None, **operation_fields(self))

    def error(self) -> EsapError:
        return error_of(self, "The transfer failed.")


class TransferStore:
    """Reads and writes of the transfers table; blocking (callers go through ``Database.run``)."""

    def __init__(self, db: Database):
        self.db = db

    def insert(self, rec: TransferRecord) -> None:
        with self.db.session() as s:
            s.add(rec)

    def recent(self, key: str, n: int = 5) -> list[TransferRecord]:
        """The newest transfers made for the same request (``key``)."""
        with self.db.read() as s:
            return list(s.scalars(select(TransferRecord).where(TransferRecord.key == key)
                                  .order_by(TransferRecord.created.desc()).limit(n)))

    def load(self, tid: str) -> TransferRecord:
        with self.db.read() as s:
            rec = s.get(TransferRecord, tid)
        if rec is None:
            raise NotFound(f"No transfer {tid!r}: it never existed or was removed.", reason="unknown-transfer")
        return rec

    def update(self, tid: str, values: dict[str, Any]) -> TransferRecord | None:
        """Apply ``values`` (operations.transition: a cancelled transfer stays cancelled)."""
        with self.db.session() as s:
            rec = s.get(TransferRecord, tid)
            if rec is None:
                return None
            transition(rec, values)
            return rec

    def forget(self, tid: str) -> None:
        with self.db.session() as s:
            s.execute(delete(TransferRecord).where(TransferRecord.id == tid))

    def active(self) -> dict[str, datetime]:
        """The transfers still queued or running -> when each was asked for."""
        with self.db.read() as s:
            return dict(s.execute(select(TransferRecord.id, TransferRecord.created)
                                  .where(TransferRecord.status.in_(ACTIVE))).all())

    def list(self, status: str | None, limit: int, root: Path | None, files: bool) -> list[TransferInfo]:
        q = select(TransferRecord).order_by(TransferRecord.created.desc()).limit(limit)
        if status:
            q = q.where(TransferRecord.status == status)
        with self.db.read() as s:
            return [r.info(root, with_files=files) for r in s.scalars(q)]

    def states(self, ids: list[str]) -> dict[str, str]:
        with self.db.read() as s:
            return dict(s.execute(select(TransferRecord.id, TransferRecord.status)
                                  .where(TransferRecord.id.in_(ids))).all())


def show_path(path: str | None, root: Path | None) -> str | None:
    """A path as users see it: relative to the server root when inside it."""
    if path is None or root is None:
        return path
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path
