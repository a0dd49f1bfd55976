"""Hub-wide deployments: many users' servers share one PostgreSQL database, each in a schema of
its own, so nobody sees another user's basket, queries, transfers or jobs."""

import os

import pytest
from sqlalchemy import text

from conftest import fresh_pg_database
from esap_lab.basket.models import FileFields
from esap_lab.basket.store import BasketStore
from esap_lab.db import Database, user_schema

pytestmark = pytest.mark.skipif(not os.environ.get("ESAP_TEST_PG_URL"),
                                reason="needs the PostgreSQL the test command starts")


def test_user_schema_is_a_safe_identifier():
    assert user_schema("esap_{username}", "alice") == "esap_alice"
    assert user_schema("esap_{username}", "Bob.O'Neil@x") == "esap_bob_o_neil_x"
    assert user_schema("{username}", "1st") == "u_1st"
    with pytest.raises(ValueError):
        Database("postgresql+psycopg://u@h/db", schema='x"; drop table y; --')


def test_two_users_of_one_database_do_not_see_each_other():
    url = fresh_pg_database(os.environ["ESAP_TEST_PG_URL"])
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
