"""The scopes of a Rucio instance (the hint a DID search with no result gives), against the real
local Rucio server (scripts/services/rucio.sh)."""

from __future__ import annotations

import os

import pytest

RUCIO = os.environ.get("ESAP_TEST_RUCIO_HOST")
pytestmark = pytest.mark.skipif(not RUCIO, reason="no Rucio server: run scripts/services/rucio.sh start and "
                                                  "eval \"$(scripts/services/rucio.sh env)\"")
ACCOUNT = os.environ.get("ESAP_TEST_RUCIO_ACCOUNT", "alice")


@pytest.fixture
def esap_archives():
    return []


@pytest.fixture
def esap_config():
    return {"rucio_instances": [
        {"name": "lake", "title": "Local data lake", "rucio_host": RUCIO, "account": ACCOUNT,
         "auth_type": "userpass", "username": ACCOUNT, "password_env": "ESAP_TEST_RUCIO_PASSWORD", "timeout": 10},
        {"name": "lake-down", "title": "Down", "rucio_host": "http://127.0.0.1:9", "account": ACCOUNT,
         "auth_type": "userpass", "username": ACCOUNT, "password_env": "ESAP_TEST_RUCIO_PASSWORD", "timeout": 3}]}


async def test_scopes_of_an_instance(api):
    _, body = await api("GET", "rucio", "lake", "scopes", expect=200)
    assert body["instance"] == "lake"
    assert "lake" in body["scopes"] and body["scopes"] == sorted(body["scopes"])
    code, err = await api("GET", "rucio", "nowhere", "scopes")
    assert code == 404 and "nowhere" in err["message"]
    code, err = await api("GET", "rucio", "lake-down", "scopes")
    # the instance is named (by its name or its title), the cause said, no traceback
    assert code in (502, 504) and ("lake-down" in err["message"] or "Down" in err["message"])
    assert "Traceback" not in err["message"]
