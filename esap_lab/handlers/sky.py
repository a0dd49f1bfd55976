"""Seeing the data: the sky view (HiPS surveys, positions of a result), DataLink of a row and
SODA cutouts, and SAMP (signed table links for SAMP clients, tables they send back)."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from tornado import web

from ..datalink.models import Cutout, CutoutBody, RowLinks
from ..samp.models import LinkBody, Received, ReceivedParams, SignedLink
from ..sky.models import Positions, PositionsParams, SurveyList
from ..tables.formats import MEDIA_TYPES, SUFFIX
from .base import ApiHandler, api, files


def sky(esap):
    from ..sky.service import SkyService, parse_surveys

    s = esap.extra.get("sky")
    if s is None:
        cfg = esap.extra.get("sky_config") or {}
        from ..sky.service import DEFAULT_SURVEYS

        surveys = cfg.get("hips_surveys")
        s = esap.extra["sky"] = SkyService(parse_surveys(list(surveys) if surveys is not None else DEFAULT_SURVEYS),
                                           esap.queries, Path(esap.data_dir) / "hips-cache")
    return s


def datalink(esap):
    from ..datalink.service import DataLinkService

    s = esap.extra.get("datalink")
    if s is None:
        s = esap.extra["datalink"] = DataLinkService(esap.queries, esap.archives, esap.root_dir, esap.basket)
    return s


def samp_links(esap):
    from ..samp.service import SignedLinks

    s = esap.extra.get("samp_links")
    if s is None:
        ttl = (esap.extra.get("sky_config") or {}).get("samp_link_ttl") or 600.0
        s = esap.extra["samp_links"] = SignedLinks(ttl=ttl)
    return s


def table_exporter(esap):
    from .previews import exporter

    return exporter(esap)


class SurveysHandler(ApiHandler):
    @api("The HiPS surveys the sky view offers (c.EsapLab.hips_surveys)", response=SurveyList)
    @web.authenticated
    @authorized
    async def get(self):
        self.send(SurveyList(surveys=sky(self.esap).list()))


class HipsFileHandler(ApiHandler):
    @files("image/png", "image/jpeg", "application/fits", "text/plain")
    @api("One file (properties, tile, Allsky) of a HiPS this server serves", errors=(404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, sid: str, rel: str):
        path, media = await sky(self.esap).file(sid, rel)
        await self.send_file(path, media, cache="private, max-age=3600")


class QueryPositionsHandler(ApiHandler):
    @api("Where the rows of a stored result are on the sky (RA/Dec by UCD or name), in the grid's order",
         query=PositionsParams, response=Positions, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def get(self, qid: str):
        p = self.parse_query(PositionsParams)
        self.send(await sky(self.esap).positions(qid, p.sort, p.order, p.limit))


class TablePositionsHandler(ApiHandler):
    @api("Where the rows of one of my tables are on the sky (as GET /queries/{qid}/positions)",
         query=PositionsParams, response=Positions, errors=(400, 404))
    @web.authenticated
    @authorized
    async def get(self, t: str):
        p = self.parse_query(PositionsParams)
        info, table = await self.esap.tables.arrow(t)
        self.send(await sky(self.esap).positions_of(info.id, info.columns, table, p.sort, p.order, p.limit))


class RowLinksHandler(ApiHandler):
    @api("The DataLink links of one result row (this, preview, cutout services, progenitors ...)",
         response=RowLinks, errors=(404, 409, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, qid: str, row: str):
        self.send(await datalink(self.esap).links(qid, int(row)))


class CutoutsHandler(ApiHandler):
    @api("A SODA cutout (a circle around a result row, or a given centre and radius) into the workspace or "
         "the basket", body=CutoutBody, response=Cutout, status=201, errors=(400, 404, 409, 502, 504))
    @web.authenticated
    @authorized
    async def post(self):
        self.send(await datalink(self.esap).cutout(self.parse_body(CutoutBody)), status=201)


class SampLinksHandler(ApiHandler):
    @api("A short-lived signed URL of a result (or some rows) for a SAMP client: no token needed to fetch it",
         body=LinkBody, response=SignedLink, status=201, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def post(self):
        b = self.parse_body(LinkBody)
        info, table = await table_exporter(self.esap).result(b.query_id)
        if b.rows is not None:
            from ..archives.export import parse_rows

            parse_rows(b.rows, table.num_rows)
        token, expires = samp_links(self.esap).sign(b.query_id, b.rows, b.format)
        base = self.request.protocol + "://" + self.request.host + self.base_url.rstrip("/")
        from ..routes import API_PREFIX

        name = f"{info.archive}-{info.kind}-{b.query_id[:8]}" + ("-selection" if b.rows else "")
        self.send(SignedLink(url=f"{base}{API_PREFIX}/samp/tables/{token}", expires=expires,
                             mtype=f"table.load.{b.format}", name=name,
                             table_id=samp_links(self.esap).table_id(b.query_id, token)), status=201)


class SampTableHandler(ApiHandler):
    """Fetched by SAMP clients, which hold no token: the signed link is the credential (403 when
    it is not one this server signed, was changed, or has expired)."""

    @files(MEDIA_TYPES["votable"], MEDIA_TYPES["fits"])
    @api("The table of a signed link (no token: the signature is checked instead)", errors=(404, 409))
    @allow_unauthenticated
    async def get(self, token: str):
        data = samp_links(self.esap).verify(token)
        ex = table_exporter(self.esap)
        table, columns, base = await ex.query_table(data["q"], data.get("r"))
        fmt = data.get("f") if data.get("f") in ("votable", "fits") else "votable"
        out = await ex.download(table, columns, fmt)
        await self.send_file(out, MEDIA_TYPES[fmt], base + SUFFIX[fmt], inline=True, temporary=True)

    def check_xsrf_cookie(self):
        return None  # a GET from another program: no cookie, no XSRF to check


class SampReceivedHandler(ApiHandler):
    @api("Keep a table a SAMP client sent (the request body, a VOTable or FITS file): it becomes one of my "
         "tables and a basket item", query=ReceivedParams, response=Received, status=201, errors=(400, 409))
    @web.authenticated
    @authorized
    async def post(self):
        from ..samp.service import receive

        p = self.parse_query(ReceivedParams)
        info, item_id = await receive(self.esap.tables, self.esap.basket, self.body, p.name, p.format, p.sender)
        self.send(Received(table_id=info.id, table_name=info.name, row_count=info.row_count, item_id=item_id),
                  status=201)

    @property
    def max_body_size(self) -> int:
        tables = self.esap.tables
        return tables.max_bytes if tables is not None else super().max_body_size
