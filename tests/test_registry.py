"""Registry discovery and the searches of the Search step, against the real local DaCHS: its RegTAP
registry (schema rr, of its own services), SSA spectra (esapspec), ObsCore (ivoa.obscore) and the
sitewide SIA v2 service. A service found in the registry is added as an archive of this user and
searched; the administrator's archives stay read-only."""

import os

import pytest
from conftest import DEAD_ARCHIVE, LOCAL_ARCHIVE, VO_URL, db_urls

from esap_lab.archives.searches import obscore_adql

REGTAP_URL = os.environ.get("ESAP_TEST_REGTAP_URL", f"{VO_URL}/tap")
SSA_URL = os.environ.get("ESAP_TEST_SSA_URL", f"{VO_URL}/esapspec/q/ssap/ssap.xml")
FIELD = {"ra": 155.0, "dec": 5.0}


@pytest.fixture
def esap_archives():
    return [LOCAL_ARCHIVE, DEAD_ARCHIVE]


@pytest.fixture
def esap_config():
    return {"registry_url": REGTAP_URL}


async def _search(api, request, archives, wait="30"):
    _, res = await api("POST", "searches", body={"request": request, "archives": archives},
                       params={"wait": wait}, expect=201)
    return res, {e["archive"]: e for e in res["archives"]}


# -- the registry ---------------------------------------------------------------------------


@pytest.mark.parametrize("esap_db_url", db_urls(), indirect=True)  # kept in SQLite, and in PostgreSQL
async def test_find_a_service_add_it_search_it_remove_it(api, esap_db_url):
    _, found = await api("GET", "registry", params={"servicetype": "ssa"}, expect=200)
    assert found["registry"] == REGTAP_URL and not found["overflow"]
    [spectra] = found["resources"]
    assert spectra["ivoid"] == "ivo://esaplab.demo/esapspec/q/ssap"
    assert "spectra" in spectra["description"] and spectra["waveband"] == ["optical"]
    assert spectra["services"] == {"ssa": SSA_URL + "?"} and spectra["archive"] is None
    assert [c["type"] for c in spectra["capabilities"]] == ["ssa"]

    body = {"title": spectra["title"], "description": spectra["description"], "ivoid": spectra["ivoid"],
            **spectra["services"]}
    _, added = await api("POST", "archives", body=body, expect=201)
    assert added["origin"] == "user" and added["ivoid"] == spectra["ivoid"]
    assert added["capabilities"] == ["ssa"] and added["id"] == "esap-lab-demo-spectra-search"
    # kept in the user's state
    from esap_lab.archives.store import UserArchiveStore
    from esap_lab.db import Database, user_schema

    pg = esap_db_url.startswith("postgresql")
    db = Database(esap_db_url, schema=user_schema("esap_{username}") if pg else None)  # the server's schema
    try:
        assert [e["id"] for e in UserArchiveStore(db).list()] == [added["id"]]
    finally:
        db.close()
    _, listed = await api("GET", "archives", params={"check": "false"}, expect=200)
    by = {a["id"]: a for a in listed["archives"]}
    assert by[added["id"]]["origin"] == "user" and by["local"]["origin"] == "config"
    # the registry now says it is an archive already; adding it twice is a conflict
    _, again = await api("GET", "registry", params={"keywords": "spectra"}, expect=200)
    assert {r["ivoid"]: r["archive"] for r in again["resources"]}[spectra["ivoid"]] == added["id"]
    code, err = await api("POST", "archives", body=body)
    assert code == 409 and err["reason"] == "archive-exists"

    # search it: spectra with their access URLs
    _, by = await _search(api, {"kind": "ssa", **FIELD, "size": 0.6}, [added["id"]])
    entry = by[added["id"]]
    assert entry["status"] == "completed" and entry["row_count"] >= 10
    _, q = await api("GET", "queries", entry["query_id"], expect=200)
    assert q["access_url_column"] == "accref"
    _, page = await api("GET", "queries", entry["query_id"], "rows", params={"limit": 3}, expect=200)
    assert all(r["accref"].startswith(f"{VO_URL}/getproduct/esapspec/") for r in page["rows"])

    # the administrator's archives are read-only; the user's own can go
    code, err = await api("DELETE", "archives", "local")
    assert code == 403 and err["reason"] == "archive-read-only" and "administrator" in err["message"]
    code, err = await api("POST", "archives", body={"id": "local", "title": "Mine", "tap": f"{VO_URL}/tap"})
    assert code == 409 and "administrator" in err["message"]
    await api("DELETE", "archives", added["id"], expect=204)
    code, err = await api("DELETE", "archives", added["id"])
    assert code == 404
    _, listed = await api("GET", "archives", params={"check": "false"}, expect=200)
    assert added["id"] not in {a["id"] for a in listed["archives"]}


