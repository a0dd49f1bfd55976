"""SAMP with the real TOPCAT (Debian package topcat, under Xvfb): TOPCAT runs its own hub, and
loads the VOTable and the FITS selection esap-lab hands it under signed links, fetching them
from the server with no token. Its replies are TOPCAT's own: samp.ok once the table is loaded,
samp.error when the link does not give a table. (The browser's Web Profile side is tested
against astropy's hub in test_samp.py and by Galata.)"""

import asyncio
import logging
import os
import shutil
import subprocess
import time

import pytest
from astropy.samp import SAMPIntegratedClient
from astropy.samp.lockfile_helpers import read_lockfile
from test_samp import cone

pytestmark = pytest.mark.skipif(not (shutil.which("topcat") and shutil.which("Xvfb")),
                                reason="needs TOPCAT and Xvfb (scripts/test.sh installs them)")


@pytest.fixture(scope="module")
def topcat(tmp_path_factory):
    d = tmp_path_factory.mktemp("topcat")
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "1280x1024x24"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    display = xvfb.stdout.readline().strip()  # the free display Xvfb chose
    lock = d / "samp-lock"
    env = {**os.environ, "DISPLAY": f":{display}", "SAMP_HUB": f"std-lockurl:file://{lock}"}
    log = open(d / "topcat.log", "w")  # noqa: SIM115 - open while TOPCAT runs, closed below
    tool = subprocess.Popen(["topcat", "-hub"], env=env, stdout=log, stderr=subprocess.STDOUT)
    client = SAMPIntegratedClient(name="esap-lab test", addr="127.0.0.1")
    try:
        deadline = time.monotonic() + 120  # a cold JVM on a loaded machine
        while not lock.exists() and time.monotonic() < deadline and tool.poll() is None:
            time.sleep(0.2)
        assert lock.exists(), f"TOPCAT's hub did not start: {(d / 'topcat.log').read_text()[-2000:]}"
        time.sleep(0.5)  # the lock file is written before its last line
        client.connect(hub_params=read_lockfile(str(lock)))
        topcat_id = None
        while topcat_id is None and time.monotonic() < deadline:
            names = {cid: client.get_metadata(cid).get("samp.name") for cid in client.get_registered_clients()}
            topcat_id = next((cid for cid, name in names.items() if name == "topcat"), None)
            time.sleep(0.2)
        assert topcat_id, "TOPCAT did not register with its own hub"
        yield client, topcat_id
    finally:
        if client.is_connected:
            client.disconnect()
        for p in (tool, xvfb):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def load(client, topcat_id, link, url=None) -> dict:
    msg = {"samp.mtype": link["mtype"],
           "samp.params": {"url": url or link["url"], "table-id": link["table_id"], "name": link["name"]}}
    return client.call_and_wait(topcat_id, msg, "60")


async def test_topcat_loads_a_result_and_selections_from_signed_links(api, topcat, caplog):
    client, topcat_id = topcat
    caplog.set_level(logging.DEBUG)
    info = await cone(api)

    async def send(body, url=None):
        _, link = await api("POST", "samp", "links", body={"query_id": info["id"], **body}, expect=201)
        # TOPCAT fetches from the server while we wait for its reply: the wait runs off the event loop
        return link, await asyncio.to_thread(load, client, topcat_id, link, url)

    links = []
    # the whole result, the same again ("send again"), and two selections of five rows, one as FITS
    for body in ({}, {}, {"rows": [0, 1, 2, 3, 4]}, {"rows": [5, 6, 7, 8, 9], "format": "fits"}):
        link, reply = await send(body)
        assert reply["samp.status"] == "samp.ok", (body, reply)
        links.append(link)
    assert links[3]["mtype"] == "table.load.fits"
    assert len({link["table_id"] for link in links}) == 4  # TOPCAT refuses a table-id it has loaded
    fetched = [r.getMessage() for r in caplog.records if "/samp/tables/" in r.getMessage()]
    for link in links:  # each one fetched from the server, with no token
        token = link["url"].rsplit("/", 1)[1]
        assert any("200 GET" in m and token[:40] in m for m in fetched), fetched
    # a tampered link: the server answers 403, and TOPCAT says it could not load the table
    payload, _, mac = links[0]["url"].rsplit("/", 1)[1].partition(".")
    bad = links[0]["url"].rsplit("/", 1)[0] + "/" + payload + "." + ("A" * len(mac))
    _, reply = await send({}, url=bad)
    assert reply["samp.status"] == "samp.error", reply
    assert any("403 GET" in r.getMessage() for r in caplog.records if "/samp/tables/" in r.getMessage())
