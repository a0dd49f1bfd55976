"""The transfers table (plain SQLAlchemy: the server and the notebook API read it)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..errors import EsapError
from .models import Progress, RuleState, TransferFile, TransferInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(d: datetime | None) -> datetime | None:
    return d if d is None or d.tzinfo else d.replace(tzinfo=timezone.utc)


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
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
            id=self.id, status=self.status, mode=self.mode, instance=self.instance,
            dids=req.get("dids", []), urls=[u["url"] for u in req.get("urls", [])], items=req.get("items", []),
            title=self.title, destination=show_path(self.destination, root),
            progress=Progress(bytes_done=self.bytes_done, bytes_total=total, files_done=self.files_done,
                              files_total=self.files_total, fraction=round(fraction, 4)),
            files=files, rule=RuleState(**self.rule) if self.rule else None,
            message=self.message, reason=self.reason, created=_aware(self.created),
            updated=_aware(self.updated), finished=_aware(self.finished))

    def error(self) -> EsapError:
        return EsapError(self.message or "The transfer failed.", status=self.error_status or 500,
                         reason=self.reason)


def show_path(path: str | None, root: Path | None) -> str | None:
    """A path as users see it: relative to the server root when inside it."""
    if path is None or root is None:
        return path
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path
