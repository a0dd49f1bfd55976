"""Discovery against the real local DaCHS: TAP sync/async/cancel, cone, SIA, paging, sorting,
errors, and the archive list."""

import asyncio

import pytest
from conftest import poll_until


async def wait_done(api, qid, timeout=60):
    return await poll_until(api, "queries", qid, until=("completed", "error", "cancelled"),
                            timeout=timeout, interval=0.2)


async def test_archive_list_reports_capabilities_and_reachability(api):
    _, data = await api("GET", "archives", expect=200)
    by_id = {a["id"]: a for a in data["archives"]}
    # (obscore: the local DaCHS's TAP service has ivoa.obscore, probed with the check)
    assert by_id["local"]["capabilities"] == ["tap", "cone", "sia", "obscore"]
    assert by_id["local"]["reachable"] is True
    assert by_id["dead"]["reachable"] is False
    assert "auth" not in by_id["local"]
    # refined from the TAP service's VOSI capabilities
    assert by_id["local"]["details"] == {"default_maxrec": 20000, "hard_maxrec": 20000000, "streams_csv": True}


async def test_cone_search_returns_rows_with_column_metadata(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.3}, expect=201)
    assert info["status"] == "completed", info
    assert info["row_count"] > 100
    cols = {c["name"]: c for c in info["columns"]}
    assert cols["ra"]["unit"] == "deg"
    assert cols["ra"]["ucd"].lower().replace("_", ".").startswith("pos.eq.ra")  # SCS speaks UCD1
    assert cols["vmag"]["description"] == "V magnitude"
    _, page = await api("GET", "queries", info["id"], "rows", params={"offset": 0, "limit": 10}, expect=200)
    assert page["total"] == info["row_count"] and len(page["rows"]) == 10
    assert {"source_id", "ra", "dec", "vmag"} <= set(page["rows"][0])


async def test_empty_cone_is_completed_with_no_rows(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 205.0, "dec": -25.0, "radius": 0.3}, expect=201)
    assert info["status"] == "completed" and info["row_count"] == 0


async def test_tap_sync_pages_and_sorts_server_side(api):
    q = "SELECT source_id, ra, dec, vmag FROM esapdemo.sources WHERE source_id <= 5000"
    _, info = await api("POST", "archives", "local", "queries", body={"kind": "tap", "query": q}, expect=201)
    assert info["status"] == "completed" and info["row_count"] == 5000 and info["overflow"] is False
    _, asc = await api("GET", "queries", info["id"], "rows",
                       params={"offset": 0, "limit": 50, "sort": "vmag", "order": "asc"}, expect=200)
    _, desc = await api("GET", "queries", info["id"], "rows",
                        params={"offset": 0, "limit": 50, "sort": "vmag", "order": "desc"}, expect=200)
    mags = [r["vmag"] for r in asc["rows"]]
    assert mags == sorted(mags)
    assert desc["rows"][0]["vmag"] >= asc["rows"][-1]["vmag"]
    _, last = await api("GET", "queries", info["id"], "rows",
                        params={"offset": 4990, "limit": 50, "sort": "vmag", "order": "asc"}, expect=200)
    assert len(last["rows"]) == 10 and last["rows"][-1]["vmag"] == max(r["vmag"] for r in desc["rows"])
    _, beyond = await api("GET", "queries", info["id"], "rows", params={"offset": 6000}, expect=200)
    assert beyond["rows"] == [] and beyond["total"] == 5000
    # a sorted page names its rows' numbers in stored order: the unsorted read has them there
    _, stored = await api("GET", "queries", info["id"], "rows", params={"limit": 5000}, expect=200)
    assert stored["index"] is None
    for page in (asc, desc, last):
        assert len(page["index"]) == len(page["rows"])
        assert [stored["rows"][i] for i in page["index"]] == page["rows"]


async def test_tap_overflow_is_reported(api):
    q = "SELECT source_id FROM esapdemo.sources"
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": q, "maxrec": 100}, expect=201)
    assert info["row_count"] == 100 and info["overflow"] is True


