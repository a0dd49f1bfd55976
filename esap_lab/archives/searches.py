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
from datetime import datetime, timezone

from .. import executors
from ..errors import BadRequest, Conflict, EsapError, NotFound, RemoteError
from ..operations import utcnow
from .merge import MERGED, Part, merge
from .models import ObscoreQuery, QueryInfo, SearchEntry, SearchInfo, TapQuery, error_position
from .queries import RESULTS, QueryManager

KEEP = 200  # searches remembered (the oldest are forgotten first; their queries stay)


@dataclass
class _Search:
    id: str
    created: object
    request: dict
    query: str | None  # the ADQL, to locate an error given as a character offset
    entries: list[tuple[str, str | None, SearchEntry | None]]  # archive, query id, or the entry of a refusal
    merged: str | None = None  # the query holding the archives' results merged, once asked for


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

        sent = request
        if isinstance(request, ObscoreQuery):
            sent = await obscore_tap(request)

        async def one(archive_id: str):
            try:  # wait=0: the query is recorded and runs; a failure is kept in its record
                if isinstance(request, ObscoreQuery):
                    _needs_obscore(self.queries.registry, archive_id)
                info = await self.queries.submit(archive_id, sent, wait=0)
                return archive_id, info.id, None
            except EsapError as e:  # the archive cannot take this query (e.g. no cone search)
                return archive_id, None, SearchEntry(archive=archive_id, status="error", message=e.message,
                                                     reason=e.reason,
                                                     service=e.service if isinstance(e, RemoteError) else None)

        entries = await asyncio.gather(*(one(a) for a in ids))
        search = _Search(id=uuid.uuid4().hex, created=utcnow(),
                         request=request.model_dump(mode="json", by_alias=True, exclude_none=True),
                         query=getattr(sent, "query", None), entries=list(entries))
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

    async def wait(self, sid: str, timeout: float, first: bool = False) -> SearchInfo:
        """The search once its running archives have ended, or after ``timeout`` seconds; ``first``:
        once one of them has ended (a client follows a fan-out without polling: each archive's end
        is seen when it happens)."""
        search = self._search(sid)
        await self.queries.settled([qid for _, qid, _ in search.entries if qid], timeout, first=first)
        return await self.get(sid)

    async def get(self, sid: str) -> SearchInfo:
        search = self._search(sid)
        found = await self.queries.get_many([qid for _, qid, _ in search.entries if qid])  # one read for all

        def entry(archive_id, qid, refused) -> SearchEntry:
            if refused is not None:
                return refused
            q = found.get(qid)
            if q is None:
                return SearchEntry(archive=archive_id, query_id=qid, status="cancelled",
                                   message="The query was deleted.", reason="query-deleted")
            return SearchEntry(archive=archive_id, query_id=qid, status=q.status, row_count=q.row_count,
                               overflow=q.overflow, message=q.message, reason=q.reason, service=q.service,
                               position=q.position if q.status == "error" else None)

        entries = [entry(*e) for e in search.entries]
        for e in entries:
            if e.position is None and e.reason == "query-rejected":
                e.position = error_position(e.message, search.query)
        running = any(e.status in ("queued", "running") for e in entries)
        return SearchInfo(id=search.id, created=search.created, request=search.request,
                          status="running" if running else "completed", archives=list(entries),
                          merged_query_id=search.merged)

    async def merge(self, sid: str) -> QueryInfo:
        """The completed archives' results as one stored query (columns aligned by name or UCD,
        units converted where they differ, an ``archive`` column first). Asked again: the same one."""
        search = self._search(sid)
        if search.merged is not None:
            try:
                return await self.queries.get(search.merged)
            except NotFound:
                search.merged = None  # deleted since: merge again
        info = await self.get(sid)
        if info.status == "running":
            running = [e.archive for e in info.archives if e.status in ("queued", "running")]
            raise Conflict(f"The search is still running on {', '.join(running)}; merge once every archive has "
                           "answered (or cancel those still running).", reason="search-running")
        done = [e for e in info.archives if e.status == "completed" and e.query_id]
        if not done:
            raise Conflict("No archive answered this search, so there is nothing to merge.",
                           reason="nothing-to-merge")
        found = await self.queries.get_many([e.query_id for e in done])  # one read for all
        parts = []
        for e in done:
            q = found.get(e.query_id) or await self.queries.get(e.query_id)  # deleted since: its 404
            if not self.queries.results.exists(q.id):
                raise Conflict(f"The rows of {e.archive} are gone from the server; run the search again.",
                               reason="rows-missing")
            table = await executors.run(RESULTS, self.queries.results.read, q.id)
            parts.append(Part(archive=e.archive, table=table, columns=q.columns,
                              access_url_column=q.access_url_column, overflow=q.overflow))
        result = await executors.run(RESULTS, merge, parts)
        request = {**search.request, "search": sid, "merged": {e.archive: e.query_id for e in done}}
        merged = await self.queries.store(MERGED, search.request.get("kind", "merge"), request, result)
        search.merged = merged.id
        return merged


# -- ObsCore: a form turned into ADQL on ivoa.obscore ------------------------------------------------

_MJD0 = datetime(1858, 11, 17, tzinfo=timezone.utc)


def _mjd(t: datetime) -> float:
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return (t - _MJD0).total_seconds() / 86400.0


def obscore_adql(q: ObscoreQuery, ra: float | None = None, dec: float | None = None) -> str:
    """The ADQL of an ObsCore search (numbers written by repr, terms from fixed lists: nothing
    the user typed goes into the text unchecked)."""
    where = []
    if ra is not None and dec is not None:
        where.append(f"1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', {ra!r}, {dec!r}, {q.radius!r}))")
    if q.band is not None:
        where.append(f"em_min <= {q.band[1]!r} AND em_max >= {q.band[0]!r}")
    if q.time is not None:
        where.append(f"t_min <= {_mjd(q.time[1])!r} AND t_max >= {_mjd(q.time[0])!r}")
    if q.dataproduct_type:
        where.append("dataproduct_type IN (" + ", ".join(f"'{t}'" for t in dict.fromkeys(q.dataproduct_type)) + ")")
    if q.calib_level:
        where.append("calib_level IN (" + ", ".join(str(int(c)) for c in sorted(set(q.calib_level))) + ")")
    return "SELECT * FROM ivoa.obscore\nWHERE " + "\n  AND ".join(where)


async def obscore_tap(q: ObscoreQuery) -> TapQuery:
    """The TAP query of an ObsCore search (a target name resolved once, for every archive)."""
    ra, dec = q.ra, q.dec
    if q.target is not None:
        from .ivoa import resolve_name

        ra, dec = await executors.run("sesame", resolve_name, q.target)
    return TapQuery(kind="tap", query=obscore_adql(q, ra, dec), maxrec=q.maxrec)


def _needs_obscore(registry, archive_id: str) -> None:
    archive = registry.get(archive_id)
    if "tap" not in archive.capabilities:
        raise BadRequest(f"Archive {archive.cfg.title!r} has no TAP service, so no ObsCore table to search.",
                         reason="unsupported-kind")
    if registry.has_obscore(archive_id) is False:
        raise BadRequest(f"Archive {archive.cfg.title!r} has no ivoa.obscore table.", reason="no-obscore")
