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

The login's token (GenericOAuthenticator with ``enable_auth_state``) reaches the user's server as
a file, ``~/.esap/access_token`` (mode 0600, owned by the user), which the services configured
with ``token_file`` read at each use::

    from esap_lab.hub import token_auth_state_hook
    c.Spawner.auth_state_hook = token_auth_state_hook()

The hook writes the file before each spawn. The user's server keeps it fresh: enable this module
as a server extension too (``c.ServerApp.jpserver_extensions = {"esap_lab.hub": True}``) and it
reads the user's auth_state from the hub every ``$ESAP_LAB_TOKEN_SYNC`` seconds (default 60) with
the server's own hub token, which makes the hub refresh an expired access token with the refresh
token; a login that cannot be refreshed any more is said in the server log and in
``~/.esap/access_token.error`` ("log in again"). The server's token needs the scopes
``read:users:name!user`` and ``admin:auth_state!user`` (``c.Spawner.server_token_scopes``, and
``c.JupyterHub.extra_user_scopes = {"admin:auth_state!user"}``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pwd
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .db import user_schema
from .vault import DB_URL_ENV

ROLE_TEMPLATE = "esap_{username}"
TOKEN_FILE = ".esap/access_token"  # in the user's home
TOKEN_FILE_ENV = "ESAP_LAB_TOKEN_FILE"
TOKEN_SYNC_ENV = "ESAP_LAB_TOKEN_SYNC"
log = logging.getLogger("esap_lab.hub")


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


# -- the login's token, as a file the user's server reads --------------------------------------

def write_token_file(path: str | os.PathLike, token: str, *, uid: int | None = None,
                     gid: int | None = None) -> None:
    """Write ``token`` to ``path`` (mode 0600; its folder 0700), atomically. With ``uid``
    (the hub writing as root into a user's home): the folder and file are made that user's, and
    no link the user may have planted is followed."""
    path = Path(path)
    folder = path.parent
    try:
        os.mkdir(folder, 0o700)
        if uid is not None:
            os.chown(folder, uid, gid if gid is not None else -1, follow_symlinks=False)
    except FileExistsError:
        pass
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        st = os.fstat(dfd)
        if uid is not None and st.st_uid != uid:
            raise PermissionError(f"{folder} is not owned by uid {uid}: the token file is not written")
        tmp = f".{path.name}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dfd)
        try:
            if uid is not None:
                os.fchown(fd, uid, gid if gid is not None else -1)
            os.write(fd, token.encode())
        finally:
            os.close(fd)
        os.replace(tmp, path.name, src_dir_fd=dfd, dst_dir_fd=dfd)
    finally:
        os.close(dfd)


def token_auth_state_hook(relative_path: str = TOKEN_FILE) -> Callable[[Any, dict | None], None]:
    """A ``c.Spawner.auth_state_hook`` (hub side): the login's access token into the file
    ``~user/relative_path`` of the Unix user the spawner runs as, and that path in the server's
    environment (``ESAP_LAB_TOKEN_FILE``: a path, not the token)."""

    def hook(spawner, auth_state: dict | None) -> None:
        token = (auth_state or {}).get("access_token")
        if not token:
            return
        pw = pwd.getpwnam(spawner.user.name)
        path = Path(pw.pw_dir, relative_path)
        write_token_file(path, token, uid=pw.pw_uid, gid=pw.pw_gid)
        (path.parent / (path.name + ".error")).unlink(missing_ok=True)
        spawner.environment = {**(spawner.environment or {}), TOKEN_FILE_ENV: str(path)}

    return hook


LOGIN_EXPIRED = "login-expired"  # the reason of an error that asks the user to log in again


def login_error(token_file: str | os.PathLike) -> str | None:
    """The "log in again" message the user's server left beside the login's token file when the
    hub could not renew the login (None while the login is fine)."""
    try:
        return Path(str(token_file) + ".error").read_text().strip() or None
    except OSError:
        return None


def expired_login(settings: dict, status: int, reason: str) -> str | None:
    """For an error answer of the user's server: when a remote service refused credentials
    (401/403, or a reason naming authentication) while the hub could not renew the login, the
    message that says to log in again (the handlers then answer with the reason ``login-expired``)."""
    sync = settings.get("esap_lab_token_sync")
    if sync is None or not sync.error or reason == LOGIN_EXPIRED:
        return None
    if status in (401, 403) or "authentication" in reason:
        return sync.error
    return None


class TokenFileSync:
    """On the user's server: re-read the login's token from the hub and rewrite the token file
    when it changed (the hub refreshes an expired one when asked for the auth_state)."""

    def __init__(self, path: str, api_url: str, user: str, api_token: str):
        self.path, self.url, self.api_token = Path(path), f"{api_url.rstrip('/')}/users/{user}", api_token
        self.token: str | None = None
        self.error: str | None = None

    async def sync(self) -> None:
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError

        try:
            r = await AsyncHTTPClient().fetch(self.url, request_timeout=30,
                                              headers={"Authorization": f"token {self.api_token}"})
            token = (json.loads(r.body).get("auth_state") or {}).get("access_token")
            if not token:
                raise ValueError("the hub gives no access token (is admin:auth_state!user among "
                                 "c.Spawner.server_token_scopes?)")
        except HTTPClientError as e:
            if e.code == 403:  # the hub could not refresh the login with the refresh token
                self._fail("Your login has expired and could not be renewed: log in again at the hub "
                           "(File > Hub Control Panel > Logout, then log in).")
            else:
                self._fail(f"The hub did not give the login's token ({e}).")
            return
        except Exception as e:  # noqa: BLE001 - hub unreachable or unreadable: said, kept trying
            self._fail(f"The hub did not give the login's token ({e}).")
            return
        if token != self.token:
            write_token_file(self.path, token)
            if self.token is not None:
                log.info("esap-lab: the login's token was refreshed (%s)", self.path)
            self.token = token
        if self.error:
            self.error = None
            (self.path.parent / (self.path.name + ".error")).unlink(missing_ok=True)

    def _fail(self, message: str) -> None:
        if message != self.error:
            log.warning("esap-lab: %s", message)
            self.error = message
            write_token_file(self.path.parent / (self.path.name + ".error"), message + "\n")


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "esap_lab.hub"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from tornado.ioloop import PeriodicCallback

    env = os.environ
    needed = (TOKEN_FILE_ENV, "JUPYTERHUB_API_URL", "JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN")
    if not all(env.get(k) for k in needed):
        serverapp.log.info("esap_lab.hub: no token file to keep fresh (not spawned by a hub with "
                           "esap_lab.hub.token_auth_state_hook)")
        return
    sync = TokenFileSync(env[TOKEN_FILE_ENV], env["JUPYTERHUB_API_URL"], env["JUPYTERHUB_USER"],
                         env["JUPYTERHUB_API_TOKEN"])
    interval = float(env.get(TOKEN_SYNC_ENV) or 60)
    serverapp.web_app.settings["esap_lab_token_sync"] = sync
    PeriodicCallback(sync.sync, interval * 1000).start()
    serverapp.io_loop.add_callback(sync.sync)
    serverapp.log.info("esap_lab.hub: keeping %s fresh (every %ss)", sync.path, interval)