async def test_tap_async_runs_as_uws_job(api):
    q = "SELECT source_id, vmag FROM esapdemo.sources WHERE source_id <= 30000"
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": q, "async": True, "maxrec": 30000},
                        params={"wait": "0"}, expect=201)
    assert info["status"] in ("queued", "running")
    info = await wait_done(api, info["id"])
    assert info["status"] == "completed" and info["row_count"] == 30000
    # the remote UWS job's phase is kept on the record, with the time the query took
    assert info["phase"] == "COMPLETED"
    assert info["elapsed"] is not None and info["elapsed"] >= 0


async def test_tap_async_cancel_aborts_remote_job_and_forgets(api, jp_serverapp):
    import requests

    q = "SELECT a.source_id FROM esapdemo.sources AS a JOIN esapdemo.sources AS b ON a.vmag < b.vmag"
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": q, "async": True}, params={"wait": "0"}, expect=201)
    qm = jp_serverapp.web_app.settings["esap_lab"].queries
    remote = None
    for _ in range(100):
        from esap_lab.archives.queries import QueryRecord

        with qm.db.read() as s:
            remote = s.get(QueryRecord, info["id"]).remote_url
        if remote:
            break
        await asyncio.sleep(0.1)
    assert remote, "the UWS job URL is recorded"
    # while the job runs, the record shows its UWS phase and a growing elapsed time
    for _ in range(100):
        _, running = await api("GET", "queries", info["id"])
        if running["phase"]:
            break
        await asyncio.sleep(0.1)
    assert running["status"] == "running" and running["phase"] in ("PENDING", "QUEUED", "EXECUTING")
    assert running["elapsed"] is not None and running["elapsed"] >= 0
    await api("DELETE", "queries", info["id"], expect=204)
    await api("GET", "queries", info["id"], expect=404)
    phase = await asyncio.to_thread(lambda: requests.get(remote + "/phase", timeout=5))
    assert phase.status_code == 404 or phase.text.strip() in ("ABORTED", "ERROR")


async def test_sia_v2_rows_carry_access_urls(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    assert info["status"] == "completed" and info["row_count"] >= 1
    assert info["access_url_column"] == "access_url"
    _, page = await api("GET", "queries", info["id"], "rows", expect=200)
    assert all(r["access_url"].startswith("http://127.0.0.1") for r in page["rows"])


async def test_sia_v1_fallback(api):
    _, info = await api("POST", "archives", "local-sia1", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    assert info["status"] == "completed" and info["row_count"] >= 1
    assert info["access_url_column"] == "accref"


async def test_query_list(api):
    _, a = await api("POST", "archives", "local", "queries",
                     body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}, expect=201)
    _, data = await api("GET", "queries", expect=200)
    assert a["id"] in [q["id"] for q in data["queries"]]


# -- errors -------------------------------------------------------------------------------------
async def test_unknown_archive_is_404(api):
    code, err = await api("POST", "archives", "nope", "queries",
                          body={"kind": "cone", "ra": 1, "dec": 1, "radius": 0.1})
    assert code == 404 and "nope" in err["message"] and "local" in err["message"]


@pytest.mark.parametrize("body,field", [
    ({"kind": "cone", "ra": 400, "dec": 1, "radius": 0.1}, "ra"),
    ({"kind": "cone", "ra": 1, "dec": 1}, "radius"),
    ({"kind": "cone", "radius": 0.1}, "ra and dec"),
    ({"kind": "tap", "query": ""}, "query"),
    ({"kind": "warp"}, "kind"),
    ({"kind": "tap", "query": "SELECT 1", "bogus": 1}, "bogus"),
])
async def test_malformed_request_names_the_field(api, body, field):
    code, err = await api("POST", "archives", "local", "queries", body=body)
    assert code == 400 and field in err["message"], err
    assert "Traceback" not in err["message"]


async def test_body_that_is_not_json_is_400(api):
    code, err = await api("POST", "archives", "local", "queries", body="{not json")
    assert code == 400 and "JSON" in err["message"]


async def test_adql_error_is_400_with_the_service_message_and_leaves_nothing(api):
    code, err = await api("POST", "archives", "local", "queries",
                          body={"kind": "tap", "query": "SELECT nothing FROM nowhere"})
    assert code == 400 and "nowhere" in err["message"] and err["reason"] == "query-rejected"
    _, data = await api("GET", "queries", expect=200)
    assert data["queries"] == []


async def test_async_adql_error_shows_in_the_status(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": "SELECT nothing FROM nowhere", "async": True},
                        params={"wait": "0"}, expect=201)
    info = await wait_done(api, info["id"])
    assert info["status"] == "error" and "nowhere" in info["message"]
    code, err = await api("GET", "queries", info["id"], "rows")
    assert code == 409 and "nowhere" in err["message"]


async def test_unsupported_kind_is_400(api):
    code, err = await api("POST", "archives", "local-sia1", "queries",
                          body={"kind": "tap", "query": "SELECT 1"})
    assert code == 400 and "sia" in err["message"]


async def test_unreachable_archive_is_502_naming_it(api):
    code, err = await api("POST", "archives", "dead", "queries",
                          body={"kind": "cone", "ra": 1, "dec": 1, "radius": 0.1})
    assert code == 502 and "Dead archive" in err["message"] and err["service"] == "Dead archive"


async def test_unknown_sort_column_is_400(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}, expect=201)
    code, err = await api("GET", "queries", info["id"], "rows", params={"sort": "nope"})
    assert code == 400 and "nope" in err["message"]


