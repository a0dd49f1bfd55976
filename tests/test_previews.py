"""Plots of a whole result and region selections (issue 12) on real results of the local DaCHS,
and previews of FITS images and spectra."""

import json
import struct

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

CMD_Q = "SELECT source_id, ra, dec, vmag, bmag, bmag - vmag AS bv FROM esapdemo.sources WHERE source_id <= 5000"


async def cmd_query(api):
    _, info = await api("POST", "archives", "local", "queries", body={"kind": "tap", "query": CMD_Q}, expect=201)
    assert info["row_count"] == 5000
    return info


async def all_rows(api, qid):
    _, page = await api("GET", "queries", qid, "rows", params={"limit": 5000}, expect=200)
    return page["rows"]


async def test_histogram_density_and_scatter_of_the_whole_result(api):
    cmd = await cmd_query(api)
    qid = cmd["id"]
    rows = await all_rows(api, qid)
    vmag = np.array([r["vmag"] for r in rows], dtype=float)
    _, h = await api("GET", "queries", qid, "plot", params={"x": "vmag", "kind": "histogram", "bins": "30"},
                     expect=200)
    counts, edges = np.histogram(vmag.astype(np.float32).astype(float), bins=30)
    assert h["counts"] == counts.tolist() and np.allclose(h["edges"], edges)
    assert h["x"]["unit"] == "mag" and h["total"] == h["used"] == 5000
    _, d = await api("GET", "queries", qid, "plot", params={"x": "bv", "y": "vmag", "kind": "density", "bins": "20"},
                     expect=200)
    grid = np.array(d["grid"])
    assert grid.shape == (20, 20) and grid.sum() == 5000 and len(d["x_edges"]) == 21
    assert d["y"]["unit"] == "mag"
    _, s = await api("GET", "queries", qid, "plot", params={"x": "ra", "y": "dec", "max_points": "1000"}, expect=200)
    assert s["kind"] == "scatter" and s["sampled"] is True and len(s["points"]["x"]) == 1000
    i = s["points"]["row"][17]
    assert s["points"]["x"][17] == rows[i]["ra"] and s["x"]["unit"] == "deg"
    _, s = await api("GET", "queries", qid, "plot", params={"x": "ra", "y": "dec", "max_points": "10000"}, expect=200)
    assert s["sampled"] is False and s["points"]["row"] == list(range(5000))


async def test_region_selection_gives_the_rows_inside(api):
    cmd = await cmd_query(api)
    qid = cmd["id"]
    rows = await all_rows(api, qid)
    region = {"x": "bv", "y": "vmag", "xmin": 0.2, "xmax": 0.8, "ymin": 14, "ymax": 18}
    _, sel = await api("POST", "queries", qid, "select", body=region, expect=200)
    inside = [i for i, r in enumerate(rows)
              if 0.2 <= np.float32(r["bv"]) <= 0.8 and 14 <= np.float32(r["vmag"]) <= 18]
    assert sel["rows"] == inside and sel["count"] == len(inside) > 0 and sel["truncated"] is False
    _, sel = await api("POST", "queries", qid, "select", body={**region, "limit": 3}, expect=200)
    assert sel["rows"] == inside[:3] and sel["truncated"] is True
    code, err = await api("POST", "queries", qid, "select", body={**region, "xmax": 0.1})
    assert code == 400 and "xmax" in err["message"]


async def test_a_column_that_is_not_numeric_is_no_axis(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.3}, expect=201)
    # the cone search serves source_id as text
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "source_id", "kind": "histogram"})
    assert code == 400 and err["message"].startswith("x:") and "not numeric" in err["message"]
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "ra", "y": "source_id"})
    assert code == 400 and err["message"].startswith("y:")
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "nosuch", "kind": "histogram"})
    assert code == 400 and "x:" in err["message"]
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "ra", "kind": "density"})
    assert code == 400 and "y:" in err["message"]
    code, err = await api("POST", "queries", info["id"], "select",
                          body={"x": "source_id", "xmin": 0, "xmax": 1})
    assert code == 400 and "x:" in err["message"]
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "ra", "kind": "pie"})
    assert code == 400 and "kind" in err["message"]


async def test_my_tables_plot_and_select_the_same_way(api):
    cmd = await cmd_query(api)
    await api("POST", "tables", body={"name": "cmd", "source": {"kind": "query", "query_id": cmd["id"]}},
                     expect=201)
    _, h = await api("GET", "tables", "cmd", "plot", params={"x": "vmag", "kind": "histogram"}, expect=200)
    assert sum(h["counts"]) == 5000 and h["x"]["unit"] == "mag"
    region = {"x": "ra", "y": "dec", "xmin": 150, "xmax": 160, "ymin": 0, "ymax": 10}
    _, a = await api("POST", "tables", "cmd", "select", body=region, expect=200)
    _, b = await api("POST", "queries", cmd["id"], "select", body=region, expect=200)
    assert a == b


