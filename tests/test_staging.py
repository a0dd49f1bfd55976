"""Staging against the real local Rucio server (scripts/services/rucio.sh): DID search through the
archive API, dataset listing, downloads with checksums, replica mode driven to OK by Rucio's own
conveyor, restart mid-transfer, cancel, plain URLs, basket items, the kernel API, and every error
(wrong credentials, unknown DID, no replica, Rucio unreachable) without leaking the password."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import db_urls, poll_until

RUCIO = os.environ.get("ESAP_TEST_RUCIO_HOST")
pytestmark = pytest.mark.skipif(not RUCIO, reason="no Rucio server: run scripts/services/rucio.sh start and "
                                                  "eval \"$(scripts/services/rucio.sh env)\"")
PASSWORD = os.environ.get("ESAP_TEST_RUCIO_PASSWORD", "")
ACCOUNT = os.environ.get("ESAP_TEST_RUCIO_ACCOUNT", "alice")
RSE_B = os.environ.get("ESAP_TEST_RUCIO_RSE_B_PATH", "")
BAD_PASSWORD = "not-the-password-4242"


def instance(name="lake", **over):
    cfg = {"name": name, "title": "Local data lake", "rucio_host": RUCIO, "account": ACCOUNT,
           "auth_type": "userpass", "username": ACCOUNT, "password_env": "ESAP_TEST_RUCIO_PASSWORD",
           "destination_rse": "LAKE_B", "rse_mount_path": RSE_B, "poll_interval": 0.3,
           "download_folder": "rucio", "timeout": 10}
    cfg.update(over)
    return cfg


INSTANCES = [instance(), instance("lake-badpw", password_env="ESAP_TEST_RUCIO_BAD_PASSWORD"),
             instance("lake-down", rucio_host="http://127.0.0.1:9")]


@pytest.fixture
def esap_archives():
    return []  # each Rucio instance becomes an archive of its own


@pytest.fixture
def esap_config(monkeypatch):
    monkeypatch.setenv("ESAP_TEST_RUCIO_BAD_PASSWORD", BAD_PASSWORD)
    return {"rucio_instances": INSTANCES}


@pytest.fixture
def seen(api):
    """The api fixture, remembering every response body (to look for leaked secrets)."""
    bodies = []

    async def call(*args, **kwargs):
        code, data = await api(*args, **kwargs)
        bodies.append(json.dumps(data))
        return code, data

    call.bodies = bodies
    return call


async def wait_transfer(api, tid, timeout=60, until=("completed", "error", "cancelled")):
    return await poll_until(api, "staging", tid, until=tuple(until), timeout=timeout, interval=0.2)


def adler32(path) -> str:
    value = 1
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            value = zlib.adler32(chunk, value)
    return f"{value & 0xFFFFFFFF:08x}"


def rucio_client():
    import tempfile

    from esap_lab.staging.config import RucioInstanceConfig
    from esap_lab.staging.sessions import connection_args, make_client

    return make_client(connection_args(RucioInstanceConfig(**instance()), Path(tempfile.mkdtemp())))


UPLOAD = """
import logging, os, sys
from rucio.client.uploadclient import UploadClient
quiet = logging.getLogger("upload")
quiet.setLevel(logging.ERROR)
scope, name, *paths = sys.argv[1:]
UploadClient(logger=quiet).upload([{"path": p, "rse": "LAKE_A", "did_scope": scope, "dataset_scope": scope,
                                    "dataset_name": name} for p in paths])
"""


def fresh_dataset(n=3, size=50_000) -> str:
    """A new dataset user.<account>:<unique> on LAKE_A (rules on it start from nothing), uploaded
    by the admin (users may only upload to scratch disks) in a process of its own."""
    import tempfile

    scope, name = f"user.{ACCOUNT}", "t." + uuid.uuid4().hex[:10]
    folder = Path(tempfile.mkdtemp())
    paths = []
    for i in range(n):
        p = folder / f"{name}.{i}.dat"
        p.write_bytes(os.urandom(size + i))
        paths.append(str(p))
    env = {**os.environ, "RUCIO_CONFIG": os.environ["ESAP_TEST_RUCIO_SERVER_CONFIG"]}
    r = subprocess.run([os.environ["ESAP_TEST_RUCIO_PYTHON"], "-I", "-c", UPLOAD, scope, name, *paths], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return f"{scope}:{name}"


def transfer_once():
    """One pass of Rucio's judge and conveyor daemons (really copies LAKE_A -> LAKE_B)."""
    env = {**os.environ, "RUCIO_CONFIG": os.environ["ESAP_TEST_RUCIO_SERVER_CONFIG"]}
    subprocess.run([os.environ["ESAP_TEST_RUCIO_PYTHON"], "-I", os.environ["ESAP_TEST_RUCIO_TRANSFER_ONCE"]],
                   env=env, check=True, capture_output=True, timeout=120)


