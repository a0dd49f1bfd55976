"""The basket over REST and from a kernel, against SQLite and PostgreSQL: typed items, dedup,
optimistic concurrency, concurrent writers from the server, threads and other processes,
persistence, export/import, and a real kernel reading and adding items."""

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import db_urls

ROOT = Path(__file__).resolve().parents[1]
DBS = pytest.mark.parametrize("esap_db_url", db_urls(), indirect=True)

FILE = {"kind": "file", "url": "https://example.org/data/run7.fits", "size": 2880, "checksum": "md5:0a1b2c"}
DID = {"kind": "did", "scope": "user.alice", "name": "run7.h5", "did_type": "file"}


async def cone(api, **kw):
    body = {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05, **kw}
    _, info = await api("POST", "archives", "local", "queries", body=body, expect=201)
    assert info["status"] == "completed", info
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 5}, expect=200)
    return info, page["rows"]


def store_for(url: str):
    """The server's own store over ``url`` (server side: kernels use the REST API)."""
    from esap_lab.basket.store import BasketStore
    from esap_lab.db import Database, user_schema

    db = Database(url, schema=user_schema("esap_{username}"))  # the server's default schema on PostgreSQL
    db.migrate()
    return BasketStore(db)


@DBS
async def test_typed_items_added_listed_and_kept_once(api):
    info, rows = await cone(api)
    record = {"kind": "record", "archive": "local", "query_id": info["id"], "rows": rows[:2]}
    query = {"kind": "query", "archive": "local", "query_id": info["id"], "request": info["request"]}
    code, res = await api("POST", "basket", "items", body=[record, query, DID, FILE], expect=201)
    assert res["added"] == 4 and res["duplicates"] == 0
    rec, q, did, f = res["items"]
    assert {i["kind"] for i in res["items"]} == {"record", "query", "did", "file"}
    for item in res["items"]:
        assert item["id"] and item["title"] and item["source"] and item["version"] == 1 and item["added"]
    # the server completed the items with what it knows
    assert {c["name"]: c["unit"] for c in rec["columns"]}["ra"] == "deg"
    assert q["services"]["scs"].endswith("scs.xml") and q["row_count"] == info["row_count"]
    assert did["title"] == "user.alice:run7.h5" and did["source"] == "rucio"
    assert f["title"] == "run7.fits" and f["source"] == "example.org"

    # the same things again: kept once, same ids, nothing new (200, not 201)
    code, again = await api("POST", "basket", "items", body=[dict(FILE, title="other title"), record])
    assert code == 200 and again["added"] == 0 and again["duplicates"] == 2
    assert [i["id"] for i in again["items"]] == [f["id"], rec["id"]]
    assert again["items"][0]["title"] == "run7.fits"

    _, page = await api("GET", "basket", "items", expect=200)
    assert page["total"] == 4 and [i["id"] for i in page["items"]] == [rec["id"], q["id"], did["id"], f["id"]]
    _, page = await api("GET", "basket", "items", params={"kind": "did"}, expect=200)
    assert page["total"] == 1 and page["items"][0]["scope"] == "user.alice"
    _, page = await api("GET", "basket", "items", params={"offset": 1, "limit": 2, "order": "desc"}, expect=200)
    assert page["total"] == 4 and [i["id"] for i in page["items"]] == [did["id"], q["id"]]
    _, one = await api("GET", "basket", "items", rec["id"], expect=200)
    assert one == rec
    _, summary = await api("GET", "basket", expect=200)
    assert summary["count"] == 4 and summary["counts"] == {"record": 1, "query": 1, "did": 1, "file": 1}
    assert summary["revision"] == page["revision"] == res["revision"]


async def test_single_row_record_gets_its_access_url(api):
    """The result grid sends one record per selected row, as {"row": {...}}."""
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "sia", "ra": 155.0, "dec": 5.0, "size": 0.4}, expect=201)
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 1}, expect=200)
    _, res = await api("POST", "basket", "items", expect=201,
                       body={"kind": "record", "archive": "local", "query_id": info["id"], "row": page["rows"][0]})
    item = res["items"][0]
    assert item["access_url_column"] == "access_url"
    assert item["access_url"] == page["rows"][0]["access_url"]