async def test_bad_paging_is_400(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}, expect=201)
    code, err = await api("GET", "queries", info["id"], "rows", params={"limit": "-3"})
    assert code == 400 and "limit" in err["message"]


async def test_unknown_query_is_404(api):
    code, _ = await api("GET", "queries", "deadbeef")
    assert code == 404
    code, _ = await api("DELETE", "queries", "deadbeef")
    assert code == 404


# -- large results stream as CSV into Arrow batches ------------------------------------------------
async def test_large_result_streams_and_reports_overflow(api):
    q = "SELECT source_id, ra, dec, vmag FROM esapdemo.sources"
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": q, "maxrec": 30000, "async": False},
                        params={"wait": "60"}, expect=201)
    assert info["status"] == "completed" and info["row_count"] == 30000 and info["overflow"] is True
    cols = {c["name"]: c for c in info["columns"]}
    assert cols["vmag"]["unit"] == "mag" and cols["vmag"]["description"] == "V magnitude"
    _, page = await api("GET", "queries", info["id"], "rows",
                        params={"offset": 29990, "limit": 50, "sort": "source_id", "order": "desc"}, expect=200)
    assert len(page["rows"]) == 10
    assert isinstance(page["rows"][0]["source_id"], int) and isinstance(page["rows"][0]["ra"], float)


async def test_large_result_without_overflow_and_with_nulls(api):
    q = ("SELECT source_id, CASE WHEN source_id < 10 THEN NULL ELSE vmag END AS m FROM esapdemo.sources "
         "WHERE source_id <= 25000")
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": q, "maxrec": 100000, "async": False},
                        params={"wait": "60"}, expect=201)
    assert info["row_count"] == 25000 and info["overflow"] is False
    _, page = await api("GET", "queries", info["id"], "rows",
                        params={"limit": 12, "sort": "source_id"}, expect=200)
    assert [r["m"] for r in page["rows"][:9]] == [None] * 9 and page["rows"][10]["m"] is not None


async def test_large_query_with_no_rows(api):
    q = "SELECT source_id FROM esapdemo.sources WHERE vmag > 99"
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "tap", "query": q, "maxrec": 100000}, params={"wait": "60"}, expect=201)
    assert info["status"] == "completed" and info["row_count"] == 0 and info["overflow"] is False
    _, page = await api("GET", "queries", info["id"], "rows", expect=200)
    assert page == {**page, "total": 0, "rows": []}