# -- discovery ------------------------------------------------------------------------------------
async def test_rucio_instances_appear_as_archives(seen):
    _, data = await seen("GET", "archives", expect=200)
    by_id = {a["id"]: a for a in data["archives"]}
    assert by_id["lake"]["type"] == "rucio" and by_id["lake"]["capabilities"] == ["did"]
    assert by_id["lake"]["reachable"] is True
    assert by_id["lake-down"]["reachable"] is False
    _, inst = await seen("GET", "rucio", expect=200)
    lake = next(i for i in inst["instances"] if i["name"] == "lake")
    assert lake["replica_mode"] is True and lake["account"] == ACCOUNT
    assert "password_env" not in lake and all(PASSWORD not in b for b in seen.bodies)


async def test_did_search_with_wildcards_type_and_metadata(api):
    _, q = await api("POST", "archives", "lake", "queries",
                     body={"kind": "did", "scope": "lake", "name": "demo.*"}, expect=201)
    assert q["status"] == "completed", q
    assert {"did", "scope", "name", "did_type", "bytes", "instance"} <= {c["name"] for c in q["columns"]}
    _, page = await api("GET", "queries", q["id"], "rows", params={"sort": "name"}, expect=200)
    assert [r["did"] for r in page["rows"]] == ["lake:demo.lost", "lake:demo.run7", "lake:demo.run8"]
    assert page["rows"][1]["instance"] == "lake" and page["rows"][1]["did_type"] == "DATASET"
    assert page["rows"][1]["length"] == 5 and page["rows"][1]["bytes"] == sum(20_000 + 1000 * i for i in range(5))
    # metadata filter
    _, q = await api("POST", "archives", "lake", "queries",
                     body={"kind": "did", "scope": "lake", "name": "demo.*", "filters": {"datatype": "CAL"}},
                     expect=201)
    _, page = await api("GET", "queries", q["id"], "rows", expect=200)
    assert [r["did"] for r in page["rows"]] == ["lake:demo.run8"]
    # type and maxrec (overflow)
    _, q = await api("POST", "archives", "lake", "queries",
                     body={"kind": "did", "scope": "lake", "name": "*", "type": "container"}, expect=201)
    _, page = await api("GET", "queries", q["id"], "rows", expect=200)
    assert [r["did"] for r in page["rows"]] == ["lake:demo"]
    _, q = await api("POST", "archives", "lake", "queries",
                     body={"kind": "did", "scope": "lake", "name": "small.*", "type": "file", "maxrec": 50},
                     expect=201)
    assert q["row_count"] == 50 and q["overflow"] is True


async def test_did_search_errors(api):
    code, err = await api("POST", "archives", "lake-badpw", "queries",
                          body={"kind": "did", "scope": "lake", "name": "*"})
    assert code == 401 and "Rucio authentication failed for instance lake-badpw" in err["message"]
    code, err = await api("POST", "archives", "lake-down", "queries",
                          body={"kind": "did", "scope": "lake", "name": "*"})
    assert code == 502 and err["reason"] == "rucio-unreachable"
    code, err = await api("POST", "archives", "lake", "queries", body={"kind": "cone", "ra": 1, "dec": 1,
                                                                       "radius": 0.1})
    assert code == 400
    code, err = await api("POST", "archives", "lake", "queries",
                          body={"kind": "did", "scope": "lake", "name": "*", "filters": {"no_such_key": 1}})
    assert code == 400 and err["reason"] == "bad-did-filter"
    code, err = await api("POST", "archives", "lake", "queries",
                          body={"kind": "did", "scope": "lake", "name": "*", "filters": {"datatype": ["RAW"]}})
    assert code == 400 and err["reason"] == "bad-did-filter"
    _, q = await api("POST", "archives", "lake", "queries",
                     body={"kind": "did", "scope": "lake", "name": "demo.*", "filters": {"run_number.gte": 8}},
                     expect=201)
    _, page = await api("GET", "queries", q["id"], "rows", expect=200)
    assert [r["did"] for r in page["rows"]] == ["lake:demo.run8"]


def test_token_file_authentication(tmp_path):
    """auth_type token_file: a Rucio token obtained elsewhere; a stale one is a clear 401."""
    from esap_lab.errors import AuthenticationFailed
    from esap_lab.staging.config import parse_instances
    from esap_lab.staging.sessions import RucioSessions

    token = rucio_client().auth_token
    (tmp_path / "token").write_text(token)
    (tmp_path / "stale").write_text("not-a-token")
    cfgs = [instance("by-token", auth_type="token_file", token_file=str(tmp_path / "token"), password_env=None),
            instance("stale", auth_type="token_file", token_file=str(tmp_path / "stale"), password_env=None)]
    sessions = RucioSessions(parse_instances(cfgs), tmp_path / "tokens")
    assert sessions.run("by-token", lambda c: c.whoami()["account"]) == ACCOUNT
    with pytest.raises(AuthenticationFailed, match="Rucio authentication failed for instance stale"):
        sessions.run("stale", lambda c: c.whoami())


