"""Bad input gets a 4xx naming the field, never a 500; limits; JSON 404s; a broken archive is a 502
naming it; a bad archive entry disables only that archive. The causes are the ones found by
fuzzing (issue 9), each a regression test."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import DEAD_ARCHIVE, LOCAL_ARCHIVE, VO_URL

from esap_lab.routes import API_PREFIX


@pytest.fixture(scope="module")
def redirecting_archive():
    """An archive whose every URL redirects elsewhere (to the DaCHS front page, HTML). A tiny
    stand-in HTTP server: nothing real is configured this way on purpose."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # (the http.server name)
            self.send_response(302)
            self.send_header("Location", f"{VO_URL}/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tap"
    yield {"id": "moved", "title": "Moved archive", "tap": url}
    server.shutdown()
    server.server_close()


@pytest.fixture
def esap_archives(redirecting_archive) -> list[dict]:
    return [LOCAL_ARCHIVE, DEAD_ARCHIVE, redirecting_archive]


def _names(err: dict, *fields: str) -> bool:
    return all(f in err["message"] for f in fields)


# -- paths and URLs ----------------------------------------------------------------------------
@pytest.mark.parametrize("notebook,why", [
    ("a\u0000b.ipynb", "control characters"),
    ("a" * 300 + ".ipynb", "255 bytes"),
    ("folder/" + "é" * 200 + ".ipynb", "255 bytes"),  # 400 bytes in UTF-8
    ("x/" * 600 + "n.ipynb", "1024"),
])
async def test_bad_notebook_paths_are_400_naming_the_field(api, notebook, why):
    code, err = await api("POST", "jobs", body={"notebook": notebook})
    assert code == 400 and err["reason"] == "invalid-request", (code, err)
    assert _names(err, "notebook", why), err


async def test_bad_staging_destination_and_urls_are_400_naming_the_field(api):
    code, err = await api("POST", "staging", body={"urls": [f"{VO_URL}/x"], "destination": "a\u0000b"})
    assert code == 400 and _names(err, "destination", "control characters"), err
    code, err = await api("POST", "staging", body={"urls": [{"url": "https://]&"}]})
    assert code == 400 and _names(err, "urls.0.url", "not a valid URL"), err
    code, err = await api("POST", "staging", body={"urls": ["http://host:99999/x"]})
    assert code == 400 and _names(err, "urls.0.url", "Port"), err
    code, err = await api("POST", "staging", body={"urls": [{"url": f"{VO_URL}/x", "name": "../escape"}]})
    assert code == 400 and _names(err, "urls.0.name"), err
    code, err = await api("POST", "staging", body={"dids": ["scope:na\u0000me"]})
    assert code == 400 and _names(err, "dids.0"), err


# -- bounded numbers in queries -----------------------------------------------------------------
@pytest.mark.parametrize("path", [("basket", "items"), ("queries", "q1", "rows"),
                                  ("rucio", "x1", "dids", "s", "n", "files")])
async def test_huge_offsets_are_400_naming_the_field(api, path):
    code, err = await api("GET", *path, params={"offset": "9223372036854775808"})
    assert code == 400 and _names(err, "offset"), (code, err)


async def test_a_query_parameter_given_twice_is_400_naming_it(http_server_client, jp_base_url, jp_auth_header):
    url = f"{jp_base_url.rstrip('/')}{API_PREFIX}/jobs?status=running&status=queued"
    r = await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)
    err = json.loads(r.body)
    assert r.code == 400 and _names(err, "status: given more than once"), (r.code, err)


async def test_jupyterlabs_cache_buster_is_not_an_unknown_parameter(http_server_client, jp_base_url, jp_auth_header):
    # ServerConnection appends a bare number to GETs; the strict query models must ignore it
    # (the software models forbid unknown parameters; the OSSR may not answer here: any status but 400)
    url = f"{jp_base_url.rstrip('/')}{API_PREFIX}/software/suggestions?limit=5&1796229426987"
    r = await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)
    assert r.code != 400, r.body


async def test_a_table_from_a_url_that_does_not_parse_is_400_naming_it(api):
    code, err = await api("POST", "tables", body={"source": {"kind": "url", "url": "https://]x"}, "name": "t"})
    assert code == 400 and _names(err, "source.url.url", "not a valid URL"), (code, err)


# -- bodies: nesting and size --------------------------------------------------------------------
async def test_deeply_nested_json_is_400_on_every_json_endpoint(api):
    _, doc = await api("GET", "openapi.json", expect=200)
    deep = "[" * 100_000 + "]" * 100_000
    just_too_deep = json.dumps({"kind": "file", "url": "https://h/f", "metadata": json.loads("[" * 70 + "]" * 70)})
    checked = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            concrete = path.replace("{", "").replace("}", "")  # {qid} -> qid: a valid id
            for body in (deep, just_too_deep):
                code, err = await api(method.upper(), *concrete.strip("/").split("/"), body=body)
                assert code == 400 and err["reason"] == "too-deep", (method, path, code, err)
            checked += 1
    assert checked >= 6
    # 64 levels are fine (the limit), and brackets inside strings do not count
    ok = {"kind": "file", "url": "https://h/[[[[", "metadata": {"m": json.loads("[" * 62 + "]" * 62)},
          "notes": "[" * 500}
    await api("POST", "basket", "items", body=ok, expect=201)


