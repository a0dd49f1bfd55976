"""The archives a user added (e.g. found in the registry): the only code touching their table.

One Jupyter server is one user, so the table is that user's (its own SQLite file, or its own
PostgreSQL schema on a hub). Each row keeps the archive's configuration as JSON.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Database
from ..operations import utcnow


class UserArchiveRecord(Base):
    __tablename__ = "esap_user_archives"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    config: Mapped[dict] = mapped_column(JSON)
    ivoid: Mapped[str | None] = mapped_column(String(500))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserArchiveStore:
    def __init__(self, db: Database):
        self.db = db

    def list(self) -> list[dict]:
        """Every added archive's configuration, oldest first (with its ivoid, when known)."""
        with self.db.read() as s:
            rows = s.scalars(select(UserArchiveRecord).order_by(UserArchiveRecord.created))
            return [{**r.config, "_ivoid": r.ivoid} for r in rows]

    def add(self, config: dict, ivoid: str | None) -> None:
        with self.db.session() as s:
            s.add(UserArchiveRecord(id=config["id"], config=config, ivoid=ivoid, created=utcnow()))

    def remove(self, archive_id: str) -> bool:
        with self.db.session() as s:
            return s.execute(delete(UserArchiveRecord).where(UserArchiveRecord.id == archive_id)).rowcount > 0