async def test_a_long_query_does_not_block_the_server(api):
    import time

    q = "SELECT source_id, ra, dec, vmag, bmag, rmag FROM esapdemo.sources"
    started = asyncio.create_task(api("POST", "archives", "local", "queries",
                                      body={"kind": "tap", "query": q, "maxrec": 200000, "async": False},
                                      params={"wait": "30"}))
    await asyncio.sleep(0.3)  # the query is running in its thread now
    t0 = time.perf_counter()
    await api("GET", "queries", expect=200)
    await api("GET", "version", expect=200)
    assert time.perf_counter() - t0 < 0.5, "the server answered only after the query"
    code, info = await started
    assert code == 201 and info["row_count"] == 200000


# -- binary VOTables decoded in bulk (esap_lab.archives.votable) --------------------------------


def _astropy_rows(data: bytes):
    import io

    from astropy.io.votable import parse

    from esap_lab.archives.results import astropy_to_arrow

    return astropy_to_arrow(parse(io.BytesIO(data)).get_first_table().to_table(use_names_over_ids=True))


@pytest.mark.parametrize("fmt", [None, "votable/b2"])
@pytest.mark.parametrize("what", ["cone", "tap", "obscore", "tap_schema", "empty"])
def test_binary_votables_of_the_archive_decode_as_astropy_reads_them(what, fmt):
    import requests
    from conftest import VO_URL

    from esap_lab.archives.votable import decode

    extra = {"RESPONSEFORMAT": fmt} if fmt else {}
    if what == "cone":  # a variable-length char column (source_id) among numbers
        data = requests.get(f"{VO_URL}/esapdemo/q/cone/scs.xml", params={"RA": 155, "DEC": 5, "SR": 0.5, **extra},
                            timeout=60).content
    else:
        query = {"tap": "SELECT TOP 3000 source_id, ra, dec, vmag FROM esapdemo.sources",
                 "obscore": "SELECT * FROM ivoa.obscore",
                 "tap_schema": "SELECT * FROM tap_schema.columns",
                 "empty": "SELECT * FROM esapdemo.sources WHERE ra < 0"}[what]
        data = requests.post(f"{VO_URL}/tap/sync", data={"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query,
                                                         **extra}, timeout=60).content
    decoded = decode(data)
    assert decoded is not None, data[:300]
    assert decoded.rows.equals(_astropy_rows(data))


@pytest.mark.parametrize("serialization", ["binary", "binary2"])
def test_nulls_booleans_and_strings_decode_as_astropy_reads_them(serialization):
    """A VOTable written by astropy with every kind of value the decoder reads itself."""
    import io

    import numpy as np
    from astropy.io.votable.tree import Field, Resource, TableElement, VOTableFile

    from esap_lab.archives.votable import decode

    vot = VOTableFile()
    res = Resource()
    vot.resources.append(res)
    fields = [
        Field(vot, name="i", datatype="int"), Field(vot, name="l", datatype="long"),
        Field(vot, name="s", datatype="short"), Field(vot, name="u", datatype="unsignedByte"),
        Field(vot, name="f", datatype="float"), Field(vot, name="d", datatype="double"),
        Field(vot, name="b", datatype="boolean"), Field(vot, name="fixed", datatype="char", arraysize="6"),
        Field(vot, name="var", datatype="char", arraysize="*"),
        Field(vot, name="bounded", datatype="char", arraysize="8*"),
        Field(vot, name="uni", datatype="unicodeChar", arraysize="*"),
    ]
    fields[0].values.null = -1  # (a value that occurs: those rows are null)
    fields[2].values.null = 99
    table = TableElement(vot)
    table.fields.extend(fields)
    res.tables.append(table)
    n = 7
    table.create_arrays(n)
    rng = np.random.default_rng(3)
    columns = {"i": [i - 1 for i in range(n)], "l": [2**40 + i for i in range(n)], "s": [-i for i in range(n)],
               "u": [i * 30 for i in range(n)], "f": rng.normal(size=n), "d": rng.normal(size=n),
               "b": [i % 2 == 0 for i in range(n)], "fixed": ["ab"[: i % 3] for i in range(n)],
               "var": ["x" * i for i in range(n)], "bounded": ["yzw"[: i % 4] for i in range(n)],
               "uni": ["Ωμέγα"[:i] for i in range(n)]}
    for name, values in columns.items():
        for i, v in enumerate(values):
            table.array[name][i] = v
    table.array.mask["f"][2] = True
    table.array.mask["d"][3] = True
    table.array.mask["b"][4] = True
    table.array.mask["s"][5] = True
    out = io.BytesIO()
    vot.to_xml(out, tabledata_format=serialization)
    data = out.getvalue()
    decoded = decode(data)
    assert decoded is not None
    expected = _astropy_rows(data)
    if serialization == "binary":  # BINARY has no null flags: nulls are VALUES null, NaN, "?"
        assert decoded.rows.column("f").null_count == 1 and decoded.rows.column("b").null_count == 1
    for name in expected.column_names:
        assert decoded.rows.column(name).equals(expected.column(name)), name