async def test_dataset_and_container_contents(api):
    _, ds = await api("GET", "rucio", "lake", "dids", "lake", "demo.run7", "files", expect=200)
    assert ds["did_type"] == "DATASET" and ds["total"] == 5
    assert ds["bytes"] == sum(20_000 + 1000 * i for i in range(5))
    f0 = ds["files"][0]
    assert f0["did"] == "lake:run7.000.fits" and f0["bytes"] == 20_000 and len(f0["adler32"]) == 8
    assert f0["replicas"] == {"LAKE_A": "AVAILABLE"} and f0["available"] is True
    _, cont = await api("GET", "rucio", "lake", "dids", "lake", "demo", "files", params={"limit": 3}, expect=200)
    assert cont["did_type"] == "CONTAINER" and cont["total"] == 8 and len(cont["files"]) == 3
    _, lost = await api("GET", "rucio", "lake", "dids", "lake", "demo.lost", "files", expect=200)
    assert lost["files"][0]["available"] is False and lost["files"][0]["replicas"] == {"LAKE_A": "UNAVAILABLE"}
    code, err = await api("GET", "rucio", "lake", "dids", "lake", "no.such.thing", "files")
    assert code == 404 and "lake:no.such.thing" in err["message"]
    code, _ = await api("GET", "rucio", "nowhere", "dids", "lake", "demo", "files")
    assert code == 404


# -- download mode ----------------------------------------------------------------------------------
@pytest.mark.parametrize("esap_db_url", db_urls(), indirect=True)
async def test_download_verifies_checksums_and_is_idempotent(api, jp_root_dir):
    code, t = await api("POST", "staging", body={"dids": ["lake:demo.run7"], "instance": "lake"})
    assert code == 201 and t["mode"] == "download" and t["status"] in ("queued", "running")
    assert t["progress"]["files_total"] == 5 and t["progress"]["bytes_total"] == sum(20_000 + 1000 * i
                                                                                       for i in range(5))
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed", (t["message"], t["files"][:2])
    assert t["progress"]["fraction"] == 1 and t["progress"]["bytes_done"] == t["progress"]["bytes_total"]
    assert t["destination"] == "rucio"
    _, listing = await api("GET", "rucio", "lake", "dids", "lake", "demo.run7", "files", expect=200)
    rucio_sums = {f["name"]: f["adler32"] for f in listing["files"]}
    for f in t["files"]:
        assert f["state"] == "done" and f["path"] == f"rucio/lake/demo.run7/{f['name']}"
        assert adler32(Path(jp_root_dir) / f["path"]) == rucio_sums[f["name"]] == f["checksum"].split(":")[1]
    assert not list(Path(jp_root_dir).rglob("*.part"))
    # the same request again: the same transfer
    code, again = await api("POST", "staging", body={"dids": ["lake:demo.run7"], "instance": "lake"})
    assert code == 200 and again["id"] == t["id"]
    # two identical new requests at once: one transfer
    body = {"dids": ["lake:demo.run8"], "instance": "lake", "destination": "twice"}
    (c1, a), (c2, b) = await asyncio.gather(api("POST", "staging", body=body), api("POST", "staging", body=body))
    assert sorted([c1, c2]) == [200, 201] and a["id"] == b["id"]
    await wait_transfer(api, a["id"])
    _, listed = await api("GET", "staging", expect=200)
    assert [x["id"] for x in listed["transfers"]] == [a["id"], t["id"]] and listed["transfers"][0]["files"] == []
    # a finished transfer is removed from the list on DELETE; its files stay
    await api("DELETE", "staging", t["id"], expect=204)
    await api("GET", "staging", t["id"], expect=404)
    assert (Path(jp_root_dir) / t["files"][0]["path"]).is_file()


async def test_download_destination_must_be_under_the_root(api, tmp_path, jp_root_dir):
    for dest in ("../elsewhere", str(tmp_path / "outside"), "/etc"):
        code, err = await api("POST", "staging", body={"dids": ["lake:demo.run8"], "instance": "lake",
                                                       "destination": dest})
        assert code == 400 and err["reason"] == "destination-outside-root", (dest, err)
    code, t = await api("POST", "staging", body={"dids": ["lake:demo.run8"], "instance": "lake",
                                                 "destination": "data/run8"})
    assert code == 201 and t["destination"] == "data/run8"
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed" and (Path(jp_root_dir) / "data/run8/lake/demo.run8/run8.002.fits").is_file()