# -- previews -----------------------------------------------------------------------------------
@pytest.fixture
def fetch(jp_fetch):
    async def call(params):
        return await jp_fetch("esap-lab", "api", "previews", params=params, raise_error=False)

    return call


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_image_of_a_result_row_is_rendered_on_the_server(api, fetch):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    assert info["access_url_column"] and info["row_count"] >= 1
    for stretch in ("zscale", "asinh"):
        r = await fetch({"query": info["id"], "row": "0", "stretch": stretch, "size": "400"})
        assert r.code == 200 and r.headers["Content-Type"] == "image/png"
        w, h = png_size(r.body)
        assert 300 <= w <= 450 and 300 <= h <= 450
    code, err = await api("GET", "previews", params={"query": info["id"], "row": "999"})
    assert code == 400 and err["message"].startswith("row:")


async def test_image_and_spectra_files_in_the_workspace(fetch, jp_root_dir):
    # files a user has in the workspace, written here
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval, w.wcs.crpix, w.wcs.cdelt = [155, 5], [50, 50], [-0.001, 0.001]
    fits.PrimaryHDU(np.random.default_rng(1).normal(size=(100, 120)).astype("f4"), header=w.to_header()).writeto(
        jp_root_dir / "img.fits")
    r = await fetch({"path": "img.fits"})
    assert r.code == 200 and png_size(r.body)[0] > 100
    # transparent around the image (the page's background shows), labels in the page's theme
    from io import BytesIO

    from PIL import Image

    light = np.asarray(Image.open(BytesIO(r.body)).convert("RGBA"))
    dark = await fetch({"path": "img.fits", "theme": "dark"})
    dark = np.asarray(Image.open(BytesIO(dark.body)).convert("RGBA"))
    assert light[0, 0, 3] == 0 and dark[0, 0, 3] == 0
    ink = lambda px: px[(px[..., 3] > 200) & (np.ptp(px[..., :3], axis=-1) < 8)]  # opaque greys
    assert light.shape == dark.shape
    # the labels and ticks outside the image: darkest greys on light, lightest greys on dark
    margin_light, margin_dark = ink(light[:, :20]), ink(dark[:, :20])
    assert margin_light[..., 0].min() < 80 and margin_dark[..., 0].max() > 180
    code = (await fetch({"path": "img.fits", "theme": "sepia"})).code
    assert code == 400
    wave = np.linspace(4000, 7000, 300)
    table = fits.BinTableHDU.from_columns([fits.Column("WAVELENGTH", "E", unit="Angstrom", array=wave),
                                           fits.Column("FLUX", "E", unit="erg/s/cm2/Angstrom", array=wave / 1e4)])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(jp_root_dir / "spec.fits")
    r = await fetch({"path": "spec.fits"})
    spec = json.loads(r.body)
    assert r.code == 200 and spec["kind"] == "spectrum" and len(spec["wavelength"]) == 300
    assert spec["wavelength_unit"] == "Angstrom" and spec["flux_unit"] == "erg/s/cm2/Angstrom"
    h = fits.Header({"CRVAL1": 5000.0, "CDELT1": 2.0, "CRPIX1": 1.0, "CUNIT1": "Angstrom", "BUNIT": "Jy"})
    fits.PrimaryHDU(np.arange(10, dtype="f4"), header=h).writeto(jp_root_dir / "spec1d.fits")
    spec = json.loads((await fetch({"path": "spec1d.fits"})).body)
    assert spec["wavelength"][:2] == [5000.0, 5002.0] and spec["flux_unit"] == "Jy"


async def test_a_preview_says_why_it_cannot_be_made(api, jp_root_dir):
    (jp_root_dir / "notes.txt").write_text("not an image")
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("a", "J", array=[1, 2])])]).writeto(
        jp_root_dir / "table.fits")
    code, err = await api("GET", "previews", params={"path": "notes.txt"})
    assert code == 400 and "not a FITS file" in err["message"]
    code, err = await api("GET", "previews", params={"path": "table.fits"})
    assert code == 400 and "no image" in err["message"] and "BinTableHDU" in err["message"]
    code, err = await api("GET", "previews", params={"path": "../outside.fits"})
    assert code == 400 and "outside" in err["message"]
    code, err = await api("GET", "previews", params={"path": "nosuch.fits"})
    assert code == 400 and "no such file" in err["message"]
    code, err = await api("GET", "previews", params={})
    assert code == 400 and "path" in err["message"]


