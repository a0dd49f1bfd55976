"""Crossmatch through the archive: TAP queries with uploaded tables (TAP_UPLOAD), against the real
local DaCHS. The upload is a stored result, basket records, or one of my tables."""

import pytest

# the catalogue's point first in CONTAINS: DaCHS then uses its index (see the discovery recipes)
XMATCH = """SELECT m.source_id AS mine, s.source_id, s.vmag
FROM TAP_UPLOAD.{name} AS m JOIN esapdemo.sources AS s
ON 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', m.ra, m.dec, 1/3600.))"""


async def _cone(api, radius=0.05):
    _, q = await api("POST", "archives", "local", "queries",
                     body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": radius}, expect=201)
    assert q["status"] == "completed" and q["row_count"] > 3, q
    return q


async def _matched(api, info) -> list[dict]:
    assert info["status"] == "completed", info
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 5000}, expect=200)
    return page["rows"]


async def test_a_stored_result_crossmatched_through_the_archive(api):
    q = await _cone(api)
    body = {"kind": "tap", "query": XMATCH.format(name="cone"), "uploads": {"cone": {"query": q["id"]}}}
    _, info = await api("POST", "archives", "local", "queries", body=body, params={"wait": 30}, expect=201)
    rows = await _matched(api, info)
    # every uploaded source finds itself (and perhaps a close neighbour)
    assert len(rows) >= q["row_count"]
    # (the cone search gives source_id as text, TAP as a number)
    assert {r["mine"] for r in rows if r["mine"] == str(r["source_id"])} == {r["mine"] for r in rows}
    # the same as an async UWS job, and with only the columns the query needs
    body = {**body, "async": True, "uploads": {"cone": {"query": q["id"], "columns": ["source_id", "ra", "dec"]}}}
    _, info2 = await api("POST", "archives", "local", "queries", body=body, params={"wait": 30}, expect=201)
    rows2 = await _matched(api, info2)
    assert sorted((r["mine"], r["source_id"]) for r in rows2) == sorted((r["mine"], r["source_id"]) for r in rows)


async def test_basket_records_and_my_table_as_uploads(api):
    q = await _cone(api)
    _, page = await api("GET", "queries", q["id"], "rows", params={"limit": 3}, expect=200)
    records = [{"kind": "record", "archive": "local", "query_id": q["id"], "rows": [r]} for r in page["rows"]]
    _, added = await api("POST", "basket", "items", body=records, expect=201)
    ids = [i["id"] for i in added["items"]]
    body = {"kind": "tap", "query": XMATCH.format(name="picked"), "uploads": {"picked": {"basket": ids}}}
    _, info = await api("POST", "archives", "local", "queries", body=body, params={"wait": 30}, expect=201)
    rows = await _matched(api, info)
    assert {r["mine"] for r in rows} == {str(r["source_id"]) for r in page["rows"]}

    _, t = await api("POST", "tables", body={"name": "stars", "source": {"kind": "query", "query_id": q["id"]}},
                     expect=201)
    body = {"kind": "tap", "query": XMATCH.format(name="stars"), "uploads": {"stars": {"table": "stars"}}}
    _, info = await api("POST", "archives", "local", "queries", body=body, params={"wait": 30}, expect=201)
    rows = await _matched(api, info)
    assert {r["mine"] for r in rows} == {str(r["source_id"]) for r in (await _matched(api, q))}


@pytest.mark.parametrize("uploads, field", [
    ({"1bad": {"query": "x"}}, "uploads.1bad"),  # not an ADQL name
    ({"mine": {}}, "uploads.mine"),  # no source
    ({"mine": {"query": "a", "table": "b"}}, "uploads.mine"),  # two sources
    ({"mine": {"query": "0" * 32}}, "uploads.mine.query"),  # no such query
    ({"mine": {"table": "nope"}}, "uploads.mine.table"),  # no such table
    ({"mine": {"basket": ["nope"]}}, "uploads.mine.basket"),  # no such basket item
    ({"mine": {"basket": []}}, "uploads.mine.basket"),
])
async def test_a_wrong_upload_is_400_naming_the_field(api, uploads, field):
    body = {"kind": "tap", "query": "SELECT * FROM TAP_UPLOAD.mine", "uploads": uploads}
    code, err = await api("POST", "archives", "local", "queries", body=body)
    assert code == 400 and field in err["message"], err
    _, listed = await api("GET", "queries", expect=200)
    assert not listed["queries"]  # nothing stored


async def test_an_unknown_upload_column_is_400_naming_it(api):
    q = await _cone(api)
    body = {"kind": "tap", "query": XMATCH.format(name="c"),
            "uploads": {"c": {"query": q["id"], "columns": ["ra", "nope"]}}}
    code, err = await api("POST", "archives", "local", "queries", body=body)
    assert code == 400 and "uploads.c.columns" in err["message"] and "nope" in err["message"], err


async def test_a_query_that_names_an_upload_not_sent_is_the_services_400(api):
    q = await _cone(api)
    body = {"kind": "tap", "query": XMATCH.format(name="other"), "uploads": {"cone": {"query": q["id"]}}}
    code, err = await api("POST", "archives", "local", "queries", body=body, params={"wait": 30})
    assert code == 400 and err["reason"] == "query-rejected", err


async def test_kernel_one_liner(api):
    import asyncio

    from esap_lab import archives
    from esap_lab.client import BadRequestError

    q = await _cone(api)
    t = await asyncio.to_thread(archives.query, "local", XMATCH.format(name="mine"),
                                uploads={"mine": {"query": q["id"]}})
    assert len(t) >= q["row_count"] and t["vmag"].unit == "mag"
    assert t.meta["esap_query"].status == "completed"
    try:
        await asyncio.to_thread(archives.query, "local", XMATCH.format(name="mine"),
                                uploads={"mine": {"table": "nope"}})
    except BadRequestError as e:
        assert "uploads.mine.table" in str(e)
    else:
        raise AssertionError("a missing table should be refused")
