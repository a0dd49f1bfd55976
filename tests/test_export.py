"""Export of stored results and basket records (issue 12) against the real local DaCHS: every
format read back with astropy keeps values, units, UCDs, descriptions, NULLs and unicode."""

import io
import json

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from conftest import poll_until

FORMATS = ["votable", "fits", "csv", "ecsv", "parquet"]
# NULLs and non-ASCII text straight from the archive: ADQL CASE and a unicode literal
NULLS_Q = ("SELECT source_id, ra, CASE WHEN source_id < 3 THEN NULL ELSE vmag END AS vmag_n, "
           "'Ångström ✓ é' AS note FROM esapdemo.sources WHERE source_id <= 10 ORDER BY source_id")


@pytest.fixture
def fetch(jp_fetch):
    async def call(*parts, method="GET", params=None, body=None):
        kw = {"method": method, "raise_error": False}
        if params:
            kw["params"] = params
        if body is not None:
            kw["body"] = json.dumps(body)
        return await jp_fetch("esap-lab", "api", *parts, **kw)

    return call


async def cone(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.3}, expect=201)
    assert info["status"] == "completed" and info["row_count"] > 100
    return info


def read_back(fmt: str, data: bytes) -> Table:
    name = {"votable": "votable", "fits": "fits", "csv": "ascii.csv", "ecsv": "ascii.ecsv", "parquet": "parquet"}[fmt]
    return Table.read(io.BytesIO(data), format=name)


def ucd(t: Table, name: str, fmt: str, data: bytes) -> str | None:
    if fmt == "fits":  # astropy does not read TUCDn itself: the header holds it (TOPCAT's convention)
        header = fits.getheader(io.BytesIO(data), 1)
        return header.get(f"TUCD{t.colnames.index(name) + 1}")
    return t[name].meta.get("ucd")


def description(t: Table, name: str, fmt: str, data: bytes) -> str | None:
    if fmt == "fits" and not t[name].description:
        return fits.getheader(io.BytesIO(data), 1).get(f"TCOMM{t.colnames.index(name) + 1}")
    return t[name].description


@pytest.mark.parametrize("fmt", FORMATS)
async def test_cone_result_round_trips_through_astropy(api, fetch, fmt):
    info = await cone(api)
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 5000}, expect=200)
    r = await fetch("queries", info["id"], "export", params={"format": fmt})
    assert r.code == 200
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'.{ {"votable": "vot"}.get(fmt, fmt)}"' in disposition
    t = read_back(fmt, r.body)
    assert len(t) == info["row_count"]
    # (SCS serves the id as text: compare as text)
    assert [str(v) for v in t["source_id"]] == [str(row["source_id"]) for row in page["rows"]]
    assert np.allclose(t["ra"], [row["ra"] for row in page["rows"]])
    if fmt == "votable":
        assert b"BINARY2" in r.body
    if fmt == "csv":
        return  # CSV holds names and values only
    assert str(t["ra"].unit) == "deg" and str(t["vmag"].unit) == "mag"
    assert ucd(t, "vmag", fmt, r.body) == "phot.mag;em.opt.V"
    assert description(t, "vmag", fmt, r.body) == "V magnitude"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_nulls_and_unicode_survive(api, fetch, fmt):
    _, info = await api("POST", "archives", "local", "queries", body={"kind": "tap", "query": NULLS_Q}, expect=201)
    assert info["row_count"] == 10
    r = await fetch("queries", info["id"], "export", params={"format": fmt, "rows": "0,1,2,3"})
    assert r.code == 200 and "selection" in r.headers["Content-Disposition"]
    check_nulls(fmt, r.body, [True, True, False, False])
    # DaCHS serves that literal as VOTable char (ASCII: '?' for the rest), so unicode comes from a
    # user's annotation on basket records of the same rows, exported as one table
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 4}, expect=200)
    rows = [dict(row, note="Ångström ✓ é 星") for row in page["rows"]]
    await api("POST", "basket", "items", body={"kind": "record", "archive": "local", "query_id": info["id"],
                                               "rows": rows}, expect=201)
    r = await fetch("basket", "export", "table", params={"format": fmt, "query_id": info["id"]})
    assert r.code == 200
    t = check_nulls(fmt, r.body, [True, True, False, False])
    if fmt == "fits":  # FITS text is bytes: non-ASCII is written as UTF-8
        t.convert_bytestring_to_unicode()
    assert list(t["note"]) == ["Ångström ✓ é 星"] * 4


def check_nulls(fmt: str, data: bytes, expected: list[bool]) -> Table:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        raw = pq.read_table(io.BytesIO(data))  # astropy reads a Parquet null as NaN: Arrow keeps it
        assert raw.column("vmag_n").is_null().to_pylist() == expected
    t = read_back(fmt, data)
    assert list(t["source_id"]) == [1, 2, 3, 4]
    vm = t["vmag_n"]
    if fmt == "parquet":
        assert list(np.isnan(vm)) == expected
    else:
        assert list(np.ma.getmaskarray(vm)) == expected, vm
    return t


