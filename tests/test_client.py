"""esap_lab.client, the notebook side's door: credentials from the environment (hub first),
JSON errors as ServerError with message/reason/service, and no database anywhere near it."""

import asyncio
import os

import pytest

from esap_lab.client import Client, ConflictError, NotFoundError, ServerError, client, credentials


async def test_client_talks_to_the_server_it_was_started_by(api, jp_serverapp):
    # what the server exports to the kernels it starts
    assert os.environ["ESAP_LAB_SERVER_URL"] == jp_serverapp.connection_url
    assert os.environ["ESAP_LAB_TOKEN"] == jp_serverapp.identity_provider.token
    assert os.environ["ESAP_LAB_ROOT_DIR"] == str(os.path.realpath(jp_serverapp.root_dir))
    c = client()
    summary = await asyncio.to_thread(c.get, "basket")
    assert summary["count"] == 0
    added = await asyncio.to_thread(c.post, "basket/items", json={"kind": "file", "url": "https://example.org/a.fits"})
    iid = added["items"][0]["id"]
    assert c.url("basket", "items", iid) == f"{jp_serverapp.connection_url}esap-lab/api/basket/items/{iid}"
    assert c.url("queries", params={"limit": 5, "x": None, "on": True}).endswith("/queries?limit=5&on=true")

    with pytest.raises(NotFoundError) as e:
        await asyncio.to_thread(c.get, "basket", "items", "bnothere")
    assert e.value.status == 404 and e.value.reason == "unknown-item" and "bnothere" in e.value.message
    with pytest.raises(ConflictError) as e:
        await asyncio.to_thread(c.patch, "basket", "items", iid, json={"version": 7, "title": "x"})
    assert e.value.reason == "stale-version"
    with pytest.raises(ServerError) as e:
        await asyncio.to_thread(c.post, "archives", "dead", "queries", json={"kind": "cone", "ra": 1, "dec": 2,
                                                                             "radius": 0.1})
    assert e.value.status in (502, 504) and e.value.service  # the remote service is named
    assert "Traceback" not in str(e.value)
    await asyncio.to_thread(c.delete, "basket", "items", iid)

    wrong = Client(jp_serverapp.connection_url, "not-the-token")
    with pytest.raises(ServerError) as e:
        await asyncio.to_thread(wrong.get, "basket")
    assert e.value.status == 403 and "credentials" in e.value.message


def test_credentials_prefer_the_hub_and_say_what_is_missing():
    env = {"ESAP_LAB_SERVER_URL": "http://127.0.0.1:1/", "ESAP_LAB_TOKEN": "t1",
           "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:2/user/alice/", "JUPYTERHUB_API_TOKEN": "t2"}
    assert credentials(env) == ("http://127.0.0.1:2/user/alice/", "t2")
    del env["JUPYTERHUB_API_TOKEN"]
    assert credentials(env) == ("http://127.0.0.1:1/", "t1")
    with pytest.raises(ServerError) as e:
        credentials({})
    assert e.value.reason == "no-server" and "ESAP_LAB_SERVER_URL" in e.value.message


def test_an_unreachable_server_is_named():
    with pytest.raises(ServerError) as e:
        Client("http://127.0.0.1:9/", "x", timeout=5).get("basket")
    assert e.value.status == 503 and e.value.reason == "server-unreachable" and "127.0.0.1:9" in e.value.message


async def test_basket_widget_follows_the_basket(api):
    """BasketWidget polls the basket's revision and re-reads the items when it changed."""
    from esap_lab import basket

    w = await asyncio.to_thread(basket.BasketWidget, None, 12, 0.2)
    try:
        assert w.items == []
        _, res = await api("POST", "basket", "items", body={"kind": "file", "url": "https://example.org/w.fits"},
                           expect=201)
        for _ in range(50):
            if w.items:
                break
            await asyncio.sleep(0.1)
        assert [i.id for i in w.items] == [res["items"][0]["id"]] and "1 item" in w._status.value
    finally:
        w.close()
