"""The only code touching the state of "my tables".

- one record per table or result in the state database (``esap_tables``): name, project,
  description, column metadata, provenance;
- its rows in a Parquet file of its own under ``<data dir>/tables/files`` (written once, to a
  temporary name then renamed: a crash never leaves half a table under a real name);
- with ``tables_engine = "postgresql"`` (hubs), SQL runs on PostgreSQL instead, over copies of
  the tables in the user's own schema (``PostgresTables``, below);
- the user's DuckDB database: one per server (one server = one user), holding a view per
  table over its Parquet file, made when an SQL statement first names it. The Parquet files are
  the data; the database holds nothing but those views, so it lives in memory (no file
  lock between two servers of one user, no disk write per result) and spills to
  ``<data dir>/tables/duckdb-tmp``. DuckDB reads those files and nothing else: external access
  is off except for that one directory, extensions can be neither installed nor loaded, and the
  configuration is locked, so SQL cannot switch any of it back on.

Every method blocks; the service calls them in its own executor.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, String, Text, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Database
from ..errors import Conflict, NotFound
from ..operations import aware, utcnow
from .formats import write_parquet
from .models import Column, Provenance, TableInfo

log = logging.getLogger("esap_lab.tables")


def quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class TableRecord(Base):
    __tablename__ = "esap_tables"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    lname: Mapped[str] = mapped_column(String(64), unique=True)
    project: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    overflow: Mapped[bool] = mapped_column(Boolean)
    columns: Mapped[list] = mapped_column(JSON)
    provenance: Mapped[dict] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def info(self) -> TableInfo:
        return TableInfo(id=self.id, name=self.name, project=self.project, kind=self.kind,
                         description=self.description, row_count=self.row_count, bytes=self.bytes,
                         overflow=bool(self.overflow), columns=[Column(**c) for c in self.columns or []],
                         provenance=Provenance(**self.provenance), created=aware(self.created),
                         updated=aware(self.updated))


_T = TableRecord.__table__
_BY_LNAME = select(_T.c.id, _T.c.name).where(_T.c.lname == bindparam("lname"))
_DELETE_ID = _T.delete().where(_T.c.id == bindparam("id"))
_INSERT = _T.insert()
# the results older than the newest ``keep`` (one statement: which, and away with them)
_FORGET_RESULTS = (_T.delete()
                   .where(_T.c.kind == "result",
                          _T.c.id.not_in(select(_T.c.id).where(_T.c.kind == "result")
                                         .order_by(_T.c.created.desc(), _T.c.id.desc()).limit(bindparam("keep"))))
                   .returning(_T.c.id, _T.c.name))


class TableStore:
    def __init__(self, db: Database, directory: str | os.PathLike, limits: dict[str, str] | None = None):
        """``limits``: DuckDB settings that bound one user's SQL (memory_limit, max_temp_directory_size)."""
        self.db = db
        self.limits = dict(limits or {})
        self.directory = Path(directory)
        self.files = self.directory / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self.spill = self.directory / "duckdb-tmp"
        self._duck = None
        self._views: dict[str, str] = {}  # lower-case name -> id of the table its view reads
        # lower-case name -> record of every table and result, read once, then kept in step by
        # add/update/delete (one server = one user: nobody else writes these records); an SQL
        # statement finds the tables it names here, not in a database query
        self._catalog: dict[str, TableInfo] | None = None
        self.pg: PostgresTables | None = None  # c.EsapLab.tables_engine = "postgresql"
        self._lock = threading.RLock()

    # -- files ----------------------------------------------------------------------------
    def path(self, tid: str) -> Path:
        return self.files / f"{tid}.parquet"

    def new_id(self, kind: str) -> str:
        return ("result_" if kind == "result" else "t") + uuid.uuid4().hex[:12]

    def write_rows(self, tid: str, table: pa.Table, columns: list[Column]) -> int:
        """Write the rows of a new table; -> bytes on disk."""
        final = self.path(tid)
        part = final.with_name(final.name + ".part")
        try:
            write_parquet(table, columns, str(part))
            os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
        return final.stat().st_size

    def copy_rows(self, src: str, tid: str) -> int:
        """The rows of ``src`` for a new table ``tid``: a hard link (files never change once written)."""
        final, part = self.path(tid), self.path(tid).with_suffix(".parquet.part")
        try:
            try:
                os.link(self.path(src), part)
            except OSError:
                shutil.copyfile(self.path(src), part)
            os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
        return final.stat().st_size

    def read_rows(self, tid: str, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(str(self.path(tid)), columns=columns)

    # -- records --------------------------------------------------------------------------
    def _find(self, s, key: str) -> TableRecord | None:
        rec = s.get(TableRecord, key)
        if rec is None:
            rec = s.scalars(select(TableRecord).where(TableRecord.lname == key.lower())).first()
        return rec

    def get(self, key: str) -> TableInfo:
        with self.db.read() as s:
            rec = self._find(s, key)
            if rec is None:
                raise NotFound(f"No table {key!r}: it never existed, was deleted, or (a result) was "
                               f"replaced by newer results.", reason="unknown-table")
            return rec.info()

    def list(self, project: str | None = None, kind: str | None = None) -> list[TableInfo]:
        with self.db.read() as s:
            q = select(TableRecord).order_by(TableRecord.created)
            if project is not None:
                q = q.where(TableRecord.project == project)
            if kind is not None:
                q = q.where(TableRecord.kind == kind)
            return [r.info() for r in s.scalars(q)]

    def named(self, names: set[str]) -> list[TableInfo]:
        """The tables and results among ``names`` (case-insensitive)."""
        if not names:
            return []
        with self._lock:
            if self._catalog is None:
                with self.db.read() as s:
                    self._catalog = {r.lname: r.info() for r in s.scalars(select(TableRecord))}
            found = [self._catalog[n.lower()] for n in names if n.lower() in self._catalog]
        return sorted(found, key=lambda t: t.created)

    def _results_beyond(self, keep: int) -> bool:
        """Whether more than ``keep`` results are recorded (the catalog knows without a query)."""
        if self._catalog is None:
            return True
        return sum(1 for t in self._catalog.values() if t.kind == "result") > keep

    def _catalog_drop(self, name: str) -> None:
        if self._catalog is not None:
            self._catalog.pop(name.lower(), None)

    def add(self, info: TableInfo, replace: bool = False, keep_results: int | None = None) -> TableInfo:
        """Record a table whose rows are written; a name in use is a 409 unless ``replace``.
        With ``keep_results``, the results beyond the newest that many are forgotten (same
        transaction)."""
        gone: list[tuple[str, str]] = []  # (id, name) of what this replaced or pushed out
        with self._lock:
            # a result is recorded at every SQL statement and crossmatch: one Core transaction of
            # statements compiled once (an ORM session and its unit of work cost more than the
            # rows themselves), the old results forgotten by one DELETE ... RETURNING
            with self.db.engine.begin() as c:
                old = None if info.kind == "result" else c.execute(_BY_LNAME, {"lname": info.name.lower()}).first()
                if old is not None:
                    if not replace:
                        raise Conflict(f"A table named {old.name!r} exists already; choose another name, or "
                                       f"replace it.", reason="name-taken")
                    gone.append((old.id, old.name))
                    c.execute(_DELETE_ID, {"id": old.id})
                if keep_results is not None and self._results_beyond(keep_results - 1):
                    gone.extend((r.id, r.name) for r in c.execute(_FORGET_RESULTS, {"keep": max(keep_results - 1, 0)}))
                c.execute(_INSERT, {
                    "id": info.id, "name": info.name, "lname": info.name.lower(), "project": info.project,
                    "kind": info.kind, "description": info.description, "row_count": info.row_count,
                    "bytes": info.bytes, "overflow": info.overflow,
                    "columns": [col.model_dump(exclude_none=True) for col in info.columns],
                    "provenance": info.provenance.model_dump(exclude_none=True), "created": info.created,
                    "updated": info.updated})
            self._drop_view(info.name)  # a replaced table's view is made again when next used
            for _, name in gone:
                self._drop_view(name)
                self._catalog_drop(name)
            if self._catalog is not None:
                self._catalog[info.name.lower()] = info
        for tid, name in gone:
            self.path(tid).unlink(missing_ok=True)
            if self.pg is not None:
                self.pg.drop(tid, name)
        return info

    def update(self, key: str, changes: dict) -> TableInfo:
        with self._lock:
            with self.db.session() as s:
                rec = self._find(s, key)
                if rec is None:
                    raise NotFound(f"No table {key!r}.", reason="unknown-table")
                old_name = rec.name
                if "name" in changes and changes["name"].lower() != rec.lname:
                    other = s.scalars(select(TableRecord).where(TableRecord.lname == changes["name"].lower())).first()
                    if other is not None:
                        raise Conflict(f"A table named {other.name!r} exists already.", reason="name-taken")
                for k, v in changes.items():
                    setattr(rec, k, v)
                if "name" in changes:
                    rec.lname = changes["name"].lower()
                rec.updated = utcnow()
                info = rec.info()
            if info.name != old_name:
                self._drop_view(old_name)
                if self.pg is not None:
                    self.pg.drop_view(old_name)
            self._catalog_drop(old_name)
            if self._catalog is not None:
                self._catalog[info.name.lower()] = info
            return info

    def delete(self, key: str) -> TableInfo:
        with self._lock:
            with self.db.session() as s:
                rec = self._find(s, key)
                if rec is None:
                    raise NotFound(f"No table {key!r}.", reason="unknown-table")
                info = rec.info()
                s.delete(rec)
            self._drop_view(info.name)
            self._catalog_drop(info.name)
        self.path(info.id).unlink(missing_ok=True)
        if self.pg is not None:
            self.pg.drop(info.id, info.name)
        return info

    # -- DuckDB ---------------------------------------------------------------------------
    def connection(self):
        """The user's DuckDB database, opened on first use with its safety settings locked."""
        with self._lock:
            if self._duck is None:
                import duckdb

                shutil.rmtree(self.spill, ignore_errors=True)
                self.spill.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                         "autoload_known_extensions": False,
                                                         "temp_directory": str(self.spill), **self.limits})
                try:  # table files never change once written: their footers can be kept
                    con.execute("SET parquet_metadata_cache = true")
                except duckdb.Error:  # pragma: no cover - older DuckDB
                    con.execute("SET enable_object_cache = true")
                con.execute("SET allowed_directories = ?", [[str(self.files.resolve()) + os.sep]])
                con.execute("SET enable_external_access = false")
                con.execute("SET lock_configuration = true")
                self._duck = con
                self._views = {}
            return self._duck

    def cursor(self):
        """A connection of its own to the user's database (one per thread / call)."""
        return self.connection().cursor()

    def ensure_views(self, tables: list[TableInfo]) -> None:
        """Views for the tables an SQL statement names, made when first used (a DDL statement
        costs DuckDB milliseconds, and most results are never named in SQL)."""
        con = self.connection()
        with self._lock:
            for info in tables:
                key = info.name.lower()
                if self._views.get(key) != info.id:
                    path = str(self.path(info.id).resolve()).replace("'", "''")
                    con.execute(f"CREATE OR REPLACE VIEW {quote(info.name)} AS SELECT * FROM read_parquet('{path}')")
                    self._views[key] = info.id

    def _drop_view(self, name: str) -> None:
        if self._duck is not None and self._views.pop(name.lower(), None) is not None:
            self._duck.execute(f"DROP VIEW IF EXISTS {quote(name)}")

    def close(self) -> None:
        with self._lock:
            if self._duck is not None:
                self._duck.close()
                self._duck = None