async def test_unfinished_or_failed_query_is_409_and_bad_format_400(api, fetch):
    q = "SELECT source_id FROM esapdemo.sources WHERE source_id <= 30000"
    _, running = await api("POST", "archives", "local", "queries",
                           body={"kind": "tap", "query": q, "async": True, "maxrec": 30000},
                           params={"wait": "0"}, expect=201)
    if running["status"] != "completed":
        r = await fetch("queries", running["id"], "export", params={"format": "csv"})
        assert r.code == 409 and json.loads(r.body)["reason"] == "query-not-completed"
    _, bad = await api("POST", "archives", "local", "queries",
                       body={"kind": "tap", "query": "SELECT nosuchcolumn FROM esapdemo.sources", "async": True},
                       params={"wait": "0"}, expect=201)
    bad = await poll_until(api, "queries", bad["id"], until=("completed", "error"), timeout=30, interval=0.2)
    assert bad["status"] == "error"
    r = await fetch("queries", bad["id"], "export", params={"format": "fits"})
    err = json.loads(r.body)
    assert r.code == 409 and "error" in err["message"]
    info = await cone(api)
    code, err = await api("GET", "queries", info["id"], "export", params={"format": "xlsx"})
    assert code == 400 and "format" in err["message"]
    code, err = await api("GET", "queries", info["id"], "export", params={"rows": "0,999999"})
    assert code == 400 and "rows" in err["message"] and "999999" in err["message"]
    code, _ = await api("GET", "queries", "nosuchquery", "export")
    assert code == 404


async def test_save_into_the_workspace(api, jp_root_dir):
    info = await cone(api)
    (jp_root_dir / "out").mkdir()
    _, saved = await api("POST", "queries", info["id"], "export",
                         body={"format": "fits", "path": "out/cone.fits", "rows": [0, 1, 2]}, expect=201)
    assert saved == {"path": "out/cone.fits", "format": "fits", "rows": 3,
                     "bytes": (jp_root_dir / "out" / "cone.fits").stat().st_size}
    assert len(Table.read(jp_root_dir / "out" / "cone.fits")) == 3
    code, err = await api("POST", "queries", info["id"], "export", body={"format": "fits", "path": "out/cone.fits"})
    assert code == 409 and "overwrite" in err["message"]
    await api("POST", "queries", info["id"], "export",
              body={"format": "fits", "path": "out/cone.fits", "overwrite": True}, expect=201)
    assert len(Table.read(jp_root_dir / "out" / "cone.fits")) == info["row_count"]
    for outside in ("../escape.vot", "/tmp/escape.vot", "out/../../escape.vot"):
        code, err = await api("POST", "queries", info["id"], "export", body={"path": outside})
        assert code == 400 and "path" in err["message"] and "outside" in err["message"], err
    code, err = await api("POST", "queries", info["id"], "export", body={"path": "nofolder/x.vot"})
    assert code == 400 and "path" in err["message"]
    assert sorted(p.name for p in (jp_root_dir / "out").iterdir()) == ["cone.fits"]  # nothing half-written


async def test_basket_records_export_as_one_table(api, fetch, jp_root_dir):
    info = await cone(api)
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 3}, expect=200)
    _, res = await api("POST", "basket", "items", expect=201, body=[
        {"kind": "record", "archive": "local", "query_id": info["id"], "rows": page["rows"][:2]},
        {"kind": "record", "archive": "local", "query_id": info["id"], "row": page["rows"][2]}])
    r = await fetch("basket", "export", "table", params={"format": "votable", "query_id": info["id"]})
    assert r.code == 200 and r.headers["Content-Disposition"].endswith('.vot"')
    t = read_back("votable", r.body)
    assert [str(v) for v in t["source_id"]] == [str(row["source_id"]) for row in page["rows"]]
    assert str(t["ra"].unit) == "deg" and t["vmag"].description == "V magnitude"
    one = res["items"][1]["id"]
    r = await fetch("basket", "export", "table", params={"format": "ecsv", "items": one})
    assert [str(v) for v in read_back("ecsv", r.body)["source_id"]] == [str(page["rows"][2]["source_id"])]
    _, saved = await api("POST", "basket", "export", "table", body={"format": "parquet", "path": "basket.parquet"},
                         expect=201)
    assert saved["rows"] == 3 and (jp_root_dir / "basket.parquet").exists()
    code, err = await api("GET", "basket", "export", "table", params={"query_id": "none"})
    assert code == 400 and "no record" in err["message"]
    code, err = await api("GET", "basket", "export", "table", params={"items": "nosuch"})
    assert code == 400 and "items" in err["message"]


async def test_image_search_results_and_odd_basket_records_export_in_every_format(api, fetch):
    # an SIA result holds arrays (s_region polygons) and times; records hold whatever JSON a user gave
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    await api("POST", "basket", "items", expect=201, body={"kind": "record", "archive": "local", "query_id": "odd",
              "rows": [{"a": {"x": 1}, "b": 2**70, "c": None, "d": True}, {"a": [1, 2], "b": 1, "c": None, "d": None}]})
    for fmt in FORMATS:
        r = await fetch("queries", info["id"], "export", params={"format": fmt})
        assert r.code == 200 and len(read_back(fmt, r.body)) == info["row_count"], (fmt, r.code)
        r = await fetch("basket", "export", "table", params={"format": fmt, "query_id": "odd"})
        assert r.code == 200, (fmt, r.code)
        t = read_back(fmt, r.body)
        assert len(t) == 2 and "a" in t.colnames
