"""My tables against a real server and the real DaCHS: save a cone result, import and export
every format with units and UCDs kept, SQL (and the statements it refuses), crossmatch checked
against a brute-force separation, the kernel API, and bad input."""

import asyncio
import io

import numpy as np
import pytest
from conftest import VO_URL, db_urls

CONE = {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.5}
FORMATS = ("parquet", "votable", "fits", "ecsv", "csv")


async def cone_table(api, name="cone"):
    _, q = await api("POST", "archives", "local", "queries", body=CONE, expect=201)
    assert q["status"] == "completed" and q["row_count"] > 10, q
    _, t = await api("POST", "tables", body={"name": name, "source": {"kind": "query", "query_id": q["id"]}},
                     expect=201)
    return q, t


async def raw(jp_fetch, method, *parts, body=None, params=None):
    from tornado.httpclient import HTTPClientError

    try:
        r = await jp_fetch("esap-lab", "api", *parts, method=method, body=body, params=params or {},
                           raise_error=False)
    except HTTPClientError as e:  # pragma: no cover
        r = e.response
    return r.code, r.body


def given(d):
    return {k: v for k, v in d.items() if v is not None}


def meta(columns):
    return {c["name"]: (c.get("unit"), c.get("ucd"), c.get("description")) for c in columns}


async def test_save_a_cone_result_page_sort_and_round_trip_every_format(api, jp_fetch, jp_root_dir):
    q, t = await cone_table(api)
    assert t["kind"] == "table" and t["project"] == "default" and t["row_count"] == q["row_count"]
    assert given(t["provenance"]) == {"kind": "query", "archive": "local", "query_id": q["id"], "request": q["request"]}
    want = meta(q["columns"])
    assert meta(t["columns"]) == want
    assert want["ra"][0] == "deg" and want["ra"][1]  # DaCHS gives units and UCDs

    # rows: the query grid's contract (paged, sorted), by name or id
    _, page = await api("GET", "tables", "cone", "rows", params={"limit": 5, "sort": "ra", "order": "desc"},
                        expect=200)
    _, qpage = await api("GET", "queries", q["id"], "rows", params={"limit": 5, "sort": "ra", "order": "desc"},
                         expect=200)
    assert page["total"] == qpage["total"] and [r["ra"] for r in page["rows"]] == [r["ra"] for r in qpage["rows"]]
    # a sorted page names its rows' numbers in stored order (one shape with the query's rows):
    # the unsorted read has the same rows there, and the table keeps the result's order
    _, stored = await api("GET", "tables", "cone", "rows", params={"limit": 5000}, expect=200)
    assert stored["index"] is None and len(stored["rows"]) == t["row_count"] and "esap_stored_row" not in page["rows"][0]
    assert page["index"] == qpage["index"] and [stored["rows"][i] for i in page["index"]] == page["rows"]
    _, ties = await api("GET", "tables", "cone", "rows", params={"limit": 5000, "sort": "vmag"}, expect=200)
    assert sorted(ties["index"]) == list(range(len(stored["rows"])))  # every row once, ties too
    _, last = await api("GET", "tables", t["id"], "rows", params={"offset": t["row_count"] - 1}, expect=200)
    assert len(last["rows"]) == 1
    code, err = await api("GET", "tables", "cone", "rows", params={"sort": "nope"})
    assert code == 400 and "nope" in err["message"]

    # export in every format, import each again (upload and workspace file): metadata kept
    for fmt in FORMATS:
        code, data = await raw(jp_fetch, "GET", "tables", "cone", "export", params={"format": fmt})
        assert code == 200 and len(data) > 100, (fmt, code)
        _, up = await api("POST", "tables", "upload", body=data, params={"name": f"up_{fmt}", "format": fmt},
                          expect=201)
        (jp_root_dir / f"cone.{fmt}").write_bytes(data)
        _, imp = await api("POST", "tables", body={"name": f"file_{fmt}", "source": {
            "kind": "file", "path": f"cone.{fmt}"}}, expect=201)
        assert given(imp["provenance"]) == {"kind": "file", "path": f"cone.{fmt}", "format": fmt}
        for got in (up, imp):
            assert got["row_count"] == t["row_count"], fmt
            assert [c["name"] for c in got["columns"]] == [c["name"] for c in t["columns"]], fmt
            if fmt != "csv":  # CSV holds names and values only
                m = meta(got["columns"])
                for name, (unit, ucd, desc) in want.items():
                    assert m[name][1] == ucd, (fmt, name, m[name], ucd)
                    if unit:
                        assert m[name][0] and m[name][0].replace(" ", "") == unit.replace(" ", ""), (fmt, name)
                    if desc and fmt != "fits":  # FITS comments are cut at 68 characters
                        assert m[name][2] == desc, (fmt, name)
        _, p2 = await api("GET", "tables", f"up_{fmt}", "rows", params={"limit": 5, "sort": "ra", "order": "desc"},
                          expect=200)
        assert [round(r["ra"], 9) for r in p2["rows"]] == [round(r["ra"], 9) for r in page["rows"]], fmt

    _, listed = await api("GET", "tables", expect=200)
    assert {x["name"] for x in listed["tables"]} == {"cone"} | {f"{p}_{f}" for p in ("up", "file") for f in FORMATS}


