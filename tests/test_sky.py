"""Sky view, DataLink and SODA (issue 12) against the real local DaCHS: positions of a result,
the HiPS of the demo images served by the Jupyter server, a row's DataLink links, and SODA
cutouts into the workspace and the basket."""

import os

import pytest
from astropy.io import fits

VO_URL = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
HIPS_URL = os.environ.get("ESAP_TEST_HIPS_URL", f"{VO_URL}/esapimg/q/hips/static/")


@pytest.fixture
def esap_config():
    # the demo HiPS (made with reproject by scripts/services/vo-archive.sh) fetched through this server
    return {"hips_surveys": [{"id": "demo", "title": "Demo images", "url": HIPS_URL, "proxy": True,
                              "default": True},
                             {"id": "dss2", "title": "DSS2", "url": "https://alasky.cds.unistra.fr/DSS/DSSColor"}]}


async def image_search(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.5, "version": "2"}, expect=201)
    assert info["status"] == "completed", info
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 100}, expect=200)
    # the rows of the images with DataLink (esapimg); esapdemo's originals have none
    dl = [i for i, r in enumerate(page["rows"]) if "esapimg" in (r.get("obs_publisher_did") or "")]
    assert dl, page["rows"]
    return info, page["rows"], dl


async def test_surveys_and_the_served_hips(api, jp_fetch):
    _, data = await api("GET", "sky", "surveys", expect=200)
    demo, dss = data["surveys"]
    assert demo == {"id": "demo", "title": "Demo images", "url": None, "served": True, "default": True}
    assert dss["url"].startswith("https://") and not dss["served"]  # read by the browser, never fetched here
    r = await jp_fetch("esap-lab", "api", "sky", "hips", "demo", "properties")
    assert b"hips_tile_format" in r.body and b"png" in r.body
    order = next(line.split("=")[1].strip() for line in r.body.decode().splitlines() if line.startswith("hips_order "))
    assert int(order) >= 3
    r = await jp_fetch("esap-lab", "api", "sky", "hips", "demo", "Norder3", "Allsky.png", raise_error=False)
    assert r.code in (200, 404)
    code, err = await api("GET", "sky", "hips", "demo", "..", "..", "etc", "passwd")
    assert code == 404
    code, err = await api("GET", "sky", "hips", "dss2", "properties")
    assert code == 404 and err["reason"] == "not-served"
    code, err = await api("GET", "sky", "hips", "nope", "properties")
    assert code == 404 and "hips_surveys" in err["message"]


async def test_positions_in_the_grid_order(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.2}, expect=201)
    _, pos = await api("GET", "queries", info["id"], "positions", expect=200)
    assert pos["ra_column"] and pos["dec_column"] and pos["total"] == info["row_count"] == len(pos["rows"])
    assert all(abs(ra - 155.0) < 0.3 and abs(dec - 5.0) < 0.3 for _, ra, dec in pos["rows"])
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 3, "sort": pos["dec_column"],
                                                                      "order": "desc"}, expect=200)
    _, by_dec = await api("GET", "queries", info["id"], "positions",
                          params={"sort": pos["dec_column"], "order": "desc", "limit": 3}, expect=200)
    assert by_dec["truncated"] and [r[0] for r in by_dec["rows"]] == [0, 1, 2]
    assert [r[2] for r in by_dec["rows"]] == pytest.approx([r[pos["dec_column"]] for r in page["rows"]])
    code, err = await api("GET", "queries", info["id"], "positions", params={"sort": "nope"})
    assert code == 400 and "sort" in err["message"]


async def test_positions_of_one_of_my_tables(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.1}, expect=201)
    _, t = await api("POST", "tables", body={"name": "on_the_sky", "source": {"kind": "query", "query_id": info["id"]}},
                     expect=201)
    _, pos = await api("GET", "tables", t["id"], "positions", params={"sort": "vmag", "order": "desc"}, expect=200)
    _, q = await api("GET", "queries", info["id"], "positions", params={"sort": "vmag", "order": "desc"}, expect=200)
    assert pos["ra_column"] == q["ra_column"] and pos["total"] == t["row_count"] == info["row_count"]
    assert [r[1:] for r in pos["rows"]] == [r[1:] for r in q["rows"]]  # the same places, in the grid's order
    code, err = await api("GET", "tables", "nope", "positions")
    assert code == 404
    code, err = await api("GET", "tables", t["id"], "positions", params={"sort": "nope"})
    assert code == 400 and "sort" in err["message"]