async def test_registry_by_keywords_waveband_and_ucd(api):
    _, r = await api("GET", "registry", params={"keywords": "esap", "servicetype": "scs"}, expect=200)
    assert [x["ivoid"] for x in r["resources"]] == ["ivo://esaplab.demo/esapdemo/q/cone"]
    assert set(r["resources"][0]["services"]) == {"scs"}
    # the cone search's site TAP service comes along when no service type is asked for
    _, r = await api("GET", "registry", params={"waveband": "optical"}, expect=200)
    by = {x["ivoid"]: x for x in r["resources"]}
    assert set(by["ivo://esaplab.demo/esapdemo/q/cone"]["services"]) == {"scs", "tap"}
    assert by["ivo://esaplab.demo/esapdemo/q/cone"]["archive"] == "local"  # the admin's archive has them
    _, r = await api("GET", "registry", params={"ucd": "phot.mag*", "servicetype": "tap"}, expect=200)
    assert [x["services"] for x in r["resources"]] == [{"tap": REGTAP_URL}]
    _, r = await api("GET", "registry", params={"servicetype": "sia2"}, expect=200)
    assert "sia2" in r["resources"][0]["services"]
    _, r = await api("GET", "registry", params={"waveband": "radio"}, expect=200)
    assert r["resources"] == []


async def test_registry_and_archive_bad_input(api):
    code, err = await api("GET", "registry")
    assert code == 400 and "keywords, servicetype, waveband or ucd" in err["message"]
    code, err = await api("GET", "registry", params={"waveband": "blue"})
    assert code == 400 and "waveband" in err["message"]
    code, err = await api("GET", "registry", params={"servicetype": "ftp"})
    assert code == 400 and "servicetype" in err["message"]
    code, err = await api("GET", "registry", params={"ucd": "phot.mag' OR 1=1"})
    assert code == 400 and "ucd" in err["message"]
    code, err = await api("POST", "archives", body={"title": "No services"})
    assert code == 400 and "service URL" in err["message"]
    code, err = await api("POST", "archives", body={"title": "x", "tap": "ftp://example.org/tap"})
    assert code == 400 and "tap" in err["message"]
    # no secrets by configuration: a user's archive takes no credentials
    code, err = await api("POST", "archives", body={"title": "x", "tap": f"{VO_URL}/tap",
                                                    "auth": {"type": "bearer", "token_env": "HOME"}})
    assert code == 400 and "auth" in err["message"]


@pytest.mark.parametrize("esap_config", [{"registry_url": "http://127.0.0.1:9/tap"}])
async def test_an_unreachable_registry_is_a_502_naming_it(api):
    code, err = await api("GET", "registry", params={"keywords": "spectra"})
    assert code == 502 and err["service"] == "The registry (http://127.0.0.1:9/tap)"
    assert "unreachable" in err["message"] and "127.0.0.1:9" in err["message"]


# -- ObsCore, SIA v2 band and time, fan-out with a dead archive ------------------------------


async def test_obscore_form_on_the_local_tap_service(api):
    _, listed = await api("GET", "archives", expect=200)
    caps = {a["id"]: a["capabilities"] for a in listed["archives"]}
    assert "obscore" in caps["local"] and "obscore" not in caps["dead"]
    request = {"kind": "obscore", **FIELD, "radius": 2.0, "band": [5e-7, 6e-7],
               "time": ["2020-01-01T00:00:00", "2020-01-10T00:00:00"], "dataproduct_type": ["image"],
               "calib_level": [2]}
    res, by = await _search(api, request, ["local", "dead"])
    assert res["request"]["kind"] == "obscore"
    assert by["local"]["status"] == "completed" and by["local"]["row_count"] > 0
    assert by["dead"]["status"] == "error" and by["dead"]["service"] == "Dead archive"
    _, page = await api("GET", "queries", by["local"]["query_id"], "rows", params={"limit": 100}, expect=200)
    assert {r["dataproduct_type"] for r in page["rows"]} == {"image"}
    assert all(r["em_min"] <= 6e-7 and r["em_max"] >= 5e-7 for r in page["rows"])
    # a time where nothing was observed: no rows, not an error
    _, by = await _search(api, {**request, "time": ["2010-01-01T00:00:00", "2010-01-02T00:00:00"]}, ["local"])
    assert by["local"]["status"] == "completed" and by["local"]["row_count"] == 0