async def test_basket_records_and_a_url_become_tables(api):
    q, _ = await cone_table(api)
    _, page = await api("GET", "queries", q["id"], "rows", params={"limit": 3}, expect=200)
    records = [{"kind": "record", "archive": "local", "query_id": q["id"], "rows": [r]} for r in page["rows"]]
    _, added = await api("POST", "basket", "items", body=records, expect=201)
    ids = [i["id"] for i in added["items"]]
    _, t = await api("POST", "tables", body={"name": "picked", "project": "demo", "description": "three stars",
                                            "source": {"kind": "basket", "items": ids}}, expect=201)
    assert t["row_count"] == 3 and t["project"] == "demo" and t["description"] == "three stars"
    assert t["provenance"]["items"] == ids and t["provenance"]["archive"] == "local"
    assert meta(t["columns"])["ra"] == meta(q["columns"])["ra"]
    _, only = await api("GET", "tables", params={"project": "demo"}, expect=200)
    assert [x["name"] for x in only["tables"]] == ["picked"]

    # a URL: the DaCHS cone service answers a VOTable
    url = f"{VO_URL}/esapdemo/q/cone/scs.xml?RA=155&DEC=5&SR=0.1"
    code, u = await api("POST", "tables", body={"name": "scs", "source": {"kind": "url", "url": url,
                                                                         "format": "votable"}})
    assert code == 201, u
    assert u["row_count"] > 0 and meta(u["columns"])["ra"][0] == "deg" and u["provenance"]["url"] == url
    # the server's outbound policy holds: no link-local (cloud metadata) address
    code, err = await api("POST", "tables", body={"name": "meta", "source": {
        "kind": "url", "url": "http://169.254.169.254/latest/meta-data.csv"}})
    assert code == 400 and "169.254.169.254" in err["message"], (code, err)


