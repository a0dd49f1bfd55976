"""DataLink of one stored result row, and SODA cutouts of it into the workspace or the basket.

The row's DataLink document comes from the service descriptor the archive sent with the rows
(kept with them: esap_lab.datalink.descriptors), else from an access URL whose format is a
DataLink document. Requests go through the archive's own session (its credentials, deadline and
the outbound policy) in the archive's executor; nothing here knows of HTTP handlers.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np

from .. import executors
from ..archives.merge import MERGED
from ..archives.results import stored_result
from ..errors import BadRequest, Conflict, EsapError, NotFound, RemoteError
from ..sky.positions import fov_column, number, position_columns
from . import descriptors
from .models import Cutout, CutoutBody, Link, LinkParam, RowLinks, ServiceInfo

RESULTS = "results"
SODA_STD = "ivo://ivoa.net/std/SODA"
# SODA's own parameters: the cutout sets the shape; the service's fixed values (ID) are kept
SODA_PARAMS = {"POS", "CIRCLE", "POLYGON", "BAND", "TIME", "POL", "FIELD", "RESPONSEFORMAT", "RA", "DEC",
               "SCALE", "KIND", "PIXEL_1", "PIXEL_2", "PIXEL_3", "MAXREC", "UPLOAD"}
MAX_DOC = 16 * 1024 * 1024  # bytes of one DataLink document
DEFAULT_RADIUS = 0.05


def _plain(v):
    if v is None or v is np.ma.masked:
        return None
    if isinstance(v, np.ma.MaskedArray):
        v = v.filled(np.nan) if v.dtype.kind == "f" else v.data
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def parse_document(content: bytes) -> tuple[list[Link], list[ServiceInfo]]:
    """The links and processing services of a DataLink VOTable."""
    from astropy.io.votable import parse

    vot = parse(io.BytesIO(content), verify="ignore")
    links: list[Link] = []
    services: dict[str, ServiceInfo] = {}
    results = None
    for res in vot.resources:
        if res.type == "results" and res.tables:
            results = res.tables[0]
    if results is None:
        raise ValueError("no results table")
    field_ids = {f.ID: f.name for f in results.fields if f.ID}
    table = results.array
    names = table.dtype.names or ()

    def cell(row, name):
        return _plain(row[name]) if name in names else None

    for row in table:
        sem = cell(row, "semantics") or ""
        links.append(Link(semantics=str(sem), url=cell(row, "access_url") or None,
                          service=cell(row, "service_def") or None, content_type=cell(row, "content_type") or None,
                          content_length=cell(row, "content_length"), description=cell(row, "description") or None,
                          error=cell(row, "error_message") or None))
    for res in vot.resources:
        if res.type != "meta" or not res.ID:
            continue
        params = {p.name: _plain(p.value) for p in res.params}
        url = params.get("accessURL")
        if not url:
            continue
        std = params.get("standardID") or None
        inputs = []
        for group in res.groups:
            if group.name != "inputParams":
                continue
            for p in group.entries:
                if not hasattr(p, "name"):
                    continue
                value = _plain(p.value)
                ref = getattr(p, "ref", None)
                if ref:  # the value comes from the links row of this service
                    owner = next((r for r in table if cell(r, "service_def") == res.ID), None)
                    col = field_ids.get(ref, ref)
                    value = cell(owner, col) if owner is not None else None
                inputs.append(LinkParam(name=p.name, value=value, unit=str(p.unit) if p.unit else None,
                                        ucd=p.ucd or None, description=(p.description or "").strip() or None))
        services[res.ID] = ServiceInfo(id=res.ID, url=str(url), standard=std,
                                       soda=bool(std and str(std).startswith(SODA_STD)), params=inputs)
    used = {lk.service for lk in links if lk.service}
    return links, [s for sid, s in services.items() if sid in used]


def soda_url(service: ServiceInfo, ra: float, dec: float, radius: float) -> str:
    fixed = {p.name: p.value for p in service.params
             if p.name.upper() not in SODA_PARAMS and isinstance(p.value, str | int | float) and p.value != ""}
    fixed["CIRCLE"] = f"{ra:.7f} {dec:.7f} {radius:.7f}"
    sep = "&" if "?" in service.url else "?"
    return service.url + sep + urlencode(fixed, quote_via=quote)


class DataLinkService:
    """``queries``: the QueryManager; ``registry``: the archives; ``basket``: the BasketService."""

    def __init__(self, queries, registry, root_dir: str | os.PathLike, basket=None, folder: str = "cutouts"):
        self.queries = queries
        self.registry = registry
        self.root_dir = Path(root_dir).resolve()
        self.basket = basket
        self.folder = folder

    async def _row(self, qid: str, i: int) -> tuple[object, dict, list[dict]]:
        info, table = await stored_result(self.queries, qid, "to link from")

        def read():
            if i >= table.num_rows:
                raise NotFound(f"row: query {qid} has {table.num_rows} rows (0..{table.num_rows - 1}); "
                               f"there is no row {i}.", reason="no-such-row")
            return table.slice(i, 1).to_pylist()[0], descriptors.read(table.schema)

        row, descs = await executors.run(RESULTS, read)
        return info, row, descs

    def _datalink_url(self, info, row: dict, descs: list[dict]) -> tuple[str, str] | None:
        """The row's DataLink URL and the archive that serves it. A merged result's row is its own
        archive's: that archive's descriptors only (see archives.merge)."""
        for d in descs:
            if d.get("archive") and row.get(d.get("archive_column") or "") != d["archive"]:
                continue
            value = row.get(d["id_column"])
            if value not in (None, ""):
                sep = "&" if "?" in d["url"] else "?"
                return d["url"] + sep + "ID=" + quote(str(value), safe=""), d.get("archive") or info.archive
        fmt = next((row[k] for k in ("access_format", "mime", "format") if row.get(k)), "") or ""
        access = info.access_url_column
        if "datalink" in str(fmt).lower() and access and row.get(access):
            archive = info.archive
            if info.archive == MERGED and info.columns:  # merge puts the rows' archive first
                archive = str(row.get(info.columns[0].name) or "")
            return str(row[access]), archive
        return None

    async def links(self, qid: str, i: int) -> RowLinks:
        info, row, descs = await self._row(qid, i)
        found = self._datalink_url(info, row, descs)
        if found is None:
            raise NotFound(f"Row {i} of query {qid} has no DataLink: {info.archive} sent no DataLink service "
                           f"for these rows.", reason="no-datalink")
        url, archive_id = found
        archive = self.registry.get(archive_id)
        title = archive.cfg.title

        def fetch():
            with archive.session() as s:
                r = s.get(url)
                try:
                    if r.status_code >= 400:
                        raise RemoteError(title, f"{title}'s DataLink service failed: HTTP {r.status_code}.")
                    content = r.content
                finally:
                    r.close()
            if len(content) > MAX_DOC:
                raise RemoteError(title, f"{title}'s DataLink document is larger than {MAX_DOC:,} bytes.")
            try:
                return parse_document(content)
            except Exception as e:
                raise RemoteError(title, f"{title} answered something that is not a DataLink document ({e}).",
                                  reason="bad-datalink") from e

        links, services = await self._call(archive, fetch)
        names = list(row)
        ra_col, dec_col = position_columns(info.columns, names)
        fov = fov_column(names)
        return RowLinks(query_id=qid, row=i, archive=archive_id, datalink=url, links=links, services=services,
                        ra=number(row.get(ra_col)) if ra_col else None,
                        dec=number(row.get(dec_col)) if dec_col else None,
                        size=number(row.get(fov)) if fov else None)

    async def _call(self, archive, fn):
        from ..archives.queries import archive_service

        try:
            return await executors.run(archive_service(archive.cfg.id), fn, timeout=archive.timeout + 5)
        except EsapError:
            raise
        except TimeoutError as e:
            from ..errors import RemoteTimeout

            raise RemoteTimeout(archive.cfg.title, f"{archive.cfg.title} timed out: no complete answer within "
                                f"{archive.timeout:g} s.") from e
        except Exception as e:
            raise archive.error(e) from e

    def _target(self, rel: str, overwrite: bool) -> Path:
        p = (self.root_dir / rel).resolve()
        if not p.is_relative_to(self.root_dir) or p == self.root_dir:
            raise BadRequest(f"path {rel!r} is outside the server's root folder; give a path inside it.",
                             reason="path-outside-root")
        if p.is_dir():
            raise BadRequest(f"path {rel!r} is a folder; give a file name.", reason="path-is-folder")
        if p.exists() and not overwrite:
            raise Conflict(f"path {rel!r} exists; give overwrite: true to replace it.", reason="file-exists")
        return p

    async def cutout(self, body: CutoutBody) -> Cutout:
        if (body.ra is None) != (body.dec is None):
            raise BadRequest("ra, dec: give both, or neither (the row's position).", reason="invalid-request")
        if body.target == "basket" and self.basket is None:
            raise BadRequest("target: this server has no basket.", reason="no-basket")
        if body.target == "workspace" and body.path:
            self._target(body.path, body.overwrite)  # a bad path is refused before any remote call
        rl = await self.links(body.query_id, body.row)
        service = next((s for s in rl.services if s.soda), None)
        if service is None:
            raise NotFound(f"Row {body.row} of query {body.query_id} has no SODA cutout service among its links.",
                           reason="no-cutout")
        ra = body.ra if body.ra is not None else rl.ra
        dec = body.dec if body.dec is not None else rl.dec
        if ra is None or dec is None:
            raise BadRequest("ra, dec: the row has no position; give the cutout's centre.", reason="no-position")
        radius = body.radius or (rl.size / 4 if rl.size else DEFAULT_RADIUS)
        url = soda_url(service, ra, dec, radius)
        # rows counted from 1 in names and titles, as the grid and the DataLink dialog count them
        name = f"{rl.archive}-{body.query_id[:8]}-row{body.row + 1}-{ra:.4f}{dec:+.4f}"
        name = re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)
        if body.target == "basket":
            from ..basket.models import FileFields

            item = FileFields(kind="file", url=url, name=name + ".fits", content_type="image/fits",
                              title=f"Cutout r={radius * 3600:.0f}\" at {ra:.5f} {dec:+.5f} ({rl.archive} row "
                                    f"{body.row + 1})", source=rl.archive,
                              metadata={"query_id": body.query_id, "row": body.row, "circle": [ra, dec, radius],
                                        "soda": service.url})
            added = await self.basket.add([item])
            stored = added.items[0]
            stored = getattr(stored, "root", stored)
            return Cutout(target="basket", url=url, ra=ra, dec=dec, radius=radius, item_id=stored.id)
        rel = body.path or f"{self.folder}/{name}.fits"
        final = self._target(rel, body.overwrite)
        archive = self.registry.get(rl.archive)
        title = archive.cfg.title

        def fetch():
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix="." + final.name[:60] + ".", suffix=".part", dir=final.parent)
            try:
                with os.fdopen(fd, "wb") as out, archive.session() as s:
                    r = s.get(url, stream=True)
                    try:
                        if r.status_code >= 400:
                            text = r.text[:300].strip()
                            if r.status_code in (400, 422):
                                raise BadRequest(f"{title} refused the cutout: {text or r.status_code}",
                                                 reason="cutout-refused")
                            raise RemoteError(title, f"{title}'s SODA service failed: HTTP {r.status_code}.")
                        head = b""
                        for chunk in r.iter_content(1 << 20):
                            if not head:
                                head = chunk[:80]
                            out.write(chunk)
                    finally:
                        r.close()
                if not head.startswith(b"SIMPLE"):
                    raise RemoteError(title, f"{title}'s SODA service sent no FITS file for this cutout.",
                                      reason="not-fits")
                os.replace(tmp, final)
                return final.stat().st_size
            finally:
                Path(tmp).unlink(missing_ok=True)

        size = await self._call(archive, fetch)
        return Cutout(target="workspace", url=url, ra=ra, dec=dec, radius=radius,
                      path=final.relative_to(self.root_dir).as_posix(), bytes=size)