async def test_did_items_as_rucio_writes_them(api):
    _, res = await api("POST", "basket", "items", expect=201,
                       body={"kind": "did", "did": "user.alice:run7.h5", "did_type": "FILE", "bytes": 10})
    item = res["items"][0]
    assert (item["scope"], item["name"], item["did_type"]) == ("user.alice", "run7.h5", "file")
    code, again = await api("POST", "basket", "items", body=DID)  # the same DID: kept once
    assert code == 200 and again["items"][0]["id"] == item["id"]


async def test_bad_items_get_400_naming_the_field(api):
    code, err = await api("POST", "basket", "items", body=[FILE, {"kind": "file", "url": "not a url"}])
    assert code == 400 and "url" in err["message"] and err["reason"] == "invalid-request"
    code, err = await api("POST", "basket", "items", body={"kind": "record", "archive": "local", "rows": []})
    assert code == 400 and "rows" in err["message"]
    code, err = await api("POST", "basket", "items",
                          body={"kind": "query", "archive": "local", "request": {"kind": "cone", "ra": 1}})
    assert code == 400 and "request" in err["message"] and "radius" in err["message"]
    code, err = await api("POST", "basket", "items", body={"kind": "spaceship"})
    assert code == 400 and "kind" in err["message"].lower()
    code, err = await api("GET", "basket", "items", params={"kind": "spaceship"})
    assert code == 400 and "kind" in err["message"]
    _, page = await api("GET", "basket", "items", expect=200)
    assert page["total"] == 0  # the good item of the bad list was not added either
    code, err = await api("GET", "basket", "items", "b0000", expect=404)
    assert "Traceback" not in json.dumps(err)


@DBS
async def test_patch_needs_the_current_version(api):
    _, res = await api("POST", "basket", "items", body=FILE, expect=201)
    item = res["items"][0]
    _, edited = await api("PATCH", "basket", "items", item["id"], expect=200,
                          body={"version": 1, "title": "Run 7", "notes": "calibrated", "tags": ["run7"]})
    assert edited["version"] == 2 and edited["title"] == "Run 7" and edited["tags"] == ["run7"]
    assert edited["url"] == FILE["url"] and edited["id"] == item["id"]
    code, err = await api("PATCH", "basket", "items", item["id"], body={"version": 1, "title": "stale"})
    assert code == 409 and err["reason"] == "stale-version"
    _, now = await api("GET", "basket", "items", item["id"], expect=200)
    assert now["title"] == "Run 7" and now["version"] == 2
    code, err = await api("PATCH", "basket", "items", item["id"], body={"version": 2, "url": "https://x/y"})
    assert code == 400 and "url" in err["message"]  # what an item points at is not editable
    await api("PATCH", "basket", "items", "bnothere", body={"version": 1, "title": "x"}, expect=404)

    # ten edits racing from the same version: exactly one wins, the others get 409
    results = await asyncio.gather(*(api("PATCH", "basket", "items", item["id"],
                                         body={"version": 2, "title": f"edit {n}"}) for n in range(10)))
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * 9, codes
    _, now = await api("GET", "basket", "items", item["id"], expect=200)
    winner = next(body for code, body in results if code == 200)
    assert now["version"] == 3 and now["title"] == winner["title"]


async def test_remove_and_clear(api):
    _, res = await api("POST", "basket", "items", body=[FILE, DID], expect=201)
    fid, did = (i["id"] for i in res["items"])
    await api("DELETE", "basket", "items", fid, expect=204)
    await api("DELETE", "basket", "items", fid, expect=404)
    _, page = await api("GET", "basket", "items", expect=200)
    assert [i["id"] for i in page["items"]] == [did]
    await api("POST", "basket", "items", body=FILE, expect=201)
    _, out = await api("DELETE", "basket", "items", params={"kind": "file"}, expect=200)
    assert out["removed"] == 1
    _, out = await api("DELETE", "basket", "items", expect=200)
    assert out["removed"] == 1
    _, summary = await api("GET", "basket", expect=200)
    assert summary["count"] == 0 and summary["revision"] == out["revision"]