async def test_staging_errors_without_leaking_the_password(seen, caplog):
    code, err = await seen("POST", "staging", body={"dids": ["lake:demo.run7"], "instance": "lake-badpw"})
    assert code == 401 and err["message"].startswith("Rucio authentication failed for instance lake-badpw")
    code, err = await seen("POST", "staging", body={"dids": ["lake:no.such.dataset"], "instance": "lake"})
    assert code == 404 and "no.such.dataset" in err["message"]
    code, err = await seen("POST", "staging", body={"dids": ["lake:demo.lost"], "instance": "lake"})
    assert code == 409 and err["reason"] == "no-replica" and "lake:lost.000.fits" in err["message"]
    code, err = await seen("POST", "staging", body={"dids": ["lake:demo.run7"], "instance": "lake-down"})
    assert code == 502 and err["service"].startswith("Rucio")
    code, err = await seen("POST", "staging", body={"dids": ["lake:demo.*"], "instance": "lake"})
    assert code == 400
    code, err = await seen("POST", "staging", body={"dids": ["lake:demo.run7"], "instance": "nowhere"})
    assert code == 404
    code, err = await seen("POST", "staging", body={"dids": ["lake:demo.run7"]})
    assert code == 400 and err["reason"] == "rucio-instance-needed"  # three instances configured
    await seen("GET", "rucio", expect=200)
    await seen("GET", "staging", params={"files": "true"}, expect=200)
    await seen("GET", "openapi.json", expect=200)
    for body in seen.bodies:
        assert PASSWORD not in body and BAD_PASSWORD not in body
    assert PASSWORD not in caplog.text and BAD_PASSWORD not in caplog.text


async def test_cancel_stops_the_download_and_removes_partial_files(api, jp_root_dir):
    code, t = await api("POST", "staging", body={"dids": ["lake:bench.large", "lake:bench.small"],
                                                 "instance": "lake", "destination": "big"})
    assert code == 201
    big = Path(jp_root_dir) / "big"
    for _ in range(1000):  # until the worker is copying
        if list(big.rglob("*.part")):
            break
        await asyncio.sleep(0.005)
    code, c = await api("DELETE", "staging", t["id"], expect=200)
    assert c["status"] == "cancelled"
    assert all(f["state"] in ("done", "cancelled") for f in c["files"])
    assert not list(big.rglob("*.part"))
    done = sorted(p.name for p in big.rglob("*.dat"))
    assert len(done) < 220
    await asyncio.sleep(1)  # nothing keeps writing after the cancel
    assert not list(big.rglob("*.part")) and sorted(p.name for p in big.rglob("*.dat")) == done
    _, after = await api("GET", "staging", t["id"], expect=200)
    assert after["status"] == "cancelled"
    # asking again starts a new transfer (a cancelled one is not reused), and it completes
    code, t2 = await api("POST", "staging", body={"dids": ["lake:bench.large", "lake:bench.small"],
                                                  "instance": "lake", "destination": "big"})
    assert code == 201 and t2["id"] != t["id"]
    t2 = await wait_transfer(api, t2["id"], timeout=120)
    assert t2["status"] == "completed"
    assert t2["progress"]["bytes_done"] == 20 * 10 * 1024 * 1024 + 200 * 100 * 1024


async def test_cancel_right_after_the_request(api, jp_root_dir):
    _, t = await api("POST", "staging", body={"dids": ["lake:bench.small"], "instance": "lake",
                                              "destination": "quick"}, expect=201)
    _, c = await api("DELETE", "staging", t["id"], expect=200)
    assert c["status"] == "cancelled"
    quick = Path(jp_root_dir) / "quick"
    there = sorted(quick.rglob("*"))
    await asyncio.sleep(1.5)  # nothing is written after the cancel
    _, after = await api("GET", "staging", t["id"], expect=200)
    assert after["status"] == "cancelled"
    assert sorted(quick.rglob("*")) == there and not list(quick.rglob("*.part"))


# -- replica mode -----------------------------------------------------------------------------------
async def test_replica_mode_reaches_ok_and_maps_local_paths(api):
    did = await asyncio.to_thread(fresh_dataset)
    code, t = await api("POST", "staging", body={"dids": [did], "instance": "lake", "mode": "replica",
                                                 "lifetime": 3600})
    assert code == 201 and t["mode"] == "replica" and t["rule"]["rse"] == "LAKE_B"
    await asyncio.sleep(1)
    _, t = await api("GET", "staging", t["id"], expect=200)
    assert t["status"] == "running" and t["rule"]["state"] == "REPLICATING"
    assert t["rule"]["locks_replicating"] == 3 and t["rule"]["locks_ok"] == 0
    await asyncio.to_thread(transfer_once)
    t = await wait_transfer(api, t["id"], timeout=30)
    assert t["status"] == "completed", (t["message"], t["files"][:2])
    assert t["rule"]["state"] == "OK" and t["rule"]["locks_ok"] == 3 and t["rule"]["expires_at"]
    for f in t["files"]:
        assert f["replica_state"] == "AVAILABLE" and f["path"].startswith(RSE_B)
        assert Path(f["path"]).is_file() and adler32(f["path"]) == f["checksum"].split(":")[1]
    code, again = await api("POST", "staging", body={"dids": [did], "instance": "lake", "mode": "replica"})
    assert code == 200 and again["id"] == t["id"]


