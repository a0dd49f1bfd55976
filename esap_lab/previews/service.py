"""Previews rendered on the server: a FITS image as a PNG (zscale or asinh stretch, a WCS grid
when the header has a celestial WCS), a spectrum as JSON (wavelength and flux with units).

The file is one under the server root, or the data link (access URL) of a row of a stored
result, fetched through esap_lab.outbound (the address policy and a whole-request deadline) in
the executor of its host, so a slow archive fails as a 504 naming it and blocks nothing else.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .. import executors, outbound
from ..errors import BadRequest, Conflict, EsapError, RemoteError, RemoteTimeout
from .models import PreviewParams, Spectrum

MAX_FETCH = 512 * 1024 * 1024  # bytes of a remote file fetched for a preview
# the colour of labels, ticks and frame on a transparent background: the themes' first font colours
INK = {"light": "#212121", "dark": "#e0e0e0"}
_mpl_lock = threading.Lock()  # pyplot's state is global; the Agg figures below are not, but be safe

WAVE_NAMES = ("wavelength", "wave", "lambda", "loglam", "spectral_axis", "freq", "frequency", "energy")
FLUX_NAMES = ("flux", "flux_density", "intensity", "counts", "fluxdens")


class PreviewService:
    def __init__(self, queries, root_dir: str | os.PathLike, tmp: str | os.PathLike, timeout: float = 30.0,
                 basket=None):
        self.queries = queries
        self.basket = basket  # the BasketService: a record item's access URL (optional)
        self.root_dir = Path(root_dir).resolve()
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout

    async def preview(self, p: PreviewParams) -> tuple[str, bytes | Spectrum]:
        """-> ("image", PNG bytes) or ("spectrum", Spectrum)."""
        if sum(v is not None for v in (p.path, p.query, p.item)) != 1:
            raise BadRequest("path, query, item: give one of path (a file under the server root), query and row, "
                             "or item (a basket record).", reason="bad-preview")
        if p.path is not None:
            path = self._inside_root(p.path)
            return await executors.run("previews", render_file, path, p, f"path {p.path!r}")
        if p.item is not None:
            url = await self._item_url(p.item)
        else:
            if p.row is None:
                raise BadRequest("row: give the row (from 0) of the query's result to preview.", reason="bad-preview")
            url = await self._access_url(p.query, p.row)
        host = urlparse(url).netloc or url
        fd, tmp = tempfile.mkstemp(suffix=".fits", dir=self.tmp)
        os.close(fd)
        try:
            try:
                await executors.run(f"preview:{host}", fetch, url, tmp, host, self.timeout,
                                    timeout=self.timeout + 5)
            except TimeoutError:
                raise RemoteTimeout(host, f"{host} timed out: no complete answer within "
                                                   f"{self.timeout:g} s.") from None
            return await executors.run("previews", render_file, Path(tmp), p, url)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _inside_root(self, rel: str) -> Path:
        p = (self.root_dir / rel).resolve()
        if not p.is_relative_to(self.root_dir):
            raise BadRequest(f"path {rel!r} is outside the server's root folder; give a path inside it.",
                             reason="path-outside-root")
        if not p.is_file():
            raise BadRequest(f"path {rel!r}: no such file in the server's root folder.", reason="no-such-file")
        return p

    async def _item_url(self, iid: str) -> str:
        if self.basket is None:
            raise BadRequest("item: this server has no basket.", reason="no-basket")
        item = await self.basket.get(iid)
        url = getattr(item, "access_url", None) or getattr(item, "url", None)
        if not url or not str(url).startswith(("http://", "https://")):
            raise BadRequest(f"item: basket item {iid!r} has no http(s) data link to preview.",
                             reason="no-access-url")
        return str(url)

    async def _access_url(self, qid: str, row: int) -> str:
        info = await self.queries.get(qid)
        if info.status != "completed":
            raise Conflict(f"Query {qid} has no rows to preview: it is {info.status}.", reason="query-not-completed")
        if not info.access_url_column:
            raise BadRequest(f"query: the result of {qid} has no column of data links (access URLs) to preview.",
                             reason="no-access-url")
        if row >= (info.row_count or 0):
            raise BadRequest(f"row: {row} does not exist; the result has {info.row_count or 0} rows.",
                             reason="bad-rows")
        page = await self.queries.rows(qid, row, 1, None, "asc")
        url = page.rows[0].get(info.access_url_column) if page.rows else None
        if not url or not str(url).startswith(("http://", "https://")):
            raise BadRequest(f"row: row {row} has no http(s) data link in {info.access_url_column!r}.",
                             reason="no-access-url")
        return str(url)


def fetch(url: str, where: str, host: str, timeout: float) -> None:
    """Download ``url`` through the outbound policy; a failure is a 502/504 naming ``host``."""
    http = outbound.Session(host, timeout=timeout, deadline=timeout)
    try:
        with http.get(url, stream=True) as r:
            if r.status_code >= 400:
                raise RemoteError(host, f"{host} answered HTTP {r.status_code} for {url}.", reason="fetch-failed")
            done = 0
            with open(where, "wb") as out:
                for chunk in r.iter_content(1 << 20):
                    done += len(chunk)
                    if done > MAX_FETCH:
                        raise BadRequest(f"{url} is larger than {MAX_FETCH} bytes: too large to preview.",
                                         reason="too-large")
                    out.write(chunk)
    except EsapError as e:
        if isinstance(e, outbound.OutboundRefused):
            raise outbound.remote_error(host, e, timeout=timeout, session=http) from e
        raise
    except Exception as e:
        raise outbound.remote_error(host, e, timeout=timeout, session=http) from e
    finally:
        http.close()


# -- rendering --------------------------------------------------------------------------------
def render_file(path: Path, p: PreviewParams, label: str) -> tuple[str, bytes | Spectrum]:
    from astropy.io import fits

    with open(path, "rb") as f:
        magic = f.read(30)
    if not magic.startswith(b"SIMPLE  ="):
        raise BadRequest(f"{label} is not a FITS file (a FITS file starts with 'SIMPLE  ='); only FITS images and "
                         f"spectra can be previewed.", reason="not-fits")
    try:
        hdus = fits.open(path, memmap=True, lazy_load_hdus=False)
    except Exception as e:
        raise BadRequest(f"{label} is not a readable FITS file: {str(e)[:200]}", reason="not-fits") from e
    with hdus:
        indices = [p.hdu] if p.hdu is not None else range(len(hdus))
        if p.hdu is not None and p.hdu >= len(hdus):
            raise BadRequest(f"hdu: {label} has {len(hdus)} HDUs (0..{len(hdus) - 1}).", reason="bad-hdu")
        for i in indices:
            hdu = hdus[i]
            if hdu.is_image and hdu.header.get("NAXIS", 0) >= 2 and hdu.data is not None:
                return "image", render_image(hdu, p)
            if hdu.is_image and hdu.header.get("NAXIS", 0) == 1 and hdu.data is not None:
                return "spectrum", spectrum_1d(hdu)
            if isinstance(hdu, fits.BinTableHDU):
                spec = spectrum_table(hdu)
                if spec is not None:
                    return "spectrum", spec
        kinds = ", ".join(f"{i}: {type(h).__name__}"
                          + (f" {'x'.join(str(n) for n in h.shape)}" if h.is_image and h.data is not None else "")
                          for i, h in enumerate(hdus))
        raise BadRequest(f"{label} has no image (2-D or more) and no spectrum (a 1-D image, or a table with wavelength "
                         f"and flux columns) to preview; its HDUs: {kinds}.", reason="no-image")


def render_image(hdu, p: PreviewParams) -> bytes:
    from astropy.wcs import WCS
    from matplotlib.figure import Figure

    data = np.asarray(hdu.data)
    while data.ndim > 2:  # a cube: its first plane
        data = data[0]
    data = data.astype(np.float32, copy=False)
    step = max(1, int(np.ceil(max(data.shape) / p.size)))
    if step > 1:
        data = data[::step, ::step]
    finite = np.isfinite(data)
    if not finite.any():
        raise BadRequest("The image holds no finite pixel value to show.", reason="no-image")
    if not p.axes:  # a thumbnail: the stretched pixels, north up, nothing around them
        return thumbnail(data, finite, p)
    try:
        wcs = WCS(hdu.header).celestial
        if not wcs.has_celestial:
            wcs = None
        elif step > 1:
            wcs = wcs.slice((slice(None, None, step), slice(None, None, step)))
    except Exception:  # noqa: BLE001 - an unreadable WCS: no grid
        wcs = None
    norm = _norm(data, finite, p.stretch)
    h, w = data.shape
    inches = 6.0
    side = max(h, w)
    fig = Figure(figsize=(inches * w / side, inches * h / side), dpi=p.size / inches)  # largest side: size pixels
    fig.patch.set_alpha(0.0)  # the page's background shows around the image, in either theme
    ink = INK[p.theme]
    if wcs is not None:
        ax = fig.add_subplot(projection=wcs)
        ax.coords.grid(color="white", alpha=0.4, linestyle="solid")
        ax.coords[0].set_axislabel("RA" if "RA" in wcs.wcs.ctype[0] else wcs.wcs.ctype[0][:4], color=ink)
        ax.coords[1].set_axislabel("Dec" if "DEC" in wcs.wcs.ctype[1] else wcs.wcs.ctype[1][:4], color=ink)
        for c in (ax.coords[0], ax.coords[1]):
            c.set_ticklabel(color=ink)
            c.set_ticks(color=ink)
        ax.coords.frame.set_color(ink)
    else:
        ax = fig.add_subplot()
        ax.tick_params(colors=ink)
        ax.xaxis.label.set_color(ink)
        ax.yaxis.label.set_color(ink)
        for spine in ax.spines.values():
            spine.set_edgecolor(ink)
    # stretched to 8 bits here, once (cheaper for matplotlib to resample than floats with a norm)
    scaled = np.nan_to_num(np.ma.filled(norm(data), 0.0), nan=0.0)
    pixels = (np.clip(scaled, 0, 1) * 255).astype(np.uint8)
    ax.imshow(pixels, origin="lower", cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    title = hdu.header.get("OBJECT")
    if title:
        ax.set_title(str(title), color=ink)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True, pil_kwargs={"compress_level": 1})  # speed over a few more bytes
    return buf.getvalue()


def _norm(data: np.ndarray, finite: np.ndarray, stretch: str):
    from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval, ZScaleInterval

    if stretch == "zscale":
        return ImageNormalize(data[finite], interval=ZScaleInterval())
    return ImageNormalize(data[finite], interval=PercentileInterval(99.5), stretch=AsinhStretch())


def thumbnail(data: np.ndarray, finite: np.ndarray, p: PreviewParams) -> bytes:
    """The stretched pixels as a grey PNG whose largest side is at most ``p.size`` (no matplotlib figure)."""
    from PIL import Image

    scaled = np.nan_to_num(np.ma.filled(_norm(data, finite, p.stretch)(data), 0.0), nan=0.0)
    pixels = (np.clip(scaled, 0, 1) * 255).astype(np.uint8)[::-1]  # FITS rows go up; PNG rows go down
    img = Image.fromarray(pixels, mode="L")
    h, w = pixels.shape
    if max(h, w) != p.size:  # small images are enlarged too, so every thumbnail has the same size
        k = p.size / max(h, w)
        img = img.resize((max(1, round(w * k)), max(1, round(h * k))), Image.NEAREST if k > 1 else Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _unit(header, key: str) -> str | None:
    u = header.get(key)
    return str(u).strip() or None if u else None


def spectrum_1d(hdu) -> Spectrum:
    h = hdu.header
    flux = np.asarray(hdu.data, dtype=np.float64)
    pix = np.arange(flux.size, dtype=np.float64)
    wave = h.get("CRVAL1", 0.0) + (pix + 1 - h.get("CRPIX1", 1.0)) * h.get("CDELT1", h.get("CD1_1", 1.0))
    return Spectrum(wavelength=_clean(wave), flux=_clean(flux), wavelength_unit=_unit(h, "CUNIT1"),
                    flux_unit=_unit(h, "BUNIT"), title=h.get("OBJECT"))


def spectrum_table(hdu) -> Spectrum | None:
    names = {n.lower(): n for n in hdu.columns.names}
    wave = next((names[n] for n in WAVE_NAMES if n in names), None)
    flux = next((names[n] for n in FLUX_NAMES if n in names), None)
    if wave is None or flux is None:
        return None
    data = hdu.data
    w, f = np.asarray(data[wave], dtype=np.float64), np.asarray(data[flux], dtype=np.float64)
    if w.ndim == 2 and w.shape[0] == 1:  # one row holding arrays (the SDSS / IVOA spectrum DM layout)
        w, f = w[0], f[0]
    cols = hdu.columns
    return Spectrum(wavelength=_clean(w.ravel()), flux=_clean(f.ravel()),
                    wavelength_unit=cols[wave].unit or None, flux_unit=cols[flux].unit or None,
                    title=hdu.header.get("OBJECT") or hdu.header.get("EXTNAME"))


def _clean(a: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in a.tolist()]