# -- PostgreSQL: SQL over my tables in the user's own schema ------------------------------------
_PG_TYPES = [
    (pa.types.is_boolean, "boolean"), (pa.types.is_int8, "smallint"), (pa.types.is_int16, "smallint"),
    (pa.types.is_uint8, "smallint"), (pa.types.is_int32, "integer"), (pa.types.is_uint16, "integer"),
    (pa.types.is_int64, "bigint"), (pa.types.is_uint32, "bigint"), (pa.types.is_uint64, "numeric"),
    (pa.types.is_float16, "real"), (pa.types.is_float32, "real"), (pa.types.is_float64, "double precision"),
    (pa.types.is_decimal, "numeric"), (pa.types.is_date, "date"), (pa.types.is_timestamp, "timestamp"),
]


def pg_rows_table(tid: str) -> str:
    """The PostgreSQL table holding the rows of one of my tables (the user's table name is a view)."""
    return f"esap_rows_{tid}"


class PostgresTables:
    """My tables in the user's own schema of the state database (on a hub: the user's role,
    ``esap_lab.hub``): each table's rows copied once, when SQL first names it, into
    ``esap_rows_<id>``, with a view under the table's name. The role's rights isolate users: the
    schema is the role's own, other users' schemas and the server's files are out of its reach
    (no superuser, no pg_read_server_files); statements run read-only, one at a time, with a
    statement timeout. The Parquet files stay the tables' own copy (rows, exports, crossmatch)."""

    PREFIX = "SELECT * FROM (\n"  # a statement runs as a subquery (positions in errors count it)

    def __init__(self, db: Database, files: TableStore):
        if db.is_sqlite:
            raise ValueError("c.EsapLab.tables_engine = 'postgresql' needs a PostgreSQL state database "
                             "(c.EsapLab.db_url, or ESAP_LAB_DB_URL on a hub)")
        self.db = db
        self.files = files
        self._views: dict[str, str] = {}  # lower-case name -> id its view reads
        self._lock = threading.RLock()

    def ensure_views(self, tables: list[TableInfo]) -> None:
        with self._lock:
            for info in tables:
                if self._views.get(info.name.lower()) == info.id:
                    continue
                rows = pg_rows_table(info.id)
                with self.db.engine.begin() as c:
                    if c.exec_driver_sql("SELECT to_regclass(%(t)s)", {"t": quote(rows)}).scalar() is None:
                        self._load(c, rows, self.files.read_rows(info.id))
                    c.exec_driver_sql(f"DROP VIEW IF EXISTS {quote(info.name)}")
                    c.exec_driver_sql(f"CREATE VIEW {quote(info.name)} AS SELECT * FROM {quote(rows)}")
                self._views[info.name.lower()] = info.id

    @staticmethod
    def _load(c, rows: str, table: pa.Table) -> None:
        import io

        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        cols, arrays = [], []
        for f in table.schema:
            arr = table.column(f.name)
            kind = next((k for test, k in _PG_TYPES if test(f.type)), None)
            if kind is None:  # text, and what PostgreSQL has no plain type for (lists, structs): as text
                kind = "text"
                if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
                    arr = pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())
            elif pa.types.is_timestamp(f.type):
                arr = pc.cast(arr, pa.timestamp("us"))
            cols.append(f"{quote(f.name)} {kind}")
            arrays.append(arr)
        c.exec_driver_sql(f"CREATE TABLE {quote(rows)} ({', '.join(cols)})")
        if table.num_rows:
            buf = io.BytesIO()
            pacsv.write_csv(pa.table(arrays, names=table.column_names), buf)
            raw = c.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {quote(rows)} FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write(buf.getvalue())

    def select(self, sql: str, limit: int, timeout: float) -> tuple[list[str], list[tuple]]:
        """Run one SELECT, read-only, at most ``limit`` rows; -> (column names, rows). Raises
        psycopg's errors (the service says them as 400s)."""
        with self.db.engine.connect() as c:
            raw = c.connection.driver_connection
            with raw.transaction(), raw.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(f"SET LOCAL statement_timeout = {max(int(timeout * 1000), 1)}")
                # one statement, as a subquery (the extended protocol refuses a second one)
                cur.execute(f"{self.PREFIX}{sql}\n) AS esap_q LIMIT %s", [limit])
                names = [d.name for d in cur.description]
                return names, cur.fetchall()

    def drop_view(self, name: str) -> None:
        with self._lock:
            self._views.pop(name.lower(), None)
            with self.db.engine.begin() as c:
                c.exec_driver_sql(f"DROP VIEW IF EXISTS {quote(name)}")

    def drop(self, tid: str, name: str) -> None:
        with self._lock:
            if self._views.get(name.lower()) == tid:
                self._views.pop(name.lower(), None)
            with self.db.engine.begin() as c:
                exists = c.exec_driver_sql("SELECT to_regclass(%(t)s)", {"t": quote(pg_rows_table(tid))}).scalar()
                if exists is not None:
                    c.exec_driver_sql(f"DROP TABLE {quote(pg_rows_table(tid))} CASCADE")  # and its view
