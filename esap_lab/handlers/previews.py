"""Looking at the data: exports (download or into the workspace), plots of a whole result,
region selections, and previews of FITS images and spectra."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import executors
from ..archives.queries import RESULTS
from ..previews import plots
from ..previews.models import (
    BasketExportParams,
    BasketSaveBody,
    ExportParams,
    ExportSaveBody,
    PlotData,
    PlotParams,
    PreviewParams,
    SavedFile,
    SelectBody,
    Selection,
    Spectrum,
)
from ..tables.formats import EXPORT_MEDIA_TYPES, MEDIA_TYPES, SUFFIX
from .base import ApiHandler, api, files


def exporter(esap):
    """The services' Exporter (made on first use)."""
    from ..archives.export import Exporter

    ex = esap.extra.get("exporter")
    if ex is None:
        ex = esap.extra["exporter"] = Exporter(esap.queries, esap.basket, esap.root_dir,
                                               Path(esap.data_dir) / "exports")
    return ex


class QueryExportHandler(ApiHandler):
    @files(*EXPORT_MEDIA_TYPES)
    @api("A stored result, or some of its rows, as a file: votable (binary2), fits, csv, ecsv or parquet, with "
         "units, UCDs and descriptions where the format holds them", query=ExportParams, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def get(self, qid: str):
        p = self.parse_query(ExportParams)
        ex = exporter(self.esap)
        table, columns, base = await ex.query_table(qid, p.rows)
        await self.send_file(await ex.download(table, columns, p.format), MEDIA_TYPES[p.format],
                             base + SUFFIX[p.format], temporary=True)

    @api("Save a stored result, or some of its rows, as a file under the server root", body=ExportSaveBody,
         response=SavedFile, status=201, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def post(self, qid: str):
        b = self.parse_body(ExportSaveBody)
        ex = exporter(self.esap)
        ex.target(b.path, b.overwrite)  # a bad path is refused before any work
        table, columns, _ = await ex.query_table(qid, b.rows)
        self.send(SavedFile(**await ex.save(table, columns, b.format, b.path, b.overwrite)), status=201)


class BasketTableExportHandler(ApiHandler):
    @files(*EXPORT_MEDIA_TYPES)
    @api("Basket records (all, those of one query, or the items named) as one table file: votable, fits, csv, "
         "ecsv or parquet", query=BasketExportParams, errors=(400,))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(BasketExportParams)
        items = [i for i in (p.items or "").split(",") if i.strip()] or None
        ex = exporter(self.esap)
        table, columns, base = await ex.basket_table(p.query_id, items)
        await self.send_file(await ex.download(table, columns, p.format), MEDIA_TYPES[p.format],
                             base + SUFFIX[p.format], temporary=True)

    @api("Save basket records as one table file under the server root", body=BasketSaveBody, response=SavedFile,
         status=201, errors=(400, 409))
    @web.authenticated
    @authorized
    async def post(self):
        b = self.parse_body(BasketSaveBody)
        ex = exporter(self.esap)
        ex.target(b.path, b.overwrite)
        table, columns, _ = await ex.basket_table(b.query_id, b.items)
        self.send(SavedFile(**await ex.save(table, columns, b.format, b.path, b.overwrite)), status=201)


class QueryPlotHandler(ApiHandler):
    @api("Binned data for a plot of a whole stored result: scatter (all points or an even sample), histogram "
         "(edges, counts) or 2-D density (a grid of counts), with the columns' units", query=PlotParams,
         response=PlotData, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def get(self, qid: str):
        p = self.parse_query(PlotParams)
        info, table = await exporter(self.esap).result(qid)
        units = {c.name: c.unit for c in info.columns}
        self.send(await executors.run(RESULTS, plots.plot, table, units, p))


class QuerySelectHandler(ApiHandler):
    @api("The rows of a stored result inside a region of a plot (x range, and y range when y is given)",
         body=SelectBody, response=Selection, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def post(self, qid: str):
        b = self.parse_body(SelectBody)
        _, table = await exporter(self.esap).result(qid)
        self.send(await executors.run(RESULTS, plots.select, table, b))


class TablePlotHandler(ApiHandler):
    @api("Binned data for a plot of one of my tables (as GET /queries/{qid}/plot)", query=PlotParams,
         response=PlotData, errors=(400, 404))
    @web.authenticated
    @authorized
    async def get(self, t: str):
        p = self.parse_query(PlotParams)
        info, table = await self.esap.tables.arrow(t)
        units = {c.name: c.unit for c in info.columns}
        self.send(await executors.run(RESULTS, plots.plot, table, units, p))


class TableSelectHandler(ApiHandler):
    @api("The rows of one of my tables inside a region of a plot", body=SelectBody, response=Selection,
         errors=(400, 404))
    @web.authenticated
    @authorized
    async def post(self, t: str):
        b = self.parse_body(SelectBody)
        _, table = await self.esap.tables.arrow(t)
        self.send(await executors.run(RESULTS, plots.select, table, b))


def preview_service(esap):
    from ..previews.service import PreviewService

    svc = esap.extra.get("previews")
    if svc is None:
        svc = esap.extra["previews"] = PreviewService(esap.queries, esap.root_dir, Path(esap.data_dir) / "previews",
                                                      basket=esap.basket)
    return svc


class PreviewHandler(ApiHandler):
    @files("image/png")
    @api("A preview rendered on the server of a FITS file under the server root (path) or of the data link of a "
         "result row (query, row) or of a basket record (item): an image as PNG (zscale or asinh stretch, WCS "
         "grid), a spectrum as JSON",
         query=PreviewParams, response=Spectrum, errors=(400, 404, 409, 502, 504))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(PreviewParams)
        kind, out = await preview_service(self.esap).preview(p)
        if kind == "image":
            await self.send_file(out, "image/png", cache="private, max-age=60")
        else:
            self.send(out)