async def test_a_stuck_rule_is_reported(api):
    """The source file is lost on its storage: the conveyor fails, retries, and the lock becomes
    STUCK; the transfer says so and keeps running (Rucio may still repair it)."""
    did = await asyncio.to_thread(fresh_dataset, 1)
    scope, name = did.split(":")
    c = rucio_client()
    f = list(c.list_files(scope, name))[0]
    rep = list(c.list_replicas([{"scope": scope, "name": f["name"]}]))[0]
    os.remove(urlparse(next(iter(rep["pfns"]))).path)  # the only replica's file is gone
    _, t = await api("POST", "staging", body={"dids": [did], "instance": "lake", "mode": "replica"}, expect=201)
    for _ in range(6):
        await asyncio.to_thread(transfer_once)
        await asyncio.sleep(0.5)
        _, t = await api("GET", "staging", t["id"], expect=200)
        if t["rule"]["state"] == "STUCK":
            break
    assert t["status"] == "running" and t["rule"]["state"] == "STUCK" and t["rule"]["locks_stuck"] == 1
    assert "stuck on LAKE_B" in t["message"]


async def test_cancel_in_replica_mode_deletes_the_rule_when_rucio_lets_it(api):
    """Rucio's generic policy lets only admins delete rules: the transfer is cancelled and says
    the rule stays until it expires; with a policy that allows it, the rule is gone."""
    from rucio.common.exception import RuleNotFound

    did = await asyncio.to_thread(fresh_dataset, 1)
    _, t = await api("POST", "staging", body={"dids": [did], "instance": "lake", "mode": "replica",
                                              "lifetime": 600}, expect=201)
    rule_id = t["rule"]["ids"][0]
    _, c = await api("DELETE", "staging", t["id"], expect=200)
    assert c["status"] == "cancelled" and all(f["state"] == "cancelled" for f in c["files"])
    try:
        rule = await asyncio.to_thread(rucio_client().get_replication_rule, rule_id)
    except RuleNotFound:
        return
    assert "did not delete the replication rule" in c["message"] and "can not remove" in c["message"]
    assert rule["expires_at"] <= datetime.datetime.utcnow() + datetime.timedelta(seconds=600)
    # the poller stopped: the transfer stays cancelled
    await asyncio.sleep(1)
    _, after = await api("GET", "staging", t["id"], expect=200)
    assert after["status"] == "cancelled"


async def test_replica_mode_needs_a_configured_mount(api, jp_serverapp):
    cfg = jp_serverapp.web_app.settings["esap_lab"].staging.sessions.instances["lake"]
    old = cfg.rse_mount_path
    cfg.rse_mount_path = None
    try:
        code, err = await api("POST", "staging", body={"dids": ["lake:demo.run7"], "instance": "lake",
                                                       "mode": "replica"})
        assert code == 400 and err["reason"] == "no-replica-mode"
    finally:
        cfg.rse_mount_path = old


# -- restart ---------------------------------------------------------------------------------------
def manager(db_url, root, data_dir):
    from esap_lab.db import Database
    from esap_lab.staging.service import build_staging

    db = Database(db_url)
    db.migrate()
    return build_staging(db, data_dir, root, INSTANCES[:1])


async def test_transfers_resume_after_a_restart(tmp_path, monkeypatch):
    """A replica transfer and a download, both interrupted by a server stop, finish after a start."""
    from esap_lab.staging.models import StageBody

    url, root, data = f"sqlite:///{tmp_path / 'state.sqlite'}", tmp_path / "root", tmp_path / "data"
    root.mkdir()
    did = await asyncio.to_thread(fresh_dataset, 2)
    first = manager(url, root, data)
    rep, _ = await first.submit(StageBody(dids=[did], mode="replica"))
    dl, _ = await first.submit(StageBody(dids=["lake:bench.large"], destination="big"))
    await asyncio.sleep(0.5)
    await first.stop()  # the server goes away mid-transfer
    assert (await first.get(dl.id)).status == "running"
    assert (await first.get(rep.id)).status == "running"
    first.db.close()

    second = manager(url, root, data)
    await second.resume()
    await asyncio.to_thread(transfer_once)
    done_rep = await second.wait(rep.id, 30)
    done_dl = await second.wait(dl.id, 120)
    assert done_rep.status == "completed" and all(Path(f.path).is_file() for f in done_rep.files)
    assert done_dl.status == "completed", done_dl.message
    c = rucio_client()
    sums = {f["name"]: f["adler32"] for f in c.list_files("lake", "bench.large")}
    for f in done_dl.files:
        assert adler32(root / f.path) == sums[f.name]
    assert not list(root.rglob("*.part"))
    await second.stop()
    second.db.close()