@pytest.mark.parametrize("esap_db_url", db_urls(), indirect=True)
async def test_sql_results_errors_and_what_sql_may_not_do(api):
    await cone_table(api)
    _, r = await api("POST", "tables", "sql", body={"sql": "SELECT ra, dec FROM cone WHERE dec > 5 ORDER BY ra"},
                     expect=201)
    assert r["kind"] == "result" and r["name"].startswith("result_") and r["provenance"]["inputs"] == ["cone"]
    assert meta(r["columns"])["ra"][0] == "deg"  # metadata follows the column
    _, page = await api("GET", "tables", r["id"], "rows", params={"limit": 2, "sort": "dec"}, expect=200)
    assert page["total"] == r["row_count"] and all(x["dec"] > 5 for x in page["rows"])
    # a result is used by name in the next SQL, and saved as a table
    _, n = await api("POST", "tables", "sql", body={"sql": f"SELECT count(*) AS n FROM {r['name']}"}, expect=201)
    _, rows = await api("GET", "tables", n["id"], "rows", expect=200)
    assert rows["rows"] == [{"n": r["row_count"]}]
    _, saved = await api("POST", "tables", body={"name": "north", "source": {"kind": "result", "id": r["id"]}},
                         expect=201)
    assert saved["kind"] == "table" and saved["row_count"] == r["row_count"]
    assert saved["provenance"]["parent"]["sql"].startswith("SELECT ra, dec")
    _, cut = await api("POST", "tables", "sql", body={"sql": "SELECT * FROM cone", "max_rows": 3}, expect=201)
    assert cut["row_count"] == 3 and cut["overflow"] is True

    # rename, describe, delete
    code, err = await api("PATCH", "tables", "north", body={"name": "cone"})
    assert code == 409 and "cone" in err["message"]
    _, ren = await api("PATCH", "tables", "north", body={"name": "north2", "description": "dec > 5"}, expect=200)
    assert ren["name"] == "north2" and ren["description"] == "dec > 5"
    await api("POST", "tables", "sql", body={"sql": "SELECT count(*) AS n FROM north2"}, expect=201)
    await api("DELETE", "tables", "north2", expect=204)
    await api("GET", "tables", "north2", expect=404)
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT * FROM north2"})
    assert code == 400 and "north2" in err["message"]

    # errors: DuckDB's message with the position
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT ra FRM cone"})
    assert code == 400 and err["reason"] == "sql-error"
    assert "syntax error" in err["message"] and "LINE 1" in err["message"]
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT nope FROM cone"})
    assert code == 400 and "nope" in err["message"] and "^" in err["message"]

    # no files, no other databases, no writes, no extensions
    forbidden = ["SELECT * FROM read_csv('/etc/passwd')", "ATTACH '/tmp/other.duckdb' AS other",
                 "COPY cone TO '/tmp/stolen.csv'", "INSTALL httpfs",
                 "SELECT * FROM read_csv_auto('/etc/passwd')", "LOAD httpfs",
                 "SET enable_external_access = true", "CREATE TABLE x AS SELECT 1", "SELECT 1; SELECT 2"]
    for sql in forbidden:
        code, err = await api("POST", "tables", "sql", body={"sql": sql})
        assert code == 400 and err["reason"] in ("sql-forbidden", "sql-statements"), (sql, code, err)
        assert "Traceback" not in err["message"]
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT * FROM read_csv('/etc/passwd')"})
    assert "/etc/passwd" in err["message"] and "disabled" in err["message"]


def brute_pairs(ra1, dec1, ra2, dec2, radius):
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    a = SkyCoord(ra1 * u.deg, dec1 * u.deg)
    b = SkyCoord(ra2 * u.deg, dec2 * u.deg)
    sep = a[:, None].separation(b[None, :]).arcsec
    i, j = np.nonzero(sep <= radius)
    return {(int(x), int(y)): float(sep[x, y]) for x, y in zip(i, j, strict=True)}


async def test_crossmatch_matches_brute_force(api):
    from astropy.table import Table

    from esap_lab.tables.formats import from_astropy, write_parquet

    rng = np.random.default_rng(7)
    n1, radius = 400, 30.0
    ra1 = rng.uniform(359.8, 360.2, n1) % 360  # across 0h
    dec1 = rng.uniform(-0.2, 0.2, n1)
    ra2 = np.concatenate([(ra1[:200] + rng.normal(0, 10, 200) / 3600) % 360, rng.uniform(359.8, 360.2, 100) % 360])
    dec2 = np.concatenate([dec1[:200] + rng.normal(0, 10, 200) / 3600, rng.uniform(-0.2, 0.2, 100)])
    for name, ra, dec in (("a", ra1, dec1), ("b", ra2, dec2)):
        t = Table({"id": np.arange(len(ra)), "RAJ2000": ra, "DEJ2000": dec, "mag": rng.uniform(10, 20, len(ra))})
        t["RAJ2000"].unit = t["DEJ2000"].unit = "deg"
        arrow, cols = from_astropy(t)
        buf = io.BytesIO()
        write_parquet(arrow, cols, buf)
        await api("POST", "tables", "upload", body=buf.getvalue(), params={"name": name}, expect=201)
    truth = brute_pairs(ra1, dec1, ra2, dec2, radius)
    assert len(truth) > 150

    async def rows(res):
        _, page = await api("GET", "tables", res["id"], "rows", params={"limit": 5000}, expect=200)
        return page["rows"]

    _, res = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "b", "radius": radius, "find": "all"},
                       expect=201)
    got = {(r["id_1"], r["id_2"]): r["separation"] for r in await rows(res)}
    assert got.keys() == truth.keys()
    assert max(abs(got[k] - truth[k]) for k in truth) < 1e-6
    cols = meta(res["columns"])
    assert cols["separation"][0] == "arcsec" and cols["RAJ2000_1"][0] == "deg" and "mag_2" in cols

    # best1: the closest of each row of a; best: each row of either table in one pair at most
    _, res = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "b", "radius": radius, "find": "best1"},
                       expect=201)
    best1 = {}
    for (i, j), s in truth.items():
        if i not in best1 or s < truth[(i, best1[i])]:
            best1[i] = j
    assert {(r["id_1"], r["id_2"]) for r in await rows(res)} == set(best1.items())
    _, res = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "b", "radius": radius}, expect=201)
    best = [(r["id_1"], r["id_2"]) for r in await rows(res)]
    assert len({i for i, _ in best}) == len(best) == len({j for _, j in best})
    # (as STILTS: a pair stays unless another pair sharing one of its rows is closer)
    mutual = {(i, j) for (i, j), s in truth.items()
              if all(s2 >= s for (i2, j2), s2 in truth.items() if (i2 == i or j2 == j) and (i2, j2) != (i, j))}
    assert set(best) == mutual

    # all1: every row of a, unmatched ones with nulls; saved directly under a name
    _, res = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "b", "radius": radius, "find": "best1",
                                                             "join": "all1", "name": "a_x_b"}, expect=201)
    assert res["kind"] == "table" and res["name"] == "a_x_b" and res["row_count"] == n1
    assert res["provenance"]["params"]["ra_a"] == "RAJ2000"
    unmatched = [r for r in await rows(res) if r["id_2"] is None]
    assert len(unmatched) == n1 - len(best1) and all(r["separation"] is None for r in unmatched)

    code, err = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "b", "radius": 1, "ra_a": "nope"})
    assert code == 400 and "ra_a" in err["message"] and "nope" in err["message"]
    code, err = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "zzz", "radius": 1})
    assert code == 404
    code, err = await api("POST", "tables", "crossmatch", body={"a": "a", "b": "b", "radius": -1})
    assert code == 400 and "radius" in err["message"]


