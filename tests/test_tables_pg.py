"""My tables on PostgreSQL (c.EsapLab.tables_engine = "postgresql"), as on a hub: alice's server
runs with her own role and schema (esap_lab.hub.provision_user, against the real PostgreSQL of
scripts/services/postgres.sh), bob has his. SQL over alice's tables runs on PostgreSQL; reading
files, bob's tables, COPY ... TO, extensions and writes are each a clear 400."""

import os
import uuid

import pytest
from sqlalchemy import create_engine

from esap_lab.hub import provision_user

ADMIN = os.environ.get("ESAP_TEST_PG_ADMIN_URL")
pytestmark = pytest.mark.skipif(not ADMIN, reason="needs the hub admin role of scripts/services/postgres.sh")

CSV = "name,ra,dec,flux\nX1,155.0,5.0,1.5\nX2,155.1,5.05,0.7\nX3,154.9,4.95,2.1\nX4,155.2,4.9,\n"


@pytest.fixture(scope="module")
def users():
    """alice and bob of one hub database, provisioned once for the module (roles are the
    cluster's: names of their own, so another test provisioning "alice" cannot change her password)."""
    tag = uuid.uuid4().hex[:8]
    database = "esap_t_hub_" + uuid.uuid4().hex[:10]
    alice = provision_user(ADMIN, f"alice{tag}", database=database)
    bob = provision_user(ADMIN, f"bob{tag}", database=database)
    with create_engine(bob).begin() as c:
        c.exec_driver_sql(f"CREATE TABLE esap_bob{tag}.secret (x text)")
        c.exec_driver_sql(f"INSERT INTO esap_bob{tag}.secret VALUES ('bob only')")
    return tag, alice


@pytest.fixture
def esap_config(users, request, monkeypatch):
    """alice's server as a hub spawns it: her database URL in ESAP_LAB_DB_URL, no database setting."""
    tag, alice = users
    monkeypatch.setenv("ESAP_LAB_DB_URL", alice)
    monkeypatch.setenv("JUPYTERHUB_USER", f"alice{tag}")
    request.node.alice_url = alice
    request.node.tag = tag
    return {"db_url": "", "tables_engine": "postgresql", "tables_sql_timeout": 2.0}


async def test_sql_runs_on_postgresql_in_the_users_schema(api, jp_root_dir, request):
    (jp_root_dir / "xray.csv").write_text(CSV)
    _, t = await api("POST", "tables", body={"name": "xray", "source": {"kind": "file", "path": "xray.csv"}},
                     expect=201)
    _, res = await api("POST", "tables", "sql", expect=201,
                       body={"sql": "-- bright ones\nSELECT name, flux, flux * 2 AS twice FROM xray "
                                    "WHERE flux > 1 ORDER BY flux DESC"})
    assert res["kind"] == "result" and res["row_count"] == 2 and res["provenance"]["params"] == {"engine": "postgresql"}
    _, page = await api("GET", "tables", res["id"], "rows", expect=200)
    assert page["rows"] == [{"name": "X3", "flux": 2.1, "twice": 4.2}, {"name": "X1", "flux": 1.5, "twice": 3.0}]
    # a column named twice is kept twice (renamed), with nulls and types as PostgreSQL gave them
    _, dup = await api("POST", "tables", "sql", expect=201,
                       body={"sql": "SELECT name, name, flux, dec FROM xray ORDER BY name"})
    assert [c["name"] for c in dup["columns"]] == ["name", "name_2", "flux", "dec"]
    _, page = await api("GET", "tables", dup["id"], "rows", expect=200)
    assert page["rows"][3] == {"name": "X4", "name_2": "X4", "flux": None, "dec": 4.9}
    # the rows are in alice's own schema, under her role
    with create_engine(request.node.alice_url).connect() as c:
        assert c.exec_driver_sql("SELECT current_user").scalar() == f"esap_alice{request.node.tag}"
        assert c.exec_driver_sql("SELECT count(*), count(flux) FROM xray").one() == (4, 3)
    # a result is a table too (by its id), and a saved one by its name
    _, named = await api("POST", "tables", "sql", expect=201,
                         body={"sql": f"SELECT count(*) AS n FROM {res['id']}", "name": "n_bright"})
    assert named["name"] == "n_bright" and named["kind"] == "table"
    _, page = await api("GET", "tables", "n_bright", "rows", expect=200)
    assert page["rows"] == [{"n": 2}]
    # the engine's message and where
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT nme\nFROM xray"})
    assert code == 400 and err["reason"] == "sql-error" and 'column "nme" does not exist' in err["message"]
    assert err["message"].endswith("LINE 1: SELECT nme\n               ^")
    # deleting a table drops its rows in PostgreSQL
    await api("DELETE", "tables", "xray", expect=204)
    with create_engine(request.node.alice_url).connect() as c:
        assert c.exec_driver_sql("SELECT to_regclass('xray')").scalar() is None
        assert c.exec_driver_sql(f"SELECT to_regclass('esap_rows_{t['id']}')").scalar() is None
    code, err = await api("POST", "tables", "sql", body={"sql": "SELECT * FROM xray"})
    assert code == 400 and "xray" in err["message"]