ADDER = textwrap.dedent("""
    import sys
    from esap_lab import basket
    for n in range(int(sys.argv[2])):
        basket.add(kind="file", url=f"https://example.org/{sys.argv[1]}/{n}.fits")
    print("done")
""")


@DBS
async def test_fifty_concurrent_adds_from_five_clients_none_lost(api, esap_db_url):
    """3 REST clients (asyncio tasks), 1 thread on the server's store and 1 separate process using
    the kernel API (which reaches the server through the credentials it exports)."""
    _, before = await api("GET", "basket", expect=200)

    async def rest_client(c):
        for n in range(10):
            await api("POST", "basket", "items", body={"kind": "file", "url": f"https://example.org/rest{c}/{n}.fits"},
                      expect=201)

    def thread_client():
        from esap_lab.basket.models import FileFields

        store = store_for(esap_db_url)
        for n in range(10):
            store.add([FileFields(kind="file", url=f"https://example.org/thread/{n}.fits")])
        store.db.close()

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    assert "ESAP_LAB_SERVER_URL" in env and "ESAP_LAB_DB_URL" not in env
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", ADDER, "proc", "10", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    results = await asyncio.gather(*(rest_client(c) for c in range(3)), asyncio.to_thread(thread_client),
                                   proc.communicate())
    out, err = results[-1]
    assert proc.returncode == 0 and out.strip() == b"done", err.decode()[-2000:]

    _, page = await api("GET", "basket", "items", params={"limit": 100}, expect=200)
    urls = {i["url"] for i in page["items"]}
    assert page["total"] == 50 and len(urls) == 50
    assert {u.split("/")[3] for u in urls} == {"rest0", "rest1", "rest2", "thread", "proc"}
    assert page["revision"] == before["revision"] + 50  # every add was its own change
    seqs = [i["added"] for i in page["items"]]
    assert seqs == sorted(seqs)


@DBS
async def test_basket_survives_a_restart(api, esap_db_url):
    _, res = await api("POST", "basket", "items", body=[FILE, DID], expect=201)
    await api("PATCH", "basket", "items", res["items"][0]["id"], body={"version": 1, "notes": "keep"}, expect=200)
    # a new engine over the same database: what a restarted server (or a kernel) sees
    store = await asyncio.to_thread(store_for, esap_db_url)
    try:
        items = await asyncio.to_thread(store.items)
        assert [i.id for i in items] == [i["id"] for i in res["items"]]
        assert items[0].notes == "keep" and items[0].version == 2
        # and what it adds, this server sees
        from esap_lab.basket.models import DidFields

        await asyncio.to_thread(store.add, [DidFields(kind="did", scope="user.alice", name="other")])
    finally:
        store.db.close()
    _, summary = await api("GET", "basket", expect=200)
    assert summary["counts"] == {"file": 1, "did": 2}