async def test_bad_input_is_named(api, jp_fetch, jp_root_dir):
    (jp_root_dir / "notes.fits").write_text("this is not a FITS file\n")
    (jp_root_dir / "data.xml").write_text("<html>not a votable</html>")
    (jp_root_dir / "notes.txt").write_text("x,y\n1,2\n")
    code, err = await api("POST", "tables", body={"name": "x", "source": {"kind": "file", "path": "notes.fits"}})
    assert code == 400 and err["reason"] == "not-a-table" and "expected format fits" in err["message"]
    code, err = await api("POST", "tables", body={"name": "x", "source": {"kind": "file", "path": "data.xml"}})
    assert code == 400 and "expected format votable" in err["message"]
    code, err = await api("POST", "tables", "upload", body=b"PAR1garbage", params={"name": "x"})
    assert code == 400 and "expected format parquet" in err["message"]
    for path in ("../outside.csv", "/etc/passwd", "sub/../../x.csv"):
        code, err = await api("POST", "tables", body={"name": "x", "source": {"kind": "file", "path": path}})
        assert code == 400 and err["reason"] == "path-outside-root", (path, err)
    code, err = await api("POST", "tables", body={"name": "x", "source": {"kind": "file", "path": "none.csv"}})
    assert code == 400 and err["reason"] == "no-such-file"
    code, err = await api("POST", "tables", body={"name": "x", "source": {"kind": "file", "path": "notes.txt"}})
    assert code == 400 and "format" in err["message"]
    for name in ("1abc", "a b", "x;drop", "result_mine", "SQL"):
        code, err = await api("POST", "tables", body={"name": name, "source": {"kind": "file", "path": "a.csv"}})
        assert code == 400 and "name" in err["message"], name
    (jp_root_dir / "a.csv").write_text("x,y\n1,2\n3,4\n")
    await api("POST", "tables", body={"name": "a", "source": {"kind": "file", "path": "a.csv"}}, expect=201)
    code, err = await api("POST", "tables", body={"name": "A", "source": {"kind": "file", "path": "a.csv"}})
    assert code == 409 and err["reason"] == "name-taken"
    _, again = await api("POST", "tables", body={"name": "A", "replace": True,
                                                "source": {"kind": "file", "path": "a.csv"}}, expect=201)
    _, listed = await api("GET", "tables", expect=200)
    assert [t["id"] for t in listed["tables"]] == [again["id"]]
    code, err = await api("POST", "tables", body={"name": "q", "source": {"kind": "query", "query_id": "nope"}})
    assert code == 404
    code, err = await api("GET", "tables", "a", "export", params={"format": "xls"})
    assert code == 400 and "format" in err["message"]