async def test_datalink_of_an_image_row(api):
    info, rows, dl = await image_search(api)
    _, links = await api("GET", "queries", info["id"], "rows", str(dl[0]), "links", expect=200)
    sem = {lk["semantics"] for lk in links["links"]}
    assert {"#this", "#preview"} <= sem
    this = next(lk for lk in links["links"] if lk["semantics"] == "#this")
    assert this["url"].endswith(".fits") and this["content_type"] == "image/fits"
    soda = [s for s in links["services"] if s["soda"]]
    assert soda and any(p["name"] == "ID" and "esapimg" in p["value"] for p in soda[0]["params"])
    assert any(p["name"] == "CIRCLE" and p["unit"] == "deg" for p in soda[0]["params"])
    assert links["ra"] == pytest.approx(rows[dl[0]]["s_ra"])
    # a row without DataLink, a row that does not exist
    plain = next((i for i in range(len(rows)) if i not in dl), None)
    if plain is not None:
        code, err = await api("GET", "queries", info["id"], "rows", str(plain), "links")
        assert code in (200, 404)
    code, err = await api("GET", "queries", info["id"], "rows", "999", "links")
    assert code == 404 and err["reason"] == "no-such-row"


async def test_soda_cutout_into_the_workspace_and_the_basket(api, jp_root_dir):
    info, rows, dl = await image_search(api)
    row = rows[dl[0]]
    _, cut = await api("POST", "cutouts", body={"query_id": info["id"], "row": dl[0], "radius": 0.02}, expect=201)
    assert cut["path"].startswith("cutouts/") and cut["path"].endswith(".fits")
    assert "CIRCLE=" in cut["url"] and cut["ra"] == pytest.approx(row["s_ra"])
    with fits.open(jp_root_dir / cut["path"]) as hdul:
        data = hdul[0].data
        assert data is not None and 0 < data.shape[0] < 200  # smaller than the whole image
        assert hdul[0].header["NAXIS1"] == data.shape[1]
    # a chosen centre and size, a chosen file; then the same again without overwrite: 409
    body = {"query_id": info["id"], "row": dl[0], "ra": row["s_ra"] + 0.01, "dec": row["s_dec"], "radius": 0.1,
            "path": "mine/cut.fits"}
    _, cut2 = await api("POST", "cutouts", body=body, expect=201)
    assert cut2["path"] == "mine/cut.fits"
    assert fits.getdata(jp_root_dir / "mine" / "cut.fits").shape[0] > data.shape[0]
    code, err = await api("POST", "cutouts", body=body)
    assert code == 409 and err["reason"] == "file-exists"
    # into the basket: a file item whose URL makes the cutout again
    _, b = await api("POST", "cutouts", body={"query_id": info["id"], "row": dl[0], "target": "basket"}, expect=201)
    _, item = await api("GET", "basket", "items", b["item_id"], expect=200)
    assert item["kind"] == "file" and item["url"] == b["url"] and "CIRCLE" in item["url"]
    # bad input names the field
    code, err = await api("POST", "cutouts", body={"query_id": info["id"], "row": dl[0], "radius": -1})
    assert code == 400 and "radius" in err["message"]
    code, err = await api("POST", "cutouts", body={"query_id": info["id"], "row": dl[0], "ra": 155.0})
    assert code == 400 and "dec" in err["message"]
    code, err = await api("POST", "cutouts", body={"query_id": info["id"], "row": dl[0], "path": "../outside.fits"})
    assert code == 400 and err["reason"] == "path-outside-root"
    assert not list(jp_root_dir.rglob("*.part"))  # nothing half-written


async def test_cutout_outside_the_image_is_refused(api):
    info, _, dl = await image_search(api)
    code, err = await api("POST", "cutouts", body={"query_id": info["id"], "row": dl[0], "ra": 10.0, "dec": -40.0,
                                                   "radius": 0.01})
    assert code in (400, 502) and err["message"] and "Traceback" not in err["message"]