@DBS
async def test_export_import_round_trip_and_a_bad_file_changes_nothing(api):
    info, rows = await cone(api)
    items = [FILE, DID, {"kind": "record", "archive": "local", "query_id": info["id"], "rows": rows[:3],
                         "tags": ["bright"], "notes": "three stars"}]
    _, res = await api("POST", "basket", "items", body=items, expect=201)
    _, exported = await api("GET", "basket", "export", expect=200)
    assert exported["format"] == "esap-lab-basket" and exported["version"] == 1
    assert [i["id"] for i in exported["items"]] == [i["id"] for i in res["items"]]

    await api("DELETE", "basket", "items", expect=200)
    _, out = await api("POST", "basket", "import", body=exported, expect=200)
    assert out["added"] == 3 and out["duplicates"] == 0 and out["total"] == 3
    _, page = await api("GET", "basket", "items", expect=200)
    strip = lambda i: {k: v for k, v in i.items() if k not in ("added", "updated")}  # noqa: E731
    assert [strip(i) for i in page["items"]] == [strip(i) for i in res["items"]]

    _, out = await api("POST", "basket", "import", body=exported, expect=200)
    assert out["added"] == 0 and out["duplicates"] == 3

    # a bad file: 400 naming the problem, and the basket is as it was
    _, before = await api("GET", "basket", expect=200)
    bad = json.loads(json.dumps(exported))
    bad["items"].append({"kind": "file", "url": "https://example.org/new.fits"})
    del bad["items"][1]["scope"]
    code, err = await api("POST", "basket", "import", body=bad, params={"mode": "replace"})
    assert code == 400 and "items.1" in err["message"] and "scope" in err["message"], err
    code, err = await api("POST", "basket", "import", body={"format": "something-else", "items": []})
    assert code == 400 and "format" in err["message"]
    code, err = await api("POST", "basket", "import", body="{not json")
    assert code == 400 and err["reason"] == "bad-json"
    _, after = await api("GET", "basket", expect=200)
    assert after == before

    # replace: the basket becomes the file
    only_file = dict(exported, items=exported["items"][:1])
    _, out = await api("POST", "basket", "import", body=only_file, params={"mode": "replace"}, expect=200)
    assert out["removed"] == 3 and out["added"] == 1 and out["total"] == 1


async def test_openapi_describes_the_basket(api):
    _, doc = await api("GET", "openapi.json", expect=200)
    paths = doc["paths"]
    for p in ("/basket", "/basket/items", "/basket/items/{iid}", "/basket/export", "/basket/import"):
        assert p in paths, p
    assert "409" in paths["/basket/items/{iid}"]["patch"]["responses"]
    schemas = json.dumps(doc["components"]["schemas"])
    for field in ("query_id", "access_url", "did_type", "checksum"):
        assert field in schemas


KERNEL_CODE = textwrap.dedent("""
    import json
    from esap_lab import basket
    rec = basket.items("record")[0]
    t = rec.to_table()
    both = basket.records_table()
    q = basket.items("query")[0].to_table()
    added = basket.add(kind="did", scope="user.kernel", name="from-kernel.h5", did_type="file")
    w = basket.BasketWidget()
    w._list.value = (added.id,)
    print(json.dumps({"kinds": sorted(i.kind for i in basket.items()), "record_rows": len(t),
                      "ra_unit": str(t["ra"].unit), "query_rows": len(q),
                      "joined": [len(both), str(both["vmag"].unit)], "added": added.id,
                      "selected": [i.id for i in w.selected]}))
""")