# -- plain URLs, basket items, the kernel API ------------------------------------------------------
@pytest.fixture
def web_files(tmp_path):
    """A plain HTTP server on 127.0.0.1 serving a folder."""
    folder = tmp_path / "www"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(folder), **k)

        def do_GET(self):
            if self.path != "/slow.fits":
                return super().do_GET()
            # 4 MB at about 1 MB/s: a download that is surely still running when cancelled
            self.send_response(200)
            self.send_header("Content-Length", str(4 << 20))
            self.end_headers()
            try:
                for _ in range(128):
                    self.wfile.write(b"z" * (32 << 10))
                    time.sleep(0.03)
            except OSError:
                pass

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_plain_urls_with_size_and_checksum(api, web_files, jp_root_dir):
    folder, base = web_files
    data = os.urandom(3_000_000)
    (folder / "image.fits").write_bytes(data)
    (folder / "other.fits").write_bytes(b"x" * 100)
    good = {"url": f"{base}/image.fits", "bytes": len(data), "checksum": "md5:" + hashlib.md5(data).hexdigest()}
    code, t = await api("POST", "staging", body={"urls": [good, f"{base}/other.fits"]})
    assert code == 201 and t["mode"] == "url" and t["instance"] is None
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed", (t["message"], t["files"][:2])
    assert (Path(jp_root_dir) / "downloads" / "image.fits").read_bytes() == data
    assert t["progress"]["bytes_done"] == len(data) + 100
    code, err = await api("POST", "staging", body={"urls": ["ftp://example.org/x.fits"]})
    assert code == 400 and "urls.0.url" in err["message"]
    bad = {"url": f"{base}/other.fits", "name": "bad.fits", "checksum": "md5:" + "0" * 32}
    _, t = await api("POST", "staging", body={"urls": [bad, f"{base}/missing.fits"]}, expect=201)
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "error" and "checksum mismatch" in t["message"]
    states = {f["name"]: (f["state"], f["message"]) for f in t["files"]}
    assert states["bad.fits"][0] == "error" and "404" in states["missing.fits"][1]
    assert not (Path(jp_root_dir) / "downloads" / "bad.fits").exists()
    assert not list(Path(jp_root_dir).rglob("*.part"))


async def test_urls_the_outbound_policy_refuses_are_a_400_at_submit(api, web_files, jp_root_dir):
    """Unspecified, link-local, private and loopback addresses the admin did not allow (the tests
    allow 127.0.0.1 only) are refused when the transfer is asked for, naming the field; no
    connection is made: a server on 127.0.0.2 (refused) counts them."""
    _, base = web_files
    hits = []

    class Count(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_error(404)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    other = f"http://127.0.0.2:{server.server_address[1]}/x.fits"
    try:
        for i, (url, words) in enumerate([("http://0/x.fits", "(0.0.0.0) is an unspecified address"),
                                          ("http://169.254.169.254/latest", "169.254.169.254 is a link-local"),
                                          ("http://10.1.2.3/x.fits", "10.1.2.3 is a private address"),
                                          (other, "127.0.0.2 is a loopback address")]):
            t0 = time.monotonic()
            code, err = await api("POST", "staging", body={"urls": [f"{base}/ok.fits"] * i + [url],
                                                           "destination": "refused"})
            assert code == 400 and err["reason"] == "outbound-refused", err
            assert err["message"].startswith(f"urls.{i}.url: ") and words in err["message"], err
            assert "outbound_allow_private" in err["message"] and time.monotonic() - t0 < 2
        _, listed = await api("GET", "staging", expect=200)
        assert not any(t["destination"].endswith("refused") for t in listed["transfers"]), listed
        assert hits == [] and not (Path(jp_root_dir) / "refused").exists()
    finally:
        server.shutdown()
        server.server_close()


async def test_a_slow_host_slows_only_its_own_files(api, web_files):
    """Each host (and port) has its own few threads: ten files trickling from one server do not
    hold up a file from another one in the same transfer."""
    folder, base = web_files
    (folder / "quick.fits").write_bytes(b"q" * 1000)

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 20))
            self.end_headers()
            try:
                for _ in range(256):  # 1 MB in about 8 s
                    self.wfile.write(b"t" * 4096)
                    time.sleep(0.03)
            except OSError:
                pass

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slow = [f"http://127.0.0.1:{server.server_address[1]}/slow-{i}.fits" for i in range(10)]
    try:
        t0 = time.monotonic()
        _, t = await api("POST", "staging", body={"urls": slow + [f"{base}/quick.fits"], "destination": "hosts"},
                         expect=201)
        while True:
            _, t = await api("GET", "staging", t["id"], expect=200)
            states = {f["name"]: f["state"] for f in t["files"]}
            if states["quick.fits"] in ("done", "error") or time.monotonic() - t0 > 6:
                break
            await asyncio.sleep(0.05)
        assert states["quick.fits"] == "done" and time.monotonic() - t0 < 3, (states, t["message"])
        assert t["status"] == "running" and not any(states[f"slow-{i}.fits"] == "done" for i in range(10))
        _, c = await api("DELETE", "staging", t["id"], expect=200)
        assert c["status"] == "cancelled"
    finally:
        server.shutdown()
        server.server_close()


