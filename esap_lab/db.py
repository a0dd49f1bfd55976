"""The one SQLAlchemy engine of esap-lab: a SQLite file (WAL) by default, PostgreSQL by URL.

Each area owns its tables (``Base`` subclasses in its package) and its own Alembic branch in
``esap_lab/migrations/versions`` (``branch_labels = ("<area>",)``); ``Database.migrate`` brings
every branch to its head. Calls are synchronous SQLAlchemy; code on the event loop goes through
``Database.run`` so a query never blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every esap-lab table."""


def default_db_url(data_dir: str | os.PathLike) -> str:
    path = Path(data_dir) / "esap_lab" / "esap_lab.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _private_sqlite_file(url: str) -> None:
    """The SQLite file (and so its -wal and -shm files, which SQLite creates with the same mode)
    readable by its owner only: on a shared machine, Unix permissions keep each user's state."""
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists() and p.stat().st_mode & 0o077:
            p.chmod(0o600)


def _sqlite_connect(dbapi_conn, _record):
    # pysqlite's own transaction handling is switched off so BEGIN can be issued by us.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin_immediate(conn):
    # Take the write lock at BEGIN: a read-then-write transaction can then never fail half way
    # with "database is locked" when another process (a kernel, a second server) writes too.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn):
    conn.exec_driver_sql("BEGIN")


def user_schema(template: str, user: str | None = None) -> str:
    """The PostgreSQL schema of one user: ``template`` with ``{username}`` replaced by the Jupyter
    user's name (JupyterHub's, else the Unix user's), reduced to a safe SQL identifier."""
    user = user or os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
    name = re.sub(r"[^a-z0-9_]", "_", template.format(username=user).lower())
    if not name or not name[0].isalpha():
        name = "u_" + name
    return name[:63]


def make_engine(url: str, *, readonly: bool = False, schema: str | None = None) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_deferred if readonly else _sqlite_begin_immediate)
        return engine
    args = {"options": f"-c search_path={schema}"} if schema else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=args)


class Database:
    """Engine, sessions and a small thread pool for database work off the event loop."""

    _migrate_lock = threading.Lock()

    def __init__(self, url: str, schema: str | None = None):
        """``schema``: on PostgreSQL, the schema that holds this user's tables (so the users of
        one hub database never see each other's state). Ignored for SQLite (a file per user)."""
        self.url = url
        self.schema = None if url.startswith("sqlite") else schema
        if self.schema is not None and not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", self.schema):
            raise ValueError(f"invalid database schema name {self.schema!r}")
        if url.startswith("sqlite"):
            _private_sqlite_file(url)
        self.engine = make_engine(url, schema=self.schema)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite readers need not queue behind writers (WAL): a second engine begins DEFERRED.
        self._read_engine = make_engine(url, readonly=True) if url.startswith("sqlite") else self.engine
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="esap-lab-db")

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        """Bring every area's schema to its newest revision (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["engine"] = self.engine
        from sqlalchemy.exc import ProgrammingError

        try:
            with self._migrate_lock:
                if self.schema is not None:
                    with self.engine.begin() as c:  # a hub's user role may own its schema but not create one
                        if not c.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = %(s)s",
                                                 {"s": self.schema}).scalar():
                            c.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                command.upgrade(cfg, "heads")
        except ProgrammingError as e:
            if getattr(e.orig, "sqlstate", None) not in ("42501", "3F000"):  # permission denied, no usable schema
                raise
            raise PermissionError(
                f"The database role {self.engine.url.username!r} may not create or change esap-lab's tables in "
                f"schema {self.schema or 'public'!r} ({str(e.orig).splitlines()[0]}). The hub admin should let it "
                "own that schema (esap_lab.hub.database_pre_spawn_hook does), or set c.EsapLab.db_schema to the "
                "schema it owns.") from None

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self._sessions() as s, s.begin():
            yield s

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (never takes SQLite's write lock)."""
        with self._read_sessions() as s, s.begin():
            yield s

    async def run(self, fn: Callable[..., T], *args) -> T:
        """Run blocking database code in the pool, not on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self.engine.dispose()
        self._read_engine.dispose()
