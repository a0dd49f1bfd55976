"""Basket storage: one table of items and a one-row table holding the basket's revision.

Every write transaction first locks the revision row (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite writers are serialised by ``BEGIN IMMEDIATE``), so writers from the server, a second
server and threads queue instead of losing updates, and dedup (same content key -> same id) is
decided with nobody else writing. The revision increases with each change, so a UI can poll it
cheaply. Each item is also stored whole as JSON (``doc``): a page of items is the stored
documents joined, no per-item object building.

Private to the server: ``BasketStore`` is synchronous and the server uses it through
``BasketService``, which runs its calls in the database's thread pool. Kernels never touch the
database: they use the REST API (``esap_lab.basket`` over ``esap_lab.client``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import BigInteger, DateTime, Integer, String, Text, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db import Base, Database
from ..errors import Conflict, NotFound
from .models import (EXPORT_FORMAT, EXPORT_VERSION, STORED_CLASS, AddResult, Common, ExportDoc, ImportResult,
                     Item, ItemPage, PatchBody, Summary, item_id)

_item_adapter: TypeAdapter = TypeAdapter(Item)
_CHUNK = 500  # ids per IN (...) clause


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class BasketRow(Base):
    __tablename__ = "esap_basket_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(256))
    added: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    doc: Mapped[str] = mapped_column(Text)


class BasketState(Base):
    __tablename__ = "esap_basket_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


def parse_item(doc: str):
    return _item_adapter.validate_json(doc)


def _stored(fields: Common, now: datetime, iid: str | None = None):
    # ``fields`` is validated already: the stored item is built without validating it again.
    data = dict(fields)
    data["title"] = fields.title or fields.default_title()
    data["source"] = fields.source or fields.default_source()
    return STORED_CLASS[fields.kind].model_construct(**data, id=iid or item_id(fields), added=now, updated=now,
                                                     version=1)


def _chunks(seq: Sequence, n: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


class BasketStore:
    """The basket over one database (synchronous)."""

    def __init__(self, db: Database):
        self.db = db

    # -- the revision lock --------------------------------------------------------------------
    @staticmethod
    def _lock(s: Session) -> int:
        rev = s.execute(select(BasketState.revision).where(BasketState.id == 1).with_for_update()).scalar()
        if rev is None:  # a database whose state row was removed by hand
            s.execute(insert(BasketState).values(id=1, revision=0))
            rev = 0
        return rev

    @staticmethod
    def _bump(s: Session, rev: int) -> int:
        s.execute(update(BasketState).where(BasketState.id == 1).values(revision=rev + 1))
        return rev + 1

    @staticmethod
    def _revision(s: Session) -> int:
        return s.execute(select(BasketState.revision).where(BasketState.id == 1)).scalar() or 0

    # -- reading ------------------------------------------------------------------------------
    def summary(self) -> Summary:
        with self.db.read() as s:
            rev = self._revision(s)
            counts = dict(s.execute(select(BasketRow.kind, func.count()).group_by(BasketRow.kind)).all())
        return Summary(revision=rev, count=sum(counts.values()), counts=counts)

    def revision(self) -> int:
        with self.db.read() as s:
            return self._revision(s)

    def page_docs(self, kind: str | None = None, offset: int = 0, limit: int = 1000,
                  order: str = "asc") -> tuple[int, int, list[str]]:
        """(total matching, revision, the items' JSON documents of one page)."""
        with self.db.read() as s:
            rev = self._revision(s)
            count = select(func.count()).select_from(BasketRow)
            q = select(BasketRow.doc)
            if kind:
                count = count.where(BasketRow.kind == kind)
                q = q.where(BasketRow.kind == kind)
            q = q.order_by(BasketRow.seq.desc() if order == "desc" else BasketRow.seq).offset(offset).limit(limit)
            total = s.execute(count).scalar_one()
            docs = list(s.execute(q).scalars())
        return total, rev, docs

    def page_json(self, kind: str | None = None, offset: int = 0, limit: int = 1000, order: str = "asc") -> str:
        """A page as the JSON text of ``ItemPage`` (built from the stored documents)."""
        total, rev, docs = self.page_docs(kind, offset, limit, order)
        head = json.dumps({"offset": offset, "limit": limit, "total": total, "revision": rev})
        return head[:-1] + ', "items": [' + ",".join(docs) + "]}"

    def page(self, kind: str | None = None, offset: int = 0, limit: int = 1000, order: str = "asc") -> ItemPage:
        total, rev, docs = self.page_docs(kind, offset, limit, order)
        return ItemPage(offset=offset, limit=limit, total=total, revision=rev, items=[parse_item(d) for d in docs])

    def items(self, kind: str | None = None) -> list:
        """Every item (of one kind), oldest first."""
        return [parse_item(d) for d in self.page_docs(kind, 0, 2**62)[2]]

    def get(self, iid: str):
        with self.db.read() as s:
            doc = s.execute(select(BasketRow.doc).where(BasketRow.id == iid)).scalar()
        if doc is None:
            raise NotFound(f"No basket item {iid!r}: it was removed, or never added.", reason="unknown-item")
        return parse_item(doc)

    # -- writing ------------------------------------------------------------------------------
    def _add(self, s: Session, inputs: Sequence[Common]) -> tuple[list, int, int]:
        """Within a locked transaction: store the new ones. -> (stored items, added, duplicates)."""
        now = utcnow()
        ids = [item_id(f) for f in inputs]
        existing: dict[str, str] = {}
        unique = list(dict.fromkeys(ids))
        for part in _chunks(unique):
            existing.update(s.execute(select(BasketRow.id, BasketRow.doc).where(BasketRow.id.in_(part))).tuples().all())
        seq = s.execute(select(func.max(BasketRow.seq))).scalar() or 0
        out, new_rows, made = [], [], {}
        for iid, fields in zip(ids, inputs, strict=True):
            if iid in existing:
                out.append(parse_item(existing[iid]))
                continue
            if iid in made:
                out.append(made[iid])
                continue
            item = _stored(fields, now, iid)
            made[iid] = item
            out.append(item)
            seq += 1
            new_rows.append({"id": iid, "seq": seq, "kind": item.kind, "title": item.title, "source": item.source,
                             "added": now, "updated": now, "version": 1, "doc": item.model_dump_json()})
        if new_rows:
            s.connection().execute(BasketRow.__table__.insert(), new_rows)  # Core: no ORM bulk overhead
        return out, len(new_rows), len(inputs) - len(new_rows)

    def add(self, inputs: Sequence[Common]) -> AddResult:
        """Add items; one already there (same content) is kept once and returned as it is."""
        with self.db.session() as s:
            rev = self._lock(s)
            items, added, dups = self._add(s, inputs)
            if added:
                rev = self._bump(s, rev)
        return AddResult(items=items, added=added, duplicates=dups, revision=rev)

    def patch(self, iid: str, body: PatchBody):
        """Edit title, notes, tags or metadata; ``body.version`` must be the current version."""
        with self.db.session() as s:
            rev = self._lock(s)
            row = s.get(BasketRow, iid)
            if row is None:
                raise NotFound(f"No basket item {iid!r}: it was removed, or never added.", reason="unknown-item")
            if row.version != body.version:
                raise Conflict(f"The basket item {row.title!r} was changed elsewhere (it is at version {row.version}, "
                               f"your edit was based on version {body.version}). Reload it and edit again.",
                               reason="stale-version")
            item = parse_item(row.doc)
            changes = body.model_dump(exclude_unset=True, exclude={"version"})
            changes = {k: v for k, v in changes.items() if v is not None}
            now = utcnow()
            item = item.model_copy(update={**changes, "version": row.version + 1, "updated": now})
            item = type(item).model_validate(item.model_dump())  # the edited fields validated as any item's
            row.title, row.version, row.updated, row.doc = item.title, item.version, now, item.model_dump_json()
            self._bump(s, rev)
        return item

    def remove(self, iid: str) -> int:
        """Remove one item; -> the new revision."""
        with self.db.session() as s:
            rev = self._lock(s)
            if s.execute(delete(BasketRow).where(BasketRow.id == iid)).rowcount == 0:
                raise NotFound(f"No basket item {iid!r}: it was removed, or never added.", reason="unknown-item")
            return self._bump(s, rev)

    def clear(self, kind: str | None = None) -> tuple[int, int]:
        """Remove every item (of one kind); -> (how many, the new revision)."""
        with self.db.session() as s:
            rev = self._lock(s)
            q = delete(BasketRow)
            if kind:
                q = q.where(BasketRow.kind == kind)
            n = s.execute(q).rowcount
            if n:
                rev = self._bump(s, rev)
        return n, rev

    # -- files --------------------------------------------------------------------------------
    def export(self, kind: str | None = None) -> dict[str, Any]:
        """The basket as a versioned JSON document (see ``ExportDoc``)."""
        _total, _rev, docs = self.page_docs(kind, 0, 2**62)
        return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported": utcnow().isoformat(),
                "items": [json.loads(d) for d in docs]}

    def import_doc(self, doc: ExportDoc, mode: str = "merge") -> ImportResult:
        """Add the items of a validated file, all or nothing (one transaction); ``replace``
        empties the basket first."""
        with self.db.session() as s:
            rev = self._lock(s)
            removed = s.execute(delete(BasketRow)).rowcount if mode == "replace" else 0
            _items, added, dups = self._add(s, doc.items)
            if added or removed:
                rev = self._bump(s, rev)
            total = s.execute(select(func.count()).select_from(BasketRow)).scalar_one()
        return ImportResult(added=added, duplicates=dups, removed=removed, total=total, revision=rev)