async def test_cancel_removes_the_partial_file_of_a_url_download(api, web_files, jp_root_dir):
    _, base = web_files
    _, t = await api("POST", "staging", body={"urls": [f"{base}/slow.fits"], "destination": "slow"}, expect=201)
    part = Path(jp_root_dir) / "slow" / "slow.fits.part"
    for _ in range(500):
        if part.exists() and part.stat().st_size > 0:
            break
        await asyncio.sleep(0.01)
    _, running = await api("GET", "staging", t["id"], expect=200)
    assert running["status"] == "running"
    _, c = await api("DELETE", "staging", t["id"], expect=200)
    assert c["status"] == "cancelled" and c["files"][0]["state"] == "cancelled"
    assert not part.exists() and not (Path(jp_root_dir) / "slow" / "slow.fits").exists()


async def test_basket_items_are_staged_and_reachable_from_the_kernel(api, web_files, jp_root_dir):
    folder, base = web_files
    (folder / "spectrum.fits").write_bytes(b"s" * 5000)
    _, added = await api("POST", "basket", "items", body=[
        {"kind": "did", "scope": "lake", "name": "demo.run8", "did_type": "dataset", "instance": "lake"},
        {"kind": "file", "url": f"{base}/spectrum.fits", "size": 5000},
    ], expect=201)
    ids = [i["id"] for i in added["items"]]
    code, t = await api("POST", "staging", body={"items": ids}, expect=201)
    assert sorted(t["items"]) == sorted(ids) and t["progress"]["files_total"] == 4
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed", (t["message"], t["files"][:2])

    from esap_lab import staging  # what a notebook of this session does

    info = await asyncio.to_thread(staging.wait, ids[0], 10)
    assert info.id == t["id"]
    assert len(await asyncio.to_thread(staging.paths, t["id"])) == 4  # the whole transfer
    paths = await asyncio.to_thread(staging.paths, "lake:demo.run8")  # only that dataset's files
    assert len(paths) == 3 and all(p.is_absolute() and p.is_file() for p in paths)
    assert Path(jp_root_dir).resolve() / "rucio" / "lake" / "demo.run8" / "run8.000.fits" in paths
    assert [x.id for x in await asyncio.to_thread(staging.transfers)][:1] == [t["id"]]

    from esap_lab import basket  # the same through the basket items themselves

    did_item, file_item = [await asyncio.to_thread(basket.get, i) for i in ids]
    assert (await asyncio.to_thread(did_item.wait, 10)).id == t["id"]
    assert sorted(await asyncio.to_thread(did_item.paths)) == sorted(paths)
    assert [p.name for p in await asyncio.to_thread(file_item.paths)] == ["spectrum.fits"]