@DBS
async def test_a_real_kernel_reads_and_adds_basket_items(api, esap_db_url, tmp_path):
    from jupyter_client.manager import AsyncKernelManager

    info, rows = await cone(api)
    await api("POST", "basket", "items", expect=201, body=[
        {"kind": "record", "archive": "local", "query_id": info["id"], "rows": rows[:3]},
        {"kind": "record", "archive": "local", "query_id": info["id"], "row": rows[3]},
        {"kind": "query", "archive": "local", "query_id": info["id"], "request": info["request"]}])

    # The server exported its own URL and token; a kernel it starts inherits them, and nothing
    # that leads to the database.
    assert os.environ["ESAP_LAB_SERVER_URL"] and not any(esap_db_url in v for v in os.environ.values())
    env = {k: v for k, v in os.environ.items() if not k.startswith("JPY_")}
    env["PYTHONPATH"] = str(ROOT)
    km = AsyncKernelManager(kernel_name="python3")
    await km.start_kernel(env=env, cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        out, errors = [], []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                errors.append("\n".join(msg["content"]["traceback"]))

        reply = await kc.execute_interactive(KERNEL_CODE, output_hook=hook, timeout=120)
        assert reply["content"]["status"] == "ok", errors
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    got = json.loads("".join(out).strip().splitlines()[-1])
    assert got["kinds"] == ["did", "query", "record", "record"]
    assert got["record_rows"] == 3 and got["ra_unit"] == "deg"
    assert got["joined"] == [4, "mag"]  # the records' rows as one table
    assert got["query_rows"] == info["row_count"]  # read from the stored result
    assert got["selected"] == [got["added"]]
    _, page = await api("GET", "basket", "items", params={"kind": "did"}, expect=200)
    assert [i["id"] for i in page["items"]] == [got["added"]]


async def test_query_item_runs_again_when_its_result_is_gone(api):
    """The stored result is gone: the server runs the query again on the archive it knows; an
    archive it does not know is asked directly on the public services the item names."""
    from conftest import LOCAL_ARCHIVE
    from esap_lab import basket

    services = {k: LOCAL_ARCHIVE[k] for k in ("tap", "scs")}
    q = "SELECT TOP 7 source_id, ra, dec FROM esapdemo.sources ORDER BY source_id"
    for archive in ("local", "elsewhere"):
        _, res = await api("POST", "basket", "items", expect=201, body={
            "kind": "query", "archive": archive, "query_id": "gone", "services": services,
            "request": {"kind": "tap", "query": q}})
        item = await asyncio.to_thread(basket.get, res["items"][0]["id"])
        t = await asyncio.to_thread(item.to_table)
        assert len(t) == 7 and list(t["source_id"]) == sorted(t["source_id"]) and str(t["ra"].unit) == "deg"
    _, queries = await api("GET", "queries", expect=200)
    assert [x["archive"] for x in queries["queries"]] == ["local"]  # only the known archive ran on the server


def test_importing_the_kernel_api_stays_light():
    code = ("import sys; import esap_lab.basket, esap_lab.staging, esap_lab.client; "
            "print(sorted(m for m in ('tornado', 'jupyter_server', 'pyvo', 'ipywidgets', 'sqlalchemy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.stdout.strip() == "[]"


async def test_kernel_api_takes_astropy_rows_and_needs_a_server(api, tmp_path):
    """Rows from astropy go through the REST API; without a server to talk to, a clear message."""
    code = textwrap.dedent("""
        import json
        import numpy as np
        from astropy.table import MaskedColumn, Table
        from esap_lab import basket
        t = Table([MaskedColumn([1, 2, 3], name="source_id", dtype=np.int64),
                   MaskedColumn([1.5, 2.5, 3.5], name="vmag", unit="mag", mask=[False, True, False]),
                   MaskedColumn([b"a", b"b", b"c"], name="band")])
        many = basket.add(kind="record", archive="local", rows=t[:2])
        one = basket.add(kind="record", archive="local", rows=t[2])
        again = basket.add(kind="record", archive="local", rows=t[:2])
        back = basket.records_table()
        print(json.dumps({"same": many.id == again.id, "rows": [len(many.rows), len(one.rows)],
                          "first": many.rows[1], "joined": len(back), "masked": bool(back["vmag"].mask[1])}))
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT), JUPYTER_DATA_DIR=str(tmp_path / "jd"))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    got = json.loads(out.decode().strip().splitlines()[-1])
    assert got["same"] is True and got["rows"] == [2, 1]
    assert got["first"] == {"source_id": 2, "vmag": None, "band": "b"}
    assert got["joined"] == 3 and got["masked"] is True
    _, summary = await api("GET", "basket", expect=200)
    assert summary["counts"] == {"record": 2}
    assert not (tmp_path / "jd").exists()  # no database of its own

    alone = {k: v for k, v in env.items() if not k.startswith(("ESAP_LAB_", "JUPYTERHUB_"))}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "from esap_lab import basket; basket.items()",
                                                env=alone, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and b"No esap-lab server to talk to" in err and b"ESAP_LAB_SERVER_URL" in err
