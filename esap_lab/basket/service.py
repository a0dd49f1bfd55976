"""The basket as the server uses it: the store's calls off the event loop, and items completed
with what the server knows (a query's column metadata and access-URL column, an archive's
service URLs) so a kernel can use them without asking the server."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..db import Database
from ..errors import EsapError
from .models import AddResult, Common, ExportDoc, ImportResult, PatchBody, QueryFields, RecordFields, Summary
from .store import BasketStore

log = logging.getLogger("esap_lab.basket")


class BasketService:
    def __init__(self, db: Database, archives: Any = None, queries: Any = None):
        """``archives``: an ArchiveRegistry (``.get(id).services``); ``queries``: a QueryManager
        (``await .get(qid)`` -> QueryInfo). Both optional: items are then stored as given."""
        self.db = db
        self.store = BasketStore(db)
        self.archives = archives
        self.queries = queries

    async def summary(self) -> Summary:
        return await self.db.run(self.store.summary)

    async def page_json(self, kind: str | None, offset: int, limit: int, order: str) -> str:
        return await self.db.run(self.store.page_json, kind, offset, limit, order)

    async def get(self, iid: str):
        return await self.db.run(self.store.get, iid)

    async def add(self, inputs: Sequence[Common]) -> AddResult:
        infos: dict[str, Any] = {}  # one look-up per query, however many of its rows come
        inputs = [await self._complete(f, infos) for f in inputs]
        return await self.db.run(self.store.add, inputs)

    async def patch(self, iid: str, body: PatchBody):
        return await self.db.run(self.store.patch, iid, body)

    async def remove(self, iid: str) -> int:
        return await self.db.run(self.store.remove, iid)

    async def clear(self, kind: str | None) -> tuple[int, int]:
        return await self.db.run(self.store.clear, kind)

    async def export(self, kind: str | None) -> dict[str, Any]:
        return await self.db.run(self.store.export, kind)

    async def import_doc(self, doc: ExportDoc, mode: str) -> ImportResult:
        return await self.db.run(self.store.import_doc, doc, mode)

    # -- completing items -------------------------------------------------------------------
    async def _query_info(self, qid: str | None, infos: dict[str, Any]):
        if self.queries is None or not qid:
            return None
        if qid not in infos:
            try:
                infos[qid] = await self.queries.get(qid)
            except EsapError:
                infos[qid] = None  # forgotten meanwhile: the item stands on its own
        return infos[qid]

    def _services(self, archive: str) -> dict[str, str]:
        if self.archives is None:
            return {}
        try:
            return dict(self.archives.get(archive).services)
        except EsapError:
            return {}  # not configured here (e.g. an imported item)

    async def _complete(self, f: Common, infos: dict[str, Any]) -> Common:
        update: dict[str, Any] = {}
        if isinstance(f, RecordFields):
            info = await self._query_info(f.query_id, infos) if (f.columns is None or f.access_url_column is None) else None
            if info is not None and info.archive == f.archive:
                if f.columns is None and info.columns:
                    names = {k for r in f.rows for k in r}
                    update["columns"] = [c.model_dump() for c in info.columns if c.name in names]
                if f.access_url_column is None and info.access_url_column:
                    update["access_url_column"] = info.access_url_column
            column = update.get("access_url_column", f.access_url_column)
            if f.access_url is None and column and len(f.rows) == 1 and f.rows[0].get(column):
                update["access_url"] = str(f.rows[0][column])
        elif isinstance(f, QueryFields):
            if not f.services:
                update["services"] = self._services(f.archive)
            if f.row_count is None:
                info = await self._query_info(f.query_id, infos)
                if info is not None and info.row_count is not None:
                    update["row_count"] = info.row_count
        if not update:
            return f
        return type(f).model_validate({**f.model_dump(), **update})
