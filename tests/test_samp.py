"""SAMP (issue 12) against a real SAMP hub: astropy's SAMPHubServer with the Web Profile on
127.0.0.1. The browser's part (esap-lab's Web Profile client in src/samp/) is played here by an
XML-RPC client making the same calls; the receiving tool (TOPCAT, Aladin) by astropy's
standard-profile client. The signed table URL is fetched with no token; tampered or expired,
it answers 403. A table sent back lands in my tables and the basket."""

import asyncio
import io
import threading
import time
import urllib.error
import urllib.request
import xmlrpc.client

import pytest
from astropy.samp import SAMPHubServer, SAMPIntegratedClient
from astropy.table import Table


class AcceptAll:
    """Says yes to every Web Profile registration (the hub asks the user otherwise)."""

    def __init__(self):
        self.queue_request = self.queue_result = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        import queue

        while not self._stop.is_set():
            if self.queue_request is None:
                time.sleep(0.05)
                continue
            try:
                self.queue_request.get(timeout=0.1)
            except queue.Empty:
                continue
            self.queue_result.put(True)

    def stop(self):
        self._stop.set()


@pytest.fixture
def esap_config():
    return {"samp_link_ttl": 3.0}


@pytest.fixture
def hub(tmp_path):
    dialog = AcceptAll()
    h = SAMPHubServer(addr="127.0.0.1", lockfile=str(tmp_path / "samp"), web_profile=True, web_port=0,
                      web_profile_dialog=dialog)
    h.start()
    dialog.start()
    yield h
    dialog.stop()
    h.stop()


@pytest.fixture
def tool(hub):
    """A SAMP client standing for TOPCAT: it receives table.load.votable and reads the URL."""
    got = []
    client = SAMPIntegratedClient(name="tool", addr="127.0.0.1")
    client.connect(hub=hub)

    def receive(private_key, sender_id, msg_id, mtype, params, extra):
        got.append(params)

    client.bind_receive_notification("table.load.votable", receive)
    client.bind_receive_call("table.load.votable", lambda *a: (receive(*a), client.reply(
        a[2], {"samp.status": "samp.ok", "samp.result": {}})))
    yield client, got
    client.disconnect()


def web_client(hub):
    """What the browser does (SAMP Web Profile): register over XML-RPC on the hub's web port."""
    proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{hub._web_port}/", allow_none=True)
    reg = proxy.samp.webhub.register({"samp.name": "esap-lab"})
    key = reg["samp.private-key"]
    proxy.samp.webhub.declareMetadata(key, {"samp.name": "esap-lab"})
    return proxy, key, reg


async def cone(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.2}, expect=201)
    assert info["status"] == "completed"
    return info


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:  # no token, no cookie: like TOPCAT
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


async def test_send_a_selection_to_a_samp_tool(api, hub, tool):
    got = tool[1]
    info = await cone(api)
    _, link = await api("POST", "samp", "links", body={"query_id": info["id"], "rows": [0, 2, 4]}, expect=201)
    assert link["mtype"] == "table.load.votable" and "token" not in link["url"]
    proxy, key, _ = await asyncio.to_thread(web_client, hub)
    msg = {"samp.mtype": link["mtype"],
           "samp.params": {"url": link["url"], "table-id": link["table_id"], "name": link["name"]}}
    sent = await asyncio.to_thread(proxy.samp.webhub.notifyAll, key, msg)
    assert sent  # the ids of the clients it went to
    for _ in range(100):
        if got:
            break
        await asyncio.sleep(0.05)
    assert got and got[0]["url"] == link["url"]
    code, body = await asyncio.to_thread(fetch, got[0]["url"])
    assert code == 200
    t = Table.read(io.BytesIO(body), format="votable")
    _, page = await api("GET", "queries", info["id"], "rows", params={"limit": 5}, expect=200)
    assert len(t) == 3 and list(t["source_id"]) == [page["rows"][i]["source_id"] for i in (0, 2, 4)]
    # tampered: another row list under the same signature
    payload, _, mac = link["url"].rsplit("/", 1)[1].partition(".")
    other = link["url"].rsplit("/", 1)[0] + "/" + payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    code, body = await asyncio.to_thread(fetch, other)
    assert code == 403 and b"not valid" in body
    # expired (c.EsapLab.samp_link_ttl = 3 s here)
    await asyncio.sleep(max(0.0, link["expires"] - time.time()) + 0.2)
    code, body = await asyncio.to_thread(fetch, link["url"])
    assert code == 403 and b"expired" in body
    await asyncio.to_thread(proxy.samp.webhub.unregister, key)


async def test_a_table_sent_back_lands_in_the_basket(api, hub, tool, tmp_path):
    client = tool[0]
    proxy, key, reg = await asyncio.to_thread(web_client, hub)
    await asyncio.to_thread(proxy.samp.webhub.allowReverseCallbacks, key, "1")
    await asyncio.to_thread(proxy.samp.webhub.declareSubscriptions, key, {"table.load.votable": {}})
    # the tool sends a table it serves itself (a file URL, as TOPCAT's own server would)
    vot = tmp_path / "matched.vot"
    Table({"name": ["a", "b"], "ra": [155.0, 155.1], "dec": [5.0, 5.1]}).write(vot, format="votable")
    web_id = next(c for c in client.get_registered_clients()
                  if client.get_metadata(c).get("samp.name") == "esap-lab")
    client.notify(web_id, {"samp.mtype": "table.load.votable",
                           "samp.params": {"url": vot.as_uri(), "name": "matched.vot"}})
    calls = []
    for _ in range(100):  # the browser polls the hub the same way
        calls = await asyncio.to_thread(proxy.samp.webhub.pullCallbacks, key, "1")
        if calls:
            break
        await asyncio.sleep(0.05)
    assert calls and calls[0]["samp.methodName"] == "receiveNotification"
    params = calls[0]["samp.params"][-1]["samp.params"]  # [sender, message]
    # the browser reads it through the hub's URL translator (CORS), then posts it to esap-lab
    data = await asyncio.to_thread(lambda: urllib.request.urlopen(reg["samp.url-translator"] + params["url"],
                                                                  timeout=10).read())
    _, got = await api("POST", "samp", "received", body=data, params={"name": params["name"], "sender": "tool"},
                       expect=201)
    assert got["table_name"] == "samp_matched" and got["row_count"] == 2
    _, item = await api("GET", "basket", "items", got["item_id"], expect=200)
    assert item["kind"] == "table" and item["table_id"] == got["table_id"]
    # the same name again: a free name, not an error
    _, again = await api("POST", "samp", "received", body=data, params={"name": "matched.vot"}, expect=201)
    assert again["table_name"] == "samp_matched_2"
    code, err = await api("POST", "samp", "received", body=b"not a table", params={"name": "x"})
    assert code == 400 and "Traceback" not in err["message"]
    await asyncio.to_thread(proxy.samp.webhub.unregister, key)


async def test_links_need_a_completed_query_and_real_rows(api):
    info = await cone(api)
    code, err = await api("POST", "samp", "links", body={"query_id": info["id"], "rows": [10**6]})
    assert code == 400 and "rows" in err["message"]
    code, err = await api("POST", "samp", "links", body={"query_id": "nope"})
    assert code == 404
    code, err = await api("POST", "samp", "links", body={"query_id": info["id"], "format": "csv"})
    assert code == 400 and "format" in err["message"]
