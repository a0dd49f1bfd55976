"""Hub-wide deployments: many users' servers share one PostgreSQL database, each with a role and a
schema of its own (esap_lab.hub provisions them with admin credentials that stay in the hub), so
nobody reaches another user's basket, queries, transfers or jobs; the embedded SQLite default is
a file only its owner can read."""

import os
import stat
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from conftest import fresh_pg_database
from esap_lab.basket.models import FileFields
from esap_lab.basket.store import BasketStore
from esap_lab.db import Database, default_db_url, user_schema
from esap_lab.hub import database_pre_spawn_hook, provision_user

PG = os.environ.get("ESAP_TEST_PG_URL")
ADMIN = os.environ.get("ESAP_TEST_PG_ADMIN_URL")
needs_pg = pytest.mark.skipif(not PG, reason="needs the PostgreSQL the test command starts")
needs_admin = pytest.mark.skipif(not ADMIN, reason="needs the hub admin role of scripts/services/postgres.sh")


def test_user_schema_is_a_safe_identifier():
    assert user_schema("esap_{username}", "alice") == "esap_alice"
    assert user_schema("esap_{username}", "Bob.O'Neil@x") == "esap_bob_o_neil_x"
    assert user_schema("{username}", "1st") == "u_1st"
    with pytest.raises(ValueError):
        Database("postgresql+psycopg://u@h/db", schema='x"; drop table y; --')


def test_the_sqlite_default_is_readable_by_its_owner_only(tmp_path):
    url = default_db_url(tmp_path)
    db = Database(url)
    db.migrate()
    BasketStore(db).add([FileFields(kind="file", url="http://example.org/a.fits")])
    path = url.removeprefix("sqlite:///")
    files = [p for p in (path, path + "-wal", path + "-shm") if os.path.exists(p)]
    assert path in files and len(files) >= 2
    assert {oct(stat.S_IMODE(os.stat(p).st_mode)) for p in files} == {"0o600"}
    db.close()


@needs_pg
def test_two_users_of_one_database_do_not_see_each_other():
    url = fresh_pg_database(PG)
    alice, bob = Database(url, schema="esap_alice"), Database(url, schema="esap_bob")
    for db in (alice, bob):
        db.migrate()
    BasketStore(alice).add([FileFields(kind="file", url="http://example.org/a.fits", title="alice's")])
    assert [i.title for i in BasketStore(alice).items()] == ["alice's"]
    assert BasketStore(bob).items() == []
    with alice.read() as s:
        tables = set(s.execute(text("select table_name from information_schema.tables "
                                    "where table_schema = 'esap_alice'")).scalars())
    assert {"esap_queries", "esap_lab_alembic_version"} <= tables
    alice.close()
    bob.close()


def _hub_database() -> str:
    return "esap_t_hub_" + uuid.uuid4().hex[:10]


@needs_admin
def test_each_user_role_reaches_its_own_schema_only():
    database = _hub_database()
    alice_url = provision_user(ADMIN, "alice", database=database)
    bob_url = provision_user(ADMIN, "bob", database=database)
    assert "esap_alice:" in alice_url and "esap-admin" not in alice_url and "esap_admin" not in alice_url
    alice, bob = Database(alice_url, schema="esap_alice"), Database(bob_url, schema="esap_bob")
    try:
        for db in (alice, bob):
            db.migrate()
        BasketStore(bob).add([FileFields(kind="file", url="http://example.org/b.fits", title="bob's")])
        assert [i.title for i in BasketStore(bob).items()] == ["bob's"]
        assert BasketStore(alice).items() == []
        # alice's role against bob's schema, whatever she tries: permission denied
        engine = create_engine(alice_url)
        denied = "permission denied"
        for sql, said in (("SELECT * FROM esap_bob.esap_basket_items", denied),
                          ("SET search_path TO esap_bob; SELECT * FROM esap_basket_items", "does not exist"),
                          ("CREATE TABLE esap_bob.x (i int)", denied), ("SET ROLE esap_bob", denied),
                          ("CREATE SCHEMA mine", denied), ("CREATE TABLE public.x (i int)", denied)):
            with engine.connect() as c, pytest.raises(ProgrammingError) as e:
                c.exec_driver_sql(sql)
            assert said in str(e.value), sql
        engine.dispose()
        # alice's server pointed at bob's schema by mistake: a message saying what to fix
        wrong = Database(alice_url, schema="esap_bob")
        with pytest.raises(PermissionError) as e:
            wrong.migrate()
        assert "'esap_alice'" in str(e.value) and "'esap_bob'" in str(e.value) and "schema" in str(e.value)
        wrong.close()
        # provisioning again (a new spawn): a new password; the old one no longer logs in
        again = provision_user(ADMIN, "alice", database=database)
        assert again != alice_url
        with create_engine(again).connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM esap_alice.esap_basket_items").scalar() == 0
    finally:
        alice.close()
        bob.close()


@needs_admin
async def test_the_pre_spawn_hook_hands_the_url_to_that_spawner_only():
    class User:
        name = "carol"

    class Spawner:
        user = User()
        environment = {"KEEP": "1"}

    spawner = Spawner()
    hook = database_pre_spawn_hook(ADMIN, database=_hub_database())
    await hook(spawner)
    url = spawner.environment["ESAP_LAB_DB_URL"]
    assert spawner.environment["KEEP"] == "1" and "esap_carol:" in url and "esap-admin" not in url
    with create_engine(url).connect() as c:
        assert c.exec_driver_sql("SELECT current_user").scalar() == "esap_carol"


@pytest.fixture
def esap_config(request, monkeypatch):
    """``hub-user``: the server of user alice, started as a hub's spawner starts it: her own
    database URL in ESAP_LAB_DB_URL, no database setting."""
    if getattr(request, "param", None) != "hub-user":
        return {}
    url = provision_user(ADMIN, "alice", database=_hub_database())
    monkeypatch.setenv("ESAP_LAB_DB_URL", url)
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    request.node.alice_url = url
    return {"db_url": ""}


@needs_admin
@pytest.mark.parametrize("esap_config", ["hub-user"], indirect=True)
async def test_a_server_works_with_the_users_own_role(api, jp_serverapp, request):
    services = jp_serverapp.web_app.settings["esap_lab"]
    assert services.db.url == request.node.alice_url and services.db.schema == "esap_alice"
    assert "ESAP_LAB_DB_URL" not in os.environ  # read at start-up; kernels inherit nothing of it
    await api("POST", "basket", "items", body={"kind": "file", "url": "http://example.org/c.fits"}, expect=201)
    _, summary = await api("GET", "basket", expect=200)
    assert summary["count"] == 1
    with create_engine(request.node.alice_url).connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM esap_alice.esap_basket_items").scalar() == 1


@needs_pg
@pytest.mark.parametrize("esap_db_url", ["postgresql"], indirect=True)
async def test_server_keeps_its_state_in_the_users_schema(api, jp_serverapp, esap_db_url):
    services = jp_serverapp.web_app.settings["esap_lab"]
    assert services.db.schema == user_schema("esap_{username}")
    assert not any(k.startswith("ESAP_LAB_DB") for k in os.environ)  # nothing for kernels to inherit
    await api("POST", "basket", "items", body={"kind": "file", "url": "http://example.org/b.fits"}, expect=201)
    other = Database(esap_db_url, schema="esap_someone_else")
    other.migrate()
    assert BasketStore(other).items() == []
    other.close()
