"""The sky view's server side: which HiPS surveys there are (c.EsapLab.hips_surveys), their
tiles when this server serves them (a folder on its disk, or a remote HiPS fetched through it
and kept in a cache), and where a stored result's rows are."""

from __future__ import annotations

import mimetypes
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import executors, outbound
from ..archives.results import stored_result
from ..errors import BadRequest, NotFound, RemoteError
from .models import Positions, Survey, SurveyConfig
from .positions import position_columns

RESULTS = "results"
HIPS = "hips"  # the executor reading and fetching tiles
HIPS_FILES = ("properties", "Moc.fits", "Allsky.png", "Allsky.jpg", "Allsky.fits", "preview.jpg")
MAX_TILE = 32 * 1024 * 1024

# Public surveys of the CDS HiPS network (Aladin Lite reads them straight from there)
DEFAULT_SURVEYS = [
    {"id": "dss2", "title": "DSS2 colour (optical)", "url": "https://alasky.cds.unistra.fr/DSS/DSSColor",
     "default": True},
    {"id": "2mass", "title": "2MASS colour (near infrared)", "url": "https://alasky.cds.unistra.fr/2MASS/Color"},
    {"id": "gaia", "title": "Gaia DR3 flux colour", "url": "https://alasky.cds.unistra.fr/Gaia/DR3/flux-color"},
]


def parse_surveys(entries: list[dict]) -> list[SurveyConfig]:
    out = []
    for i, e in enumerate(entries):
        try:
            cfg = SurveyConfig.model_validate(e)
        except Exception as err:
            raise ValueError(f"c.EsapLab.hips_surveys[{i}]: {err}") from err
        if bool(cfg.url) == bool(cfg.path):
            raise ValueError(f"c.EsapLab.hips_surveys[{i}] ({cfg.id}): give url or path (one of them)")
        out.append(cfg)
    return out


def _tile_path(rel: str) -> str:
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        raise NotFound("No such HiPS file.", reason="no-such-file")
    if not (rel in HIPS_FILES or (parts[0].startswith("Norder") and len(parts) in (2, 3))):
        raise NotFound(f"{rel!r} is not a HiPS file.", reason="no-such-file")
    return rel


class SkyService:
    def __init__(self, surveys: list[SurveyConfig], queries, cache_dir: str | os.PathLike, timeout: float = 30.0):
        self.surveys = {s.id: s for s in surveys}
        self.queries = queries
        self.cache = Path(cache_dir)
        self.timeout = timeout

    def list(self) -> list[Survey]:
        out = []
        has_default = any(s.default for s in self.surveys.values())
        for i, s in enumerate(self.surveys.values()):
            served = bool(s.path) or s.proxy
            out.append(Survey(id=s.id, title=s.title, url=None if served else s.url, served=served,
                              default=s.default or (not has_default and i == 0)))
        return out

    def _survey(self, sid: str) -> SurveyConfig:
        s = self.surveys.get(sid)
        if s is None:
            raise NotFound(f"No HiPS survey {sid!r} is configured (c.EsapLab.hips_surveys).", reason="unknown-survey")
        if not (s.path or s.proxy):
            raise NotFound(f"HiPS survey {sid!r} is read by the browser from {s.url}, not served here.",
                           reason="not-served")
        return s

    async def file(self, sid: str, rel: str) -> tuple[Path, str]:
        """(the file on disk, its media type) of one HiPS file of a served survey."""
        s = self._survey(sid)
        rel = _tile_path(rel)
        media = mimetypes.guess_type(rel)[0] or ("text/plain" if rel == "properties" else "application/octet-stream")
        if rel.endswith(".fits"):
            media = "application/fits"
        if s.path:
            root = Path(s.path).resolve()
            p = (root / rel).resolve()
            if not p.is_relative_to(root) or not p.is_file():
                raise NotFound(f"HiPS {sid} has no {rel}.", reason="no-such-file")
            return p, media
        return await executors.run(HIPS, self._fetch, s, rel), media

    def _fetch(self, s: SurveyConfig, rel: str) -> Path:
        p = self.cache / s.id / rel
        if p.is_file():
            return p
        url = s.url.rstrip("/") + "/" + rel
        with outbound.Session(f"HiPS {s.title}", timeout=self.timeout) as session:
            try:
                r = session.get(url, stream=True)
            except Exception as e:
                raise outbound.remote_error(f"HiPS {s.title}", e, timeout=self.timeout, session=session) from e
            try:
                if r.status_code == 404:
                    raise NotFound(f"HiPS {s.id} has no {rel}.", reason="no-such-file")
                if r.status_code >= 400:
                    raise RemoteError(f"HiPS {s.title}", f"HiPS {s.title} failed: HTTP {r.status_code}.")
                data = r.raw.read(MAX_TILE + 1, decode_content=True)
            finally:
                r.close()
        if len(data) > MAX_TILE:
            raise RemoteError(f"HiPS {s.title}", f"HiPS {s.title} sent a file larger than {MAX_TILE:,} bytes.")
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
        return p

    async def positions(self, qid: str, sort: str | None, order: str, limit: int) -> Positions:
        info, table = await stored_result(self.queries, qid, "to show on the sky")
        return await self.positions_of(qid, info.columns, table, sort, order, limit)

    async def positions_of(self, qid: str, columns, table: pa.Table, sort: str | None, order: str,
                           limit: int) -> Positions:
        """The same for any stored rows (a query's result, one of my tables)."""

        def work(table: pa.Table):
            total = table.num_rows
            ra_col, dec_col = position_columns(columns, table.column_names)
            if ra_col is None:
                return Positions(query_id=qid, ra_column=None, dec_column=None, total=total, rows=[])
            if sort is not None and sort not in table.column_names:
                raise BadRequest(f"sort: the result has no column {sort!r}.", reason="invalid-request")
            if sort is not None:
                idx = pc.sort_indices(pa.table({"k": table.column(sort)}),
                                      sort_keys=[("k", "ascending" if order == "asc" else "descending", "at_end")])
                table = table.select([ra_col, dec_col]).take(idx)
            ra = _floats(table.column(ra_col))
            dec = _floats(table.column(dec_col))
            keep = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
            truncated = keep.size > limit
            keep = keep[:limit]
            rows = list(zip(keep.tolist(), ra[keep].tolist(), dec[keep].tolist(), strict=True))
            return Positions(query_id=qid, ra_column=ra_col, dec_column=dec_col, total=total,
                             truncated=truncated, rows=rows)

        return await executors.run(RESULTS, work, table)


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    try:
        arr = pc.cast(col, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.full(len(col), np.nan)
    return arr.to_numpy(zero_copy_only=False).astype("float64", copy=False)
