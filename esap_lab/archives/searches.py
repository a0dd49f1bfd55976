"""One search over many archives: the same request, one query per archive, all started at once.

Each archive's query is an ordinary query of the QueryManager (its lifecycle, its stored rows,
its own archive threads), so a slow or dead archive delays or fails only its own query and the
total wall time is that of the slowest. A search only remembers which query belongs to which
archive (in memory: the queries themselves are stored and survive a restart; the grouping does
not).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from ..errors import BadRequest, EsapError, NotFound, RemoteError
from ..operations import utcnow
from .models import SearchEntry, SearchInfo, error_position
from .queries import QueryManager

KEEP = 200  # searches remembered (the oldest are forgotten first; their queries stay)


@dataclass
class _Search:
    id: str
    created: object
    request: dict
    query: str | None  # the ADQL, to locate an error given as a character offset
    entries: list[tuple[str, str | None, SearchEntry | None]]  # archive, query id, or the entry of a refusal


class SearchManager:
    def __init__(self, queries: QueryManager):
        self.queries = queries
        self._searches: OrderedDict[str, _Search] = OrderedDict()

    async def start(self, request, archive_ids: list[str], wait: float = 0.0) -> SearchInfo:
        """Start ``request`` on every archive at once; wait up to ``wait`` seconds for all."""
        ids = list(dict.fromkeys(archive_ids))  # each once, in the order given
        for i, a in enumerate(ids):
            try:
                self.queries.registry.get(a)
            except NotFound as e:
                raise BadRequest(f"Invalid request: archives.{i}: {e.message}", reason="unknown-archive") from None

        async def one(archive_id: str):
            try:  # wait=0: the query is recorded and runs; a failure is kept in its record
                info = await self.queries.submit(archive_id, request, wait=0)
                return archive_id, info.id, None
            except EsapError as e:  # the archive cannot take this query (e.g. no cone search)
                return archive_id, None, SearchEntry(archive=archive_id, status="error", message=e.message,
                                                     reason=e.reason,
                                                     service=e.service if isinstance(e, RemoteError) else None)

        entries = await asyncio.gather(*(one(a) for a in ids))
        search = _Search(id=uuid.uuid4().hex, created=utcnow(),
                         request=request.model_dump(mode="json", by_alias=True, exclude_none=True),
                         query=getattr(request, "query", None), entries=list(entries))
        self._searches[search.id] = search
        while len(self._searches) > KEEP:
            self._searches.popitem(last=False)
        if wait > 0:
            await self.wait(search.id, wait)
        return await self.get(search.id)

    def _search(self, sid: str) -> _Search:
        search = self._searches.get(sid)
        if search is None:
            raise NotFound(f"No search {sid!r}: it never existed, or the server restarted since (each "
                           "archive's query is still listed under /queries).", reason="unknown-search")
        return search

    async def wait(self, sid: str, timeout: float) -> SearchInfo:
        search = self._search(sid)
        qids = [qid for _, qid, _ in search.entries if qid]
        try:
            await asyncio.wait_for(asyncio.gather(*(self.queries.wait(q, timeout) for q in qids),
                                                  return_exceptions=True), timeout + 1)
        except TimeoutError:
            pass
        return await self.get(sid)

    async def get(self, sid: str) -> SearchInfo:
        search = self._search(sid)

        async def entry(archive_id, qid, refused) -> SearchEntry:
            if refused is not None:
                return refused
            try:
                q = await self.queries.get(qid)
            except NotFound:
                return SearchEntry(archive=archive_id, query_id=qid, status="cancelled",
                                   message="The query was deleted.", reason="query-deleted")
            return SearchEntry(archive=archive_id, query_id=qid, status=q.status, row_count=q.row_count,
                               overflow=q.overflow, message=q.message, reason=q.reason, service=q.service,
                               position=q.position if q.status == "error" else None)

        entries = await asyncio.gather(*(entry(*e) for e in search.entries))
        for e in entries:
            if e.position is None and e.reason == "query-rejected":
                e.position = error_position(e.message, search.query)
        running = any(e.status in ("queued", "running") for e in entries)
        return SearchInfo(id=search.id, created=search.created, request=search.request,
                          status="running" if running else "completed", archives=list(entries))