async def test_kernel_api(api, jp_serverapp):
    """esap_lab.tables through esap_lab.client, with the URL and token the server exports to kernels."""
    from astropy.table import Table

    from esap_lab import tables

    await cone_table(api)

    def notebook():
        rng = np.random.default_rng(3)
        t = Table({"name": [f"s{i}" for i in range(50)], "ra": rng.uniform(154.8, 155.2, 50),
                   "dec": rng.uniform(4.8, 5.2, 50)})
        t["ra"].unit = "deg"
        t["ra"].meta["ucd"] = "pos.eq.ra;meta.main"
        t["dec"].description = "declination"
        info = tables.save("mine", t, description="from a notebook")
        listed = [x.name for x in tables.list()]
        back = tables.get("mine")
        agg = tables.sql("SELECT count(*) AS n, min(ra) AS lo FROM mine")
        xm = tables.crossmatch("mine", "cone", radius=600, find="best1")
        return info, listed, back, agg, xm, t

    info, listed, back, agg, xm, t = await asyncio.to_thread(notebook)
    assert info.row_count == 50 and info.description == "from a notebook" and info.provenance.kind == "upload"
    assert listed == ["cone", "mine"]
    assert list(back["name"]) == list(t["name"]) and np.allclose(back["ra"], t["ra"])
    assert str(back["ra"].unit) == "deg" and back["ra"].meta["ucd"] == "pos.eq.ra;meta.main"
    assert back["dec"].description == "declination"
    assert agg["n"][0] == 50 and abs(agg["lo"][0] - t["ra"].min()) < 1e-12
    assert len(xm) > 0 and str(xm["separation"].unit) == "arcsec" and (xm["separation"] <= 600).all()

    def failing():
        try:
            tables.sql("SELECT * FROM read_csv('/etc/passwd')")
        except Exception as e:  # noqa: BLE001
            return e

    e = await asyncio.to_thread(failing)
    assert e.status == 400 and e.reason == "sql-forbidden"

    # a table in the basket (kind table, by id: it survives a rename), and back as rows
    item = {"kind": "table", "table_id": info.id, "name": "mine"}
    _, added = await api("POST", "basket", "items", body=item, expect=201)
    assert added["items"][0]["title"] == "mine" and added["items"][0]["source"] == "tables:default"
    await api("PATCH", "tables", "mine", body={"name": "mine2"}, expect=200)

    def from_basket():
        from esap_lab import basket

        return basket.items("table")[0].to_table()

    rows = await asyncio.to_thread(from_basket)
    assert list(rows["name"]) == list(t["name"])


async def test_tables_survive_a_restart_of_the_service(api, jp_serverapp):
    """Views are rebuilt from the records: a new service over the same state sees the same tables."""
    from esap_lab.tables.service import TableService

    await cone_table(api)
    services = jp_serverapp.web_app.settings["esap_lab"]
    other = TableService(services.db, services.tables.store.directory.parent / "tables-copy",
                         services.root_dir, queries=services.queries)
    try:
        infos = await other.list()
        assert [t.name for t in infos] == ["cone"]
    finally:
        other.close()
    _, before = await api("POST", "tables", "sql", body={"sql": "SELECT count(*) AS n FROM cone"}, expect=201)
    services.tables.store.close()  # the DuckDB database is opened again, its views made again
    _, after = await api("POST", "tables", "sql", body={"sql": "SELECT count(*) AS n FROM cone"}, expect=201)
    _, a = await api("GET", "tables", before["id"], "rows", expect=200)
    _, b = await api("GET", "tables", after["id"], "rows", expect=200)
    assert a["rows"] == b["rows"]


async def test_duckdb_memory_and_spill_are_capped_by_the_configuration(api, jp_serverapp, tmp_path):
    from esap_lab.tables.service import TableService

    services = jp_serverapp.web_app.settings["esap_lab"]
    service = services.tables
    assert service.store.limits == {"memory_limit": "2GB", "max_temp_directory_size": "8GB"}  # the defaults
    saved = dict(service.store.limits)
    service.store.limits = {"memory_limit": "50MB", "max_temp_directory_size": "1MB"}
    service.store.close()  # opened again with these limits
    try:
        code, err = await api("POST", "tables", "sql", body={"sql": "SELECT * FROM range(20000000) t(i) "
                                                                    "ORDER BY random()"})
        assert code == 400 and err["reason"] == "sql-too-large", err
        assert "tables_memory_limit" in err["message"] and "tables_spill_limit" in err["message"]
        assert "Traceback" not in err["message"]
        _, small = await api("POST", "tables", "sql", body={"sql": "SELECT 1 AS x"}, expect=201)  # still serves
        assert small["row_count"] == 1
    finally:
        service.store.limits = saved
        service.store.close()
    with pytest.raises(ValueError, match="tables_spill_limit"):
        TableService(services.db, tmp_path, services.root_dir, spill_limit="plenty")