async def test_a_body_over_the_limit_is_413_before_it_is_parsed(api):
    # 9 MB of JSON (over the default 8 MiB): refused for its size, naming the setting
    body = json.dumps({"kind": "file", "url": "https://h/f", "notes": "x" * (9 * 1024 * 1024)})
    code, err = await api("POST", "basket", "items", body=body)
    assert code == 413 and err["reason"] == "body-too-large" and "max_body_size" in err["message"], (code, err)
    code, err = await api("POST", "jobs", body=body)
    assert code == 413, code


async def test_a_basket_item_over_the_item_limit_is_refused_and_the_basket_stays_fast(api):
    big = {"kind": "file", "url": "https://h/big", "metadata": {"blob": "x" * (3 * 1024 * 1024)}}
    code, err = await api("POST", "basket", "items", body=big)
    assert code == 400 and _names(err, "file", "bytes of JSON"), (code, err)
    code, err = await api("POST", "basket", "items",
                          body={"kind": "record", "archive": "local", "rows": [{"v": "x" * 1000}] * 3000})
    assert code == 400 and _names(err, "record", "bytes of JSON"), (code, err)
    _, item = await api("POST", "basket", "items", body={"kind": "file", "url": "https://h/small"}, expect=201)
    item = item["items"][0]
    code, err = await api("PATCH", "basket", "items", item["id"],
                          body={"version": item["version"], "metadata": {"blob": "x" * (3 * 1024 * 1024)}})
    assert code == 400 and _names(err, "the edit", "bytes of JSON"), (code, err)
    t = time.perf_counter()
    _, summary = await api("GET", "basket", expect=200)
    assert summary["count"] == 1 and time.perf_counter() - t < 1.0


# -- ids outside a route's pattern -----------------------------------------------------------
@pytest.mark.parametrize("method,path", [
    ("GET", "jobs/a%20b"), ("DELETE", "jobs/a%20b"), ("GET", "queries/a%20b/rows"), ("GET", "queries/%2e%2e"),
    ("PATCH", "basket/items/a%2Fb"), ("GET", "staging/a%20b"), ("GET", "no-such-thing"),
    ("POST", "archives/a%20b/queries"),
])
async def test_paths_outside_the_routes_get_a_json_404(jp_fetch, method, path):
    body = b"{}" if method in ("POST", "PATCH") else None
    r = await jp_fetch("esap-lab", "api", *path.split("/"), method=method, body=body, raise_error=False)
    assert r.code == 404, (method, path, r.code)
    assert r.headers["Content-Type"].startswith("application/json")
    err = json.loads(r.body)
    assert err["reason"] == "not-found" and "openapi.json" in err["message"]


async def test_the_json_404_needs_authentication(http_server_client, jp_base_url):
    url = f"{jp_base_url.rstrip('/')}{API_PREFIX}/jobs/a%20b"
    r = await http_server_client.fetch(url, raise_error=False)
    assert r.code == 403


# -- archives that answer something unreadable ------------------------------------------------
async def test_an_error_document_that_is_not_xml_is_a_502_naming_the_archive(api):
    # DaCHS answers the UWS job creation for this ADQL with a document pyvo cannot parse
    code, err = await api("POST", "archives", "local", "queries", params={"wait": "20"},
                          body={"kind": "tap", "query": "\u0002", "async": True})
    assert code == 502 and err["service"] == LOCAL_ARCHIVE["title"], (code, err)
    assert err["reason"] == "remote-unreadable" and "unreadable" in err["message"], err


async def test_a_capabilities_url_that_redirects_elsewhere_is_a_502_naming_the_archive(api, redirecting_archive):
    for run_async in (False, True):
        code, err = await api("POST", "archives", "moved", "queries", params={"wait": "20"},
                              body={"kind": "tap", "query": "SELECT TOP 1 * FROM tap_schema.tables",
                                    "async": run_async})
        assert code == 502 and err["service"] == redirecting_archive["title"], (code, err)


# -- a bad archive entry in the configuration -------------------------------------------------
BAD_ENTRIES = [
    {"id": "files", "title": "Local files", "tap": "file:///etc/passwd"},
    {"title": "No id", "tap": f"{VO_URL}/tap"},
    {"id": "local", "title": "Same id again", "tap": f"{VO_URL}/tap"},
    {"id": "x", "title": "Unknown key", "tapp": f"{VO_URL}/tap"},
]


@pytest.mark.parametrize("esap_archives", [[*BAD_ENTRIES[:2], LOCAL_ARCHIVE, *BAD_ENTRIES[2:]]])
async def test_a_bad_archive_entry_disables_only_that_archive(api, esap_archives, caplog):
    _, data = await api("GET", "archives", params={"check": "false"}, expect=200)
    assert [a["id"] for a in data["archives"]] == ["local"]
    assert next(a for a in data["archives"] if a["id"] == "local")["title"] == LOCAL_ARCHIVE["title"]
    # the rest of the extension works
    await api("GET", "basket", expect=200)
    # (the server read its configuration while the fixtures were set up)
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = "\n".join(r.getMessage() for r in records if r.name == "esap_lab.archives")
    assert "archives[0] ('files') is invalid and left out: tap:" in logged, logged
    assert "archives[1] is invalid and left out: id: Field required" in logged, logged
    assert "archives[3] ('local') is left out: the id 'local' is used" in logged, logged
    assert "archives[4] ('x') is invalid and left out: tapp: Extra inputs" in logged, logged