def test_what_the_decoder_does_not_cover_is_left_to_astropy():
    from esap_lab.archives.votable import decode

    head = b'<VOTABLE><RESOURCE><TABLE><FIELD name="a" datatype="int"/><DATA>'
    assert decode(head + b"<TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>") is None
    assert decode(b'<VOTABLE><RESOURCE><TABLE><FIELD name="a" datatype="int" arraysize="2"/><DATA><BINARY2>'
                  b'<STREAM encoding="base64">AAAAAQAAAAI=</STREAM></BINARY2></DATA></TABLE></RESOURCE>'
                  b'</VOTABLE>') is None  # arrays
    assert decode(head + b'<BINARY><STREAM encoding="base64">AAAA</STREAM></BINARY></DATA></TABLE></RESOURCE>'
                         b'</VOTABLE>') is None  # 3 bytes: not a whole row


# -- the default archive list (no network: what it declares) ------------------------------------


def test_every_search_mode_has_a_default_archive_serving_it():
    from urllib.parse import urlsplit

    from esap_lab.archives.config import DEFAULT_ARCHIVES, parse_archives
    from esap_lab.archives.ivoa import IvoaArchive

    archives = [IvoaArchive(cfg, 60) for cfg in parse_archives(DEFAULT_ARCHIVES)]
    assert len(archives) == len(DEFAULT_ARCHIVES) >= 8  # none left out as invalid
    ids = {a.cfg.id for a in archives}
    assert {"gavo", "vizier", "gaia", "irsa", "cadc", "eso", "mast", "heasarc"} <= ids
    serving = {kind: sorted(a.cfg.id for a in archives if kind in a.capabilities)
               for kind in ("cone", "sia", "ssa", "tap")}
    # every mode, each by at least two archives (one down leaves the mode working)
    assert all(len(v) >= 2 for v in serving.values()), serving
    # images through both SIA versions
    assert any(a.cfg.sia2 for a in archives) and any(a.cfg.sia for a in archives)
    # ObsCore searches run on TAP services that publish ivoa.obscore (GAVO, IRSA, CADC, ESO, MAST)
    assert {"gavo", "irsa", "cadc", "eso", "mast"} <= set(serving["tap"])
    for a in archives:
        for url in a.services.values():
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and "." in parts.hostname, url
            assert not parts.hostname.startswith(("127.", "localhost")), url


def test_the_binder_tour_uses_modes_the_defaults_serve():
    import json
    import re
    from pathlib import Path

    from esap_lab.archives.config import DEFAULT_ARCHIVES, parse_archives
    from esap_lab.archives.ivoa import IvoaArchive

    capabilities = {cfg.id: IvoaArchive(cfg, 60).capabilities for cfg in parse_archives(DEFAULT_ARCHIVES)}
    nb = json.loads((Path(__file__).parent.parent / "binder" / "esap-lab-tour.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    calls = re.findall(r"search_many\(\[([^\]]*)\],\s*kind=\"(\w+)\"", code)
    assert calls, "the tour runs a search"
    for archive_list, kind in calls:
        for archive in re.findall(r"\"([\w.-]+)\"", archive_list):
            assert kind in capabilities[archive], (archive, kind)
