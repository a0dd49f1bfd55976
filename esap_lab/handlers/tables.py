"""My tables: named tables (from results, basket records, files, URLs, uploads), SQL, crossmatch."""


from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import EsapError
from ..tables.formats import EXPORT_MEDIA_TYPES, MEDIA_TYPES
from ..tables.models import (
    CreateBody,
    CrossmatchBody,
    ExportParams,
    ListParams,
    PatchBody,
    RowsPage,
    RowsParams,
    SqlBody,
    TableInfo,
    TableList,
    UploadParams,
)
from .base import ApiHandler, api, files


class TablesHandler(ApiHandler):
    @api("List my tables (or my SQL / crossmatch results), oldest first", query=ListParams, response=TableList)
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(ListParams)
        self.send(TableList(tables=await self.esap.tables.list(p.project, p.kind)))

    @api("Save a stored query result, basket records, a file under the server root, a URL or a result as a "
         "named table", body=CreateBody, response=TableInfo, status=201, errors=(400, 404, 409, 502, 504))
    @web.authenticated
    @authorized
    async def post(self):
        self.send(await self.esap.tables.create(self.parse_body(CreateBody)), status=201)


class TableUploadHandler(ApiHandler):
    @api("Save the file in the request body (csv, fits, votable, ecsv, parquet) as a named table",
         query=UploadParams, response=TableInfo, status=201, errors=(400, 409))
    @web.authenticated
    @authorized
    async def post(self):
        p = self.parse_query(UploadParams)
        streamed = isinstance(getattr(type(self), "body", None), property)  # the base keeps the body itself
        data = self.body if streamed else self.request.body
        self.send(await self.esap.tables.upload(p, data), status=201)

    @property
    def max_body_size(self) -> int:
        # a table file may be larger than a JSON body (c.EsapLab.tables_max_bytes)
        return self.esap.tables.max_bytes

    def _too_large(self):
        # the setting that governs this body is the tables' own, not max_body_size
        raise EsapError(f"The file is larger than the server accepts as a table ({self.max_body_size:,} bytes; "
                        f"c.EsapLab.tables_max_bytes).", status=413, reason="body-too-large")


class TableSqlHandler(ApiHandler):
    @api("Run one SELECT (DuckDB SQL) over my tables; the rows are kept as a result (pageable, exportable, "
         "savable) or saved directly as a table", body=SqlBody, response=TableInfo, status=201, errors=(400, 409))
    @web.authenticated
    @authorized
    async def post(self):
        self.send(await self.esap.tables.sql(self.parse_body(SqlBody)), status=201)


class TableCrossmatchHandler(ApiHandler):
    @api("Positional crossmatch of two of my tables (radius in arcsec; best or all matches; a separation "
         "column in arcsec)", body=CrossmatchBody, response=TableInfo, status=201, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def post(self):
        self.send(await self.esap.tables.crossmatch(self.parse_body(CrossmatchBody)), status=201)


class TableHandler(ApiHandler):
    @api("One table or result (by name or id): columns with unit/UCD/description, provenance", response=TableInfo,
         errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, t: str):
        self.send(await self.esap.tables.get(t))

    @api("Rename, describe or move a table to another project", body=PatchBody, response=TableInfo,
         errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def patch(self, t: str):
        self.send(await self.esap.tables.patch(t, self.parse_body(PatchBody)))

    @api("Delete a table or result", status=204, errors=(404,))
    @web.authenticated
    @authorized
    async def delete(self, t: str):
        await self.esap.tables.delete(t)
        self.set_status(204)
        self.finish()


class TableRowsHandler(ApiHandler):
    @api("One page of a table's rows, sorted by any column (the query result grid's contract)", query=RowsParams,
         response=RowsPage, errors=(400, 404))
    @web.authenticated
    @authorized
    async def get(self, t: str):
        p = self.parse_query(RowsParams)
        self.send(await self.esap.tables.rows(t, p.offset, p.limit, p.sort, p.order))


class TableExportHandler(ApiHandler):
    @files(*EXPORT_MEDIA_TYPES)
    @api("The whole table as a file: votable, fits, csv, ecsv or parquet (units, UCDs and descriptions kept "
         "where the format can hold them)", query=ExportParams, errors=(400, 404))
    @web.authenticated
    @authorized
    async def get(self, t: str):
        p = self.parse_query(ExportParams)
        path, name, temporary = await self.esap.tables.export(t, p.format)
        await self.send_file(path, MEDIA_TYPES[p.format], name, temporary=temporary)
