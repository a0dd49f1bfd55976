"""What a JupyterHub admin plugs in: each user's esap-lab state in a PostgreSQL role of its own.

In ``jupyterhub_config.py``::

    from esap_lab.hub import database_pre_spawn_hook

    c.Spawner.pre_spawn_hook = database_pre_spawn_hook(
        admin_url=os.environ.pop("ESAP_HUB_DB_ADMIN_URL"),   # a role with CREATEROLE; stays in the hub
        database="esap_hub")                                  # the users' database (created if missing)

For each user about to be spawned, the hook (in the hub process, with the admin credentials
that never leave it):

- creates a login role ``esap_<user>`` (a new random password at each spawn) and a schema
  ``esap_<user>`` owned by it, in ``database``; no other role gets any right on that schema,
  so another user's role reading it gets "permission denied";
- hands that user's own database URL to that user's server only, in the spawner's environment
  (``ESAP_LAB_DB_URL``), which the server reads at start-up and removes from its environment so
  its kernels, terminals and jobs never see it.

The user's server then needs no database setting: ``c.EsapLab.db_url`` stays empty and
``c.EsapLab.db_schema`` at its default ``esap_{username}``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from .db import user_schema
from .vault import DB_URL_ENV

ROLE_TEMPLATE = "esap_{username}"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def provision_user(admin_url: str, username: str, *, database: str | None = None,
                   template: str = ROLE_TEMPLATE) -> str:
    """Create (or refresh) the role and schema of ``username``; -> that user's SQLAlchemy URL
    (their role, a new password, ``database``). ``admin_url``: a role with CREATEROLE (and
    CREATEDB when ``database`` does not exist yet). Idempotent."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    database = database or admin.database
    name = user_schema(template, username)  # a safe identifier: [a-z][a-z0-9_]*
    role = _quote_ident(name)
    password = secrets.token_urlsafe(24)  # [A-Za-z0-9_-]: safe as an SQL literal (DDL takes no parameters)

    engine = create_engine(admin.set(database=admin.database or "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            if not c.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}).scalar():
                c.exec_driver_sql(f"CREATE DATABASE {_quote_ident(database)}")
            if c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}).scalar():
                c.exec_driver_sql(f"ALTER ROLE {role} WITH LOGIN PASSWORD '{password}'")
            else:
                c.exec_driver_sql(f"CREATE ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                                  f"PASSWORD '{password}'")
            c.exec_driver_sql(f"REVOKE ALL ON DATABASE {_quote_ident(database)} FROM PUBLIC")
            c.exec_driver_sql(f"GRANT CONNECT, TEMPORARY ON DATABASE {_quote_ident(database)} TO {role}")
            # PostgreSQL 15: to make the schema owned by the role, the admin must be a member of it.
            member = c.execute(text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": name}).scalar()
            if not member:
                c.exec_driver_sql(f"GRANT {role} TO CURRENT_USER")
    finally:
        engine.dispose()

    engine = create_engine(admin.set(database=database), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.exec_driver_sql("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            c.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role}")
            c.exec_driver_sql(f"ALTER SCHEMA {role} OWNER TO {role}")
            c.exec_driver_sql(f"REVOKE ALL ON SCHEMA {role} FROM PUBLIC")
    finally:
        engine.dispose()
    return admin.set(username=name, password=password, database=database).render_as_string(hide_password=False)


def database_pre_spawn_hook(admin_url: str, *, database: str | None = None, template: str = ROLE_TEMPLATE,
                            env_name: str = DB_URL_ENV) -> Callable[[Any], Any]:
    """A ``c.Spawner.pre_spawn_hook``: provision the user's role and schema, and put the user's
    own database URL in that spawner's environment (``env_name``)."""

    async def hook(spawner) -> None:
        url = await asyncio.to_thread(provision_user, admin_url, spawner.user.name, database=database,
                                      template=template)
        spawner.environment = {**(spawner.environment or {}), env_name: url}

    return hook