async def test_basket_items_with_nothing_to_download_are_named_by_title(api):
    _, added = await api("POST", "basket", "items", body=[
        {"kind": "file", "url": "https://example.org/a.fits"},
        {"kind": "record", "archive": "local", "title": "HD 1234", "row": {"ra": 1.0, "dec": 2.0}},
        {"kind": "query", "archive": "local", "title": "cone 155, 5",
         "request": {"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.1}},
    ], expect=201)
    file_id, record_id, query_id = [i["id"] for i in added["items"]]
    for iid, title, what in ((record_id, "HD 1234", "no access URL"), (query_id, "cone 155, 5", "is a query")):
        code, err = await api("POST", "staging", body={"items": [file_id, iid]})
        assert code == 400 and err["reason"] == "nothing-to-stage", err
        assert err["message"].startswith(f"items.1: \u201c{title}\u201d") and what in err["message"], err
        assert iid not in err["message"]  # the user knows the title, not the id


# -- where files go, progress, the deadline --------------------------------------------------------
SAME_NAME = """
import logging, sys
from rucio.client import Client
from rucio.client.uploadclient import UploadClient
quiet = logging.getLogger("upload")
quiet.setLevel(logging.ERROR)
dataset, first, second = sys.argv[1:]
ds_scope, ds_name = dataset.split(":")
UploadClient(logger=quiet).upload([{"path": first, "rse": "LAKE_A", "did_scope": "lake"},
                                   {"path": second, "rse": "LAKE_A", "did_scope": ds_scope}])
c = Client()
c.add_dataset(ds_scope, ds_name)
name = first.rsplit("/", 1)[-1]
c.attach_dids(ds_scope, ds_name, [{"scope": "lake", "name": name}, {"scope": ds_scope, "name": name}])
"""


def dataset_with_two_files_of_one_name() -> tuple[str, str]:
    """A new dataset holding lake:<f> and user.<account>:<f> (same file name, two scopes)."""
    import tempfile

    uid = uuid.uuid4().hex[:10]
    name = f"same.{uid}.dat"
    paths = []
    for i in range(2):
        folder = Path(tempfile.mkdtemp())
        (folder / name).write_bytes(os.urandom(10_000 + i))
        paths.append(str(folder / name))
    dataset = f"user.{ACCOUNT}:twins.{uid}"
    env = {**os.environ, "RUCIO_CONFIG": os.environ["ESAP_TEST_RUCIO_SERVER_CONFIG"]}
    r = subprocess.run([os.environ["ESAP_TEST_RUCIO_PYTHON"], "-I", "-c", SAME_NAME, dataset, *paths], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return dataset, name


async def test_files_go_to_a_folder_per_dataset_and_never_overwrite(api, web_files, jp_root_dir):
    root = Path(jp_root_dir)
    # two datasets and a file by itself, into the instance's download_folder ("rucio")
    _, t = await api("POST", "staging", body={"dids": ["lake:demo.run7", "lake:demo.run8", "lake:run7.000.fits"],
                                              "instance": "lake", "destination": None}, expect=201)
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed", t["message"]
    assert t["destination"] == "rucio"
    paths = {f["did"]: f["path"] for f in t["files"]}
    assert paths["lake:run8.001.fits"] == "rucio/lake/demo.run8/run8.001.fits"
    # a file of a dataset asked for goes with its dataset, once
    assert paths["lake:run7.000.fits"] == "rucio/lake/demo.run7/run7.000.fits" and len(paths) == 8
    _, alone = await api("POST", "staging", body={"dids": ["lake:run8.000.fits"], "instance": "lake"}, expect=201)
    alone = await wait_transfer(api, alone["id"])
    assert [f["path"] for f in alone["files"]] == ["rucio/lake/run8.000.fits"]
    assert all((root / p).is_file() for p in [*paths.values(), alone["files"][0]["path"]])

    # one dataset with two files of the same name (two scopes): both are kept
    dataset, _ = await asyncio.to_thread(dataset_with_two_files_of_one_name)
    scope, ds = dataset.split(":")
    _, t = await api("POST", "staging", body={"dids": [dataset], "instance": "lake"}, expect=201)
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed", t["message"]
    got = sorted(f["path"] for f in t["files"])
    assert len(set(got)) == 2 and all(p.startswith(f"rucio/{scope}/{ds}/") for p in got)
    sums = {f["path"]: f["checksum"].split(":")[1] for f in t["files"]}
    assert all(adler32(root / p) == s for p, s in sums.items())

    # plain URLs of one name, and a file already on disk: suffixes, nothing overwritten
    folder, base = web_files
    for sub in ("a", "b"):
        (folder / sub).mkdir()
        (folder / sub / "x.fits").write_bytes(sub.encode() * 100)
    (root / "urls").mkdir()
    (root / "urls" / "x.fits").write_bytes(b"mine")
    _, t = await api("POST", "staging", body={"urls": [f"{base}/a/x.fits", f"{base}/b/x.fits"],
                                              "destination": "urls"}, expect=201)
    t = await wait_transfer(api, t["id"])
    assert t["status"] == "completed", t["message"]
    assert [f["path"] for f in t["files"]] == ["urls/x-2.fits", "urls/x-3.fits"]
    assert (root / "urls" / "x.fits").read_bytes() == b"mine"
    assert (root / "urls" / "x-2.fits").read_bytes() == b"a" * 100


async def test_progress_while_downloading_and_the_total_deadline(tmp_path, monkeypatch):
    from esap_lab.staging import downloads
    from esap_lab.staging.models import StageBody

    # 200 MB from the local RSE can take well under a second: progress written often enough to see
    monkeypatch.setattr(downloads, "PROGRESS_EVERY", 0.02)

    root = tmp_path / "root"
    root.mkdir()
    m = manager(f"sqlite:///{tmp_path / 'state.sqlite'}", root, tmp_path / "data")
    try:
        t, _ = await m.submit(StageBody(dids=["lake:bench.large"], destination="big"))
        seen = []
        while (info := await m.get(t.id)).status in ("queued", "running"):
            seen.append((info.progress.fraction, info.progress.files_done))
            await asyncio.sleep(0.01)
        assert info.status == "completed", info.message
        # progress while the files come, not 0 then 100 % (here 200 MB take about a second)
        assert [s for s in seen if 0 < s[0] < 1], seen
        assert info.started is not None and info.created <= info.started <= info.finished

        # an admin's total deadline, passed long before 200 MB are copied (a quiet machine copies
        # them from the local RSE in well under a second)
        m.runner.deadline = 0.05
        t, _ = await m.submit(StageBody(dids=["lake:bench.large"], destination="late"))
        info = await m.wait(t.id, 30)
        assert (info.status, info.reason) == ("error", "deadline") and "0.05 s" in info.message
        assert (info.finished - info.created).total_seconds() < 10
        assert all(f.state in ("done", "cancelled") for f in info.files)
        await asyncio.sleep(1)  # the worker is gone: nothing is written any more
        assert not list((root / "late").rglob("*.part"))
        err = (await m.db.run(m.store.load, t.id)).error()  # the stored error, as a notebook gets it
        assert err.status == 504 and err.reason == "deadline"
    finally:
        await m.stop()
        m.db.close()
