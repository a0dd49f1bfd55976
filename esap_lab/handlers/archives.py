"""Discovery endpoints: archives, queries and their rows, schema browser, examples, fan-out."""

import json

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..archives.models import (
    ArchiveBody,
    ArchiveInfo,
    ArchiveList,
    ExampleList,
    QueryBody,
    QueryInfo,
    QueryList,
    RowsPage,
    RowsParams,
    SearchBody,
    SearchInfo,
    SearchWaitParams,
    StartParams,
    TableDetail,
    TableList,
    TableListParams,
    error_position,
)
from ..errors import EsapError
from .base import ApiHandler, api


class _AdqlErrors(ApiHandler):
    """An ADQL error a service rejected also says where it is ("position": {"line", "column"}),
    when the service's message does, so the editor can mark it."""

    def write_error(self, status_code: int, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, EsapError) and exc.reason == "query-rejected":
            query = getattr(self, "_adql", None)
            position = error_position(exc.message, query)
            if position is not None:
                self.set_status(exc.status)
                self.set_header("Content-Type", "application/json")
                self.finish(json.dumps({"message": exc.message, "reason": exc.reason,
                                        "position": position.model_dump()}))
                return
        super().write_error(status_code, **kwargs)


class ArchivesHandler(ApiHandler):
    @api("List the configured archives and what each supports", response=ArchiveList)
    @web.authenticated
    @authorized
    async def get(self):
        check = self.get_argument("check", "true").lower() not in ("0", "false", "no")
        self.send(ArchiveList(archives=await self.esap.archives.list(check=check)))

    @api("Add an archive for this user (e.g. a service found in the registry); kept in the user's state",
         body=ArchiveBody, response=ArchiveInfo, status=201, errors=(409,), links={"archive": "/id"})
    @web.authenticated
    @authorized
    async def post(self):
        body = self.parse_body(ArchiveBody)
        self.send(await self.esap.archives.add_user(body), status=201)


class ArchiveQueriesHandler(_AdqlErrors):
    @api("Start a query on an archive", body=QueryBody, query=StartParams, response=QueryInfo, status=201,
         errors=(400, 404, 502, 504), links={"qid": "/id"})
    @web.authenticated
    @authorized
    async def post(self, archive: str):
        request = self.parse_body(QueryBody).root
        self._adql = getattr(request, "query", None)
        params = self.parse_query(StartParams)
        info = await self.esap.queries.submit(archive, request, wait=params.wait)
        self.send(info, status=201)


class QueriesHandler(ApiHandler):
    @api("List recent queries", response=QueryList)
    @web.authenticated
    @authorized
    async def get(self):
        self.send(QueryList(queries=await self.esap.queries.list()))


class QueryHandler(ApiHandler):
    @api("A query's status, row count and columns", response=QueryInfo, errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, qid: str):
        self.send(await self.esap.queries.get(qid))

    @api("Cancel a query (its remote job too) and forget it", status=204, errors=(404,))
    @web.authenticated
    @authorized
    async def delete(self, qid: str):
        await self.esap.queries.cancel(qid)
        self.set_status(204)
        self.finish()


class QueryRowsHandler(ApiHandler):
    @api("One page of a query's stored result, sorted by any column", query=RowsParams, response=RowsPage,
         errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def get(self, qid: str):
        p = self.parse_query(RowsParams)
        self.send(await self.esap.queries.rows(qid, p.offset, p.limit, p.sort, p.order))


class ArchiveTablesHandler(ApiHandler):
    @api("The schemas of an archive's TAP service, or the tables of one schema (VOSI tables, loaded lazily "
         "and cached), filtered by q and paged", query=TableListParams, response=TableList,
         errors=(404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, archive: str):
        p = self.parse_query(TableListParams)
        self.send(await self.esap.browser.tables(archive, p.schema_, p.q, p.offset, p.limit))


class ArchiveTableHandler(ApiHandler):
    @api("One table of an archive's TAP service with its columns (datatype, unit, UCD, description)",
         response=TableDetail, errors=(404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, archive: str, table: str):
        self.send(await self.esap.browser.table(archive, table))


class ArchiveExamplesHandler(ApiHandler):
    @api("The TAP examples of an archive (DALI /examples) as name and ADQL; none: an empty list",
         response=ExampleList, errors=(404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, archive: str):
        self.send(await self.esap.browser.examples(archive))


class SearchesHandler(_AdqlErrors):
    @api("Send one request to several archives at once (one query each, in each archive's own threads)",
         body=SearchBody, query=StartParams, response=SearchInfo, status=201, links={"sid": "/id"})
    @web.authenticated
    @authorized
    async def post(self):
        body = self.parse_body(SearchBody)
        params = self.parse_query(StartParams)
        self.send(await self.esap.searches.start(body.request, body.archives, wait=params.wait), status=201)


class SearchHandler(ApiHandler):
    @api("A fan-out search: each archive's query id, status, row count and error; with wait, answered once "
         "one of the archives still running has ended (or after wait seconds)", query=SearchWaitParams,
         response=SearchInfo, errors=(400, 404))
    @web.authenticated
    @authorized
    async def get(self, sid: str):
        p = self.parse_query(SearchWaitParams)
        if p.wait > 0:
            self.send(await self.esap.searches.wait(sid, p.wait, first=True))
        else:
            self.send(await self.esap.searches.get(sid))


class SearchMergeHandler(ApiHandler):
    @api("Merge the results of a fan-out search into one stored query: columns aligned by name or UCD (units "
         "converted where they differ), an 'archive' column naming each row's archive; paged, sorted and "
         "exported like any query. Asked again: the same query", response=QueryInfo, status=201,
         errors=(404, 409), links={"qid": "/id"})
    @web.authenticated
    @authorized
    async def post(self, sid: str):
        self.send(await self.esap.searches.merge(sid), status=201)
