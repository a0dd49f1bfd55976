"""Fixtures: a Jupyter server with esap-lab (pytest-jupyter) configured to the real local DaCHS.

The services are started by scripts/test.sh (scripts/services/*.sh); the URLs come from the
environment so a developer can point the tests elsewhere.
"""

from __future__ import annotations

import json
import os

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

VO_URL = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")

LOCAL_ARCHIVE = {
    "id": "local",
    "title": "Local demo archive",
    "description": "DaCHS with the synthetic esap-lab demo data",
    "tap": f"{VO_URL}/tap",
    "scs": f"{VO_URL}/esapdemo/q/cone/scs.xml",
    "sia2": f"{VO_URL}/__system__/siap2/sitewide/siap2.xml",
    "sia": f"{VO_URL}/esapdemo/q/siap/siap.xml",
}
SIA1_ONLY = {"id": "local-sia1", "title": "Local SIA v1", "sia": f"{VO_URL}/esapdemo/q/siap/siap.xml"}
# A port nothing listens on: "unreachable" without leaving the machine.
DEAD_ARCHIVE = {"id": "dead", "title": "Dead archive", "tap": "http://127.0.0.1:9/tap",
                "scs": "http://127.0.0.1:9/scs"}


def db_urls() -> list[str]:
    """The database flavours the tests run against: SQLite always, PostgreSQL when started."""
    urls = ["sqlite"]
    if os.environ.get("ESAP_TEST_PG_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture
def esap_db_url(tmp_path, request) -> str:
    flavour = getattr(request, "param", "sqlite")
    if flavour == "postgresql":
        return fresh_pg_database(os.environ["ESAP_TEST_PG_URL"])
    return f"sqlite:///{tmp_path / 'esap.sqlite'}"


def fresh_pg_database(url: str) -> str:
    """A new, empty PostgreSQL database for one test (dropped at exit by the test script)."""
    import uuid

    from sqlalchemy import create_engine, text

    name = "esap_t_" + uuid.uuid4().hex[:12]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def esap_archives() -> list[dict]:
    return [LOCAL_ARCHIVE, SIA1_ONLY, DEAD_ARCHIVE]


@pytest.fixture
def esap_config() -> dict:
    """Extra c.EsapLab settings a test module may override."""
    return {}


@pytest.fixture
def jp_server_config(esap_db_url, esap_archives, esap_config, tmp_path):
    return {
        "ServerApp": {"jpserver_extensions": {"esap_lab": True}},
        "EsapLab": {
            "archives": esap_archives,
            "db_url": esap_db_url,
            "data_dir": str(tmp_path / "esap-data"),
            "query_timeout": 20.0,
            "outbound_allow_private": ["127.0.0.1"],  # the local services (DaCHS, Rucio, test servers)
            **esap_config,
        },
    }


@pytest.fixture
def api(jp_fetch):
    """Call the esap-lab API: ``await api("GET", "queries", qid)`` -> (status, json)."""
    from tornado.httpclient import HTTPClientError

    async def call(method: str, *parts: str, body=None, params=None, expect=None):
        kwargs = {"method": method, "raise_error": False}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["body"] = body if isinstance(body, str | bytes) else json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = b"{}"
        try:
            r = await jp_fetch("esap-lab", "api", *parts, **kwargs)
        except HTTPClientError as e:  # pragma: no cover - raise_error=False normally avoids this
            r = e.response
        data = json.loads(r.body) if r.body else None
        if expect is not None:
            assert r.code == expect, (r.code, data)
        return r.code, data

    return call


async def poll_until(api, *path: str, until: tuple[str, ...], timeout: float, interval: float) -> dict:
    """GET the resource at ``path`` until its "status" is one of ``until``; fail after ``timeout`` s."""
    import asyncio

    data = None
    for _ in range(int(timeout / interval)):
        _, data = await api("GET", *path, expect=200)
        if data["status"] in until:
            return data
        await asyncio.sleep(interval)
    raise AssertionError(f"{'/'.join(path)} never reached {until}: {data}")


def pytest_sessionfinish(session, exitstatus):
    """scripts/test.sh starts every service: there a skipped test means one is missing, which
    must fail the run rather than pass quietly (ESAP_NO_SKIPS=1)."""
    if os.environ.get("ESAP_NO_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"ESAP_NO_SKIPS: {len(skipped)} test(s) skipped; every service should be up", red=True)
        session.exitstatus = 1