async def test_obscore_bad_input_names_the_field(api):
    for bad, field in [({"calib_level": [7]}, "calib_level"), ({"band": [6e-7, 5e-7]}, "band"),
                       ({"dataproduct_type": ["photo"]}, "dataproduct_type"), ({"ra": 10.0}, "ra"),
                       ({"time": ["2020-02-01T00:00:00", "2020-01-01T00:00:00"]}, "time"), ({}, "constraint")]:
        code, err = await api("POST", "searches", body={"request": {"kind": "obscore", **bad}, "archives": ["local"]})
        assert code == 400 and field in err["message"], (bad, err)
    assert obscore_adql(type("Q", (), {"radius": 0.5, "band": None, "time": None, "dataproduct_type": ["cube"],
                                       "calib_level": [3, 1]})(), 10.0, -5.0) == (
        "SELECT * FROM ivoa.obscore\nWHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 10.0, -5.0, 0.5))"
        "\n  AND dataproduct_type IN ('cube')\n  AND calib_level IN (1, 3)")


async def test_sia2_band_and_time(api):
    request = {"kind": "sia", **FIELD, "size": 4.0, "version": "2", "band": [5e-7, 6e-7],
               "time": ["2020-01-01T00:00:00", "2020-01-10T00:00:00"]}
    _, by = await _search(api, request, ["local"])
    assert by["local"]["status"] == "completed" and by["local"]["row_count"] > 0
    _, by = await _search(api, {**request, "band": [1e-2, 2e-2]}, ["local"])  # radio: none of the images
    assert by["local"]["status"] == "completed" and by["local"]["row_count"] == 0
    code, err = await api("POST", "searches", body={"request": {**request, "band": [0, 1e-7]}, "archives": ["local"]})
    assert code == 400 and "band" in err["message"]


async def test_ssa_band_and_time(api):
    """SSA's BAND (metres) and TIME (UTC) constraints on the local DaCHS's spectra: all cover
    380-720 nm; the twelve on the field were observed on 2022-01-01, 2022-02-02, ... 2022-12-12."""
    _, added = await api("POST", "archives", body={"title": "Spectra (SSA)", "ssa": SSA_URL}, expect=201)
    spectra = added["id"]
    base = {"kind": "ssa", **FIELD, "size": 0.6}
    _, by = await _search(api, base, [spectra])
    everything = by[spectra]["row_count"]
    assert by[spectra]["status"] == "completed" and everything >= 10
    _, by = await _search(api, {**base, "band": [5e-7, 6e-7]}, [spectra])
    assert by[spectra]["status"] == "completed" and by[spectra]["row_count"] == everything
    _, by = await _search(api, {**base, "band": [8e-7, 9e-7]}, [spectra])  # redder than any of them
    assert by[spectra]["status"] == "completed" and by[spectra]["row_count"] == 0, by
    _, by = await _search(api, {**base, "time": ["2022-01-01T00:00:00Z", "2022-03-31T00:00:00Z"]}, [spectra])
    assert by[spectra]["status"] == "completed" and 0 < by[spectra]["row_count"] < everything, by
    _, page = await api("GET", "queries", by[spectra]["query_id"], "rows", params={"limit": 100}, expect=200)
    mjds = [r["ssa_dateObs"] for r in page["rows"]]  # MJD: 2022-01-01 is 59580, 2022-03-31 is 59669
    assert all(59580 <= d <= 59669 for d in mjds), mjds
    _, by = await _search(api, {**base, "time": ["2021-01-01", "2021-12-31"]}, [spectra])
    assert by[spectra]["row_count"] == 0
    # bad intervals: a 400 naming the field, before anything is sent
    for bad, field in [({"band": [6e-7, 5e-7]}, "band"), ({"band": [0, 5e-7]}, "band"),
                       ({"band": [5e-7]}, "band"), ({"time": ["2022-03-01", "2022-01-01"]}, "time"),
                       ({"time": ["yesterday", "2022-01-01"]}, "time")]:
        code, err = await api("POST", "searches", body={"request": {**base, **bad}, "archives": [spectra]})
        assert code == 400 and field in err["message"], (bad, err)
        code, err = await api("POST", "archives", spectra, "queries", body={**base, **bad})
        assert code == 400 and field in err["message"], (bad, err)