async def test_old_results_are_forgotten_in_the_users_schema(api, jp_serverapp):
    """The newest results are kept (c.EsapLab.tables_max_results), the older ones forgotten in the
    same transaction as the new one is recorded: records, files and PostgreSQL copies."""
    service = jp_serverapp.web_app.settings["esap_lab"].tables
    service.max_results = 2
    ids = [(await api("POST", "tables", "sql", body={"sql": f"SELECT {i} AS x"}, expect=201))[1]["id"]
           for i in range(4)]
    _, kept = await api("GET", "tables", params={"kind": "result"}, expect=200)
    assert [t["id"] for t in kept["tables"]] == ids[2:]
    for gone in ids[:2]:
        await api("GET", "tables", gone, expect=404)
        assert not service.store.path(gone).exists()
    _, page = await api("GET", "tables", ids[3], "rows", expect=200)
    assert page["rows"] == [{"x": 3}]


@pytest.mark.parametrize("sql,reason,says", [
    ("SELECT pg_read_file('/etc/passwd')", "sql-forbidden", "permission denied"),
    ("SELECT * FROM esap_bob{tag}.secret", "sql-forbidden", "permission denied for schema esap_bob{tag}"),
    ("SELECT lo_import('/etc/passwd')", "sql-forbidden", ""),
    ("COPY (SELECT 1) TO '/tmp/esap-pg-copy.txt'", "sql-forbidden", "COPY is not allowed"),
    ("CREATE EXTENSION dblink", "sql-forbidden", "CREATE is not allowed"),
    ("DELETE FROM esap_tables", "sql-forbidden", "DELETE is not allowed"),
    ("SELECT 1; DROP TABLE esap_tables", "sql-error", ""),
    ("WITH x AS (DELETE FROM esap_tables RETURNING 1) SELECT * FROM x", "sql-forbidden", "data-modifying"),
    ("SELECT * FROM esap_tables FOR UPDATE", "sql-forbidden", "read-only transaction"),
    ("SELECT pg_sleep(5)", "sql-timeout", "2 s"),
])
async def test_what_sql_may_not_do_is_a_clear_400(api, request, sql, reason, says):
    sql, says = sql.format(tag=request.node.tag), says.format(tag=request.node.tag)
    _, before = await api("GET", "tables", expect=200)
    code, err = await api("POST", "tables", "sql", body={"sql": sql})
    assert code == 400 and err["reason"] == reason, (sql, code, err)
    assert says in err["message"] and "Traceback" not in err["message"]
    assert not os.path.exists("/tmp/esap-pg-copy.txt")
    _, tables = await api("GET", "tables", expect=200)  # nothing was changed
    assert tables == before
