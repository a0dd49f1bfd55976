"""Discovery endpoints: archives, queries and their rows."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..archives.models import (ArchiveList, QueryBody, QueryInfo, QueryList, RowsPage, RowsParams,
                               StartParams)
from .base import ApiHandler, api


class ArchivesHandler(ApiHandler):
    @api("List the configured archives and what each supports", response=ArchiveList)
    @web.authenticated
    @authorized
    async def get(self):
        check = self.get_argument("check", "true").lower() not in ("0", "false", "no")
        self.send(ArchiveList(archives=await self.esap.archives.list(check=check)))


class ArchiveQueriesHandler(ApiHandler):
    @api("Start a query on an archive", body=QueryBody, query=StartParams, response=QueryInfo, status=201,
         errors=(400, 404, 502, 504), links={"qid": "/id"})
    @web.authenticated
    @authorized
    async def post(self, archive: str):
        request = self.parse_body(QueryBody).root
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