async def test_limits_from_the_configuration(api, jp_serverapp, jp_root_dir):
    service = jp_serverapp.web_app.settings["esap_lab"].tables
    service.sql_timeout = 0.5
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT sum(a.range * b.range) AS s FROM "
                                                                "range(100000000) a, range(100000) b"})
    assert code == 400 and err["reason"] == "sql-timeout" and "tables_sql_timeout" in err["message"]
    service.max_results = 2  # the newest two results are kept
    ids = [(await api("POST", "tables", "sql", body={"sql": f"SELECT {i} AS x"}, expect=201))[1]["id"]
           for i in range(3)]
    await api("GET", "tables", ids[0], expect=404)
    _, kept = await api("GET", "tables", params={"kind": "result"}, expect=200)
    assert [t["id"] for t in kept["tables"]] == ids[1:]
    service.max_rows = 3
    (jp_root_dir / "five.csv").write_text("x\n1\n2\n3\n4\n5\n")
    code, err = await api("POST", "tables", body={"name": "five", "source": {"kind": "file", "path": "five.csv"}})
    assert code == 400 and err["reason"] == "too-many-rows" and "tables_max_rows" in err["message"]
    service.max_bytes = 10
    code, err = await api("POST", "tables", body={"name": "five", "source": {"kind": "file", "path": "five.csv"}})
    assert code == 400 and err["reason"] == "too-large"
    # the same cap on an upload and on a URL, each naming the setting
    code, err = await api("POST", "tables", "upload", body=b"x\n1\n2\n3\n4\n5\n",
                          params={"name": "five", "format": "csv"})
    assert code == 413 and err["reason"] == "body-too-large" and "tables_max_bytes" in err["message"], err
    url = f"{VO_URL}/esapdemo/q/cone/scs.xml?RA=155&DEC=5&SR=0.1"
    code, err = await api("POST", "tables", body={"name": "scs", "source": {"kind": "url", "url": url,
                                                                           "format": "votable"}})
    assert code == 400 and err["reason"] == "too-large" and "tables_max_bytes" in err["message"], err
    # a crossmatch result is cut at the row cap, and says so
    service.max_bytes, service.max_rows = 1 << 30, 2
    (jp_root_dir / "p.csv").write_text("ra,dec\n10.0,20.0\n10.0001,20.0\n10.0002,20.0\n")
    (jp_root_dir / "q.csv").write_text("ra,dec\n10.0,20.0\n10.0001,20.0\n10.0002,20.0\n")
    code, err = await api("POST", "tables", body={"name": "p", "source": {"kind": "file", "path": "p.csv"}})
    assert code == 400 and err["reason"] == "too-many-rows"
    service.max_rows = 3
    for n in ("p", "q"):
        await api("POST", "tables", body={"name": n, "source": {"kind": "file", "path": f"{n}.csv"}}, expect=201)
    service.max_rows = 2
    _, x = await api("POST", "tables", "crossmatch", body={"a": "p", "b": "q", "radius": 5, "find": "all"}, expect=201)
    assert x["row_count"] == 2 and x["overflow"] is True
    # and an SQL or crossmatch result to the byte cap
    service.max_rows, service.max_bytes = 1000, 1000
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT repeat('x', 100) AS s FROM range(50)"})
    assert code == 400 and err["reason"] == "too-large" and "tables_max_bytes" in err["message"], err
    await api("POST", "tables", "sql", body={"sql": "SELECT repeat('x', 10) AS s FROM range(5)"}, expect=201)
    service.max_bytes = 10
    code, err = await api("POST", "tables", "crossmatch", body={"a": "p", "b": "q", "radius": 5, "find": "all"})
    assert code == 400 and err["reason"] == "too-large" and "tables_max_bytes" in err["message"], err