async def test_a_data_link_that_fails_is_a_502_naming_its_host(api):
    q = "SELECT TOP 1 source_id, 'http://127.0.0.1:9/x.fits' AS access_url FROM esapdemo.sources"
    _, info = await api("POST", "archives", "local", "queries", body={"kind": "tap", "query": q}, expect=201)
    assert info["access_url_column"] == "access_url"
    code, err = await api("GET", "previews", params={"query": info["id"], "row": "0"})
    assert code == 502 and err["service"] == "127.0.0.1:9", err


async def test_the_kernel_api_exports_plots_and_previews_in_one_line(api, jp_root_dir):
    import asyncio
    import io

    from astropy.table import Table
    from matplotlib.figure import Figure

    from esap_lab import previews as look

    cmd = await cmd_query(api)
    fig = await asyncio.to_thread(look.plot, cmd["id"], "bv", "vmag", kind="density", bins=30)
    assert isinstance(fig, Figure) and fig.axes[0].get_ylabel() == "vmag [mag]"
    saved = await asyncio.to_thread(look.export, cmd["id"], "fits", path="cmd.fits", rows=[0, 1])
    assert saved["rows"] == 2 and len(Table.read(jp_root_dir / "cmd.fits")) == 2
    data = await asyncio.to_thread(look.export, cmd["id"], "votable")
    assert len(Table.read(io.BytesIO(data), format="votable")) == 5000
    fits.PrimaryHDU(np.ones((50, 50), "f4")).writeto(jp_root_dir / "flat.fits")
    png = await asyncio.to_thread(look.preview, "flat.fits")
    assert png._repr_png_()[:4] == b"\x89PNG"


async def test_a_colour_axis_is_the_difference_of_two_columns(api):
    # a colour-magnitude diagram straight from the magnitudes (one click in the UI): x = "bmag - vmag"
    cmd = await cmd_query(api)
    qid = cmd["id"]
    rows = await all_rows(api, qid)
    _, d = await api("GET", "queries", qid, "plot", params={"x": "bmag - vmag", "y": "vmag", "kind": "density",
                                                           "bins": "10"}, expect=200)
    assert d["x"] == {**d["x"], "name": "bmag - vmag", "unit": "mag"} and np.array(d["grid"]).sum() == 5000
    region = {"x": "bmag - vmag", "y": "vmag", "xmin": 0.2, "xmax": 0.8, "ymin": 14, "ymax": 18}
    _, sel = await api("POST", "queries", qid, "select", body=region, expect=200)
    inside = [i for i, r in enumerate(rows)
              if 0.2 <= float(np.float32(r["bmag"])) - float(np.float32(r["vmag"])) <= 0.8
              and 14 <= np.float32(r["vmag"]) <= 18]
    assert sel["rows"] == inside and sel["count"] > 0
    code, err = await api("GET", "queries", qid, "plot", params={"x": "bmag - nosuch", "kind": "histogram"})
    assert code == 400 and err["message"].startswith("x:") and "nosuch" in err["message"]
    code, err = await api("GET", "queries", qid, "plot", params={"x": "a - b - c", "kind": "histogram"})
    assert code == 400 and err["message"].startswith("x:")


async def test_a_basket_record_is_previewed_from_its_data_link(api, fetch):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 1}, expect=200)
    row = page["rows"][0]
    _, added = await api("POST", "basket", "items", body={
        "kind": "record", "archive": "local", "query_id": info["id"], "row": row,
        "access_url": row[info["access_url_column"]], "title": "an image"})
    iid = added["items"][0]["id"]
    r = await fetch({"item": iid, "size": "200"})
    assert r.code == 200 and png_size(r.body)[0] <= 200
    code, err = await api("GET", "previews", params={"item": "nosuch"})
    assert code == 404 and "nosuch" in err["message"]
    code, err = await api("GET", "previews", params={"item": iid, "path": "x.fits"})
    assert code == 400 and "item" in err["message"]


async def test_a_thumbnail_is_the_pixels_only(api, fetch, jp_root_dir):
    # thumbnails of image-search results: no axes or title, the largest side the size asked for
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval, w.wcs.crpix, w.wcs.cdelt = [155, 5], [50, 25], [-0.001, 0.001]
    data = np.zeros((50, 100), "f4")
    data[:10] = 100  # the first FITS rows (the bottom of the image) bright
    fits.PrimaryHDU(data, header=w.to_header()).writeto(jp_root_dir / "wide.fits")
    r = await fetch({"path": "wide.fits", "axes": "false", "size": "128"})
    assert r.code == 200 and png_size(r.body) == (128, 64)
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(r.body)))
    assert img[-1].mean() > img[0].mean()  # north up: the bright first rows at the bottom
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    r = await fetch({"query": info["id"], "row": "0", "axes": "false", "size": "96"})
    assert r.code == 200 and max(png_size(r.body)) == 96
