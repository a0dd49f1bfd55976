"""My tables: save results, files and URLs as named tables; SQL and crossmatch over them.

Plain asyncio, no tornado. Every blocking step (DuckDB, Parquet, parsing files, the
crossmatch) runs in the service's own executor, never on the event loop. Other areas are
reached through their services: the archives' QueryManager for a stored query result, the
BasketService for record items.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pyarrow as pa

from ..errors import BadRequest, Conflict, EsapError, RemoteError
from . import skymatch as xm
from .formats import SUFFIX, guess_format, read, write
from .models import (
    Column,
    CreateBody,
    CrossmatchBody,
    PatchBody,
    Provenance,
    RowsPage,
    SqlBody,
    TableInfo,
    UploadParams,
)
from .store import PostgresTables, TableStore, quote, utcnow

log = logging.getLogger("esap_lab.tables")

_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|[KMGT]i?B)", re.IGNORECASE)  # a size DuckDB reads: 2GB, 512MiB


class TableService:
    def __init__(self, db, directory: str | os.PathLike, root_dir: str | os.PathLike, *, queries: Any = None,
                 basket: Any = None, max_rows: int = 5_000_000, max_bytes: int = 1 << 30,
                 sql_timeout: float = 60.0, max_results: int = 20, fetch_timeout: float = 60.0,
                 engine: str = "duckdb", memory_limit: str = "", spill_limit: str = ""):
        """``engine``: where SQL over my tables runs: "duckdb" (embedded, the default) or
        "postgresql" (the user's own schema of the state database, for hubs). ``memory_limit``,
        ``spill_limit``: DuckDB's memory and spill disk ('2GB'; empty: DuckDB's defaults)."""
        limits = {}
        for setting, key, value in (("tables_memory_limit", "memory_limit", memory_limit),
                                    ("tables_spill_limit", "max_temp_directory_size", spill_limit)):
            if value:
                if not _SIZE.fullmatch(value.strip()):
                    raise ValueError(f"c.EsapLab.{setting}: {value!r} is not a size such as '2GB' or '512MiB'")
                limits[key] = value.strip()
        self.store = TableStore(db, directory, limits)
        if engine == "postgresql":
            self.store.pg = PostgresTables(db, self.store)
        elif engine != "duckdb":
            raise ValueError(f"c.EsapLab.tables_engine: {engine!r} is neither 'duckdb' nor 'postgresql'")
        self.engine = engine
        self.root_dir = Path(root_dir).resolve()
        self.queries = queries
        self.basket = basket
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.sql_timeout = sql_timeout
        self.max_results = max_results
        self.fetch_timeout = fetch_timeout
        self.tmp = Path(directory) / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="esap-lab-duckdb")

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self.store.close()

    # -- reading --------------------------------------------------------------------------
    async def list(self, project: str | None = None, kind: str | None = "table") -> list[TableInfo]:
        return await self._run(self.store.list, project, kind)

    async def get(self, key: str) -> TableInfo:
        return await self._run(self.store.get, key)

    async def rows(self, key: str, offset: int, limit: int, sort: str | None, order: str) -> RowsPage:
        return await self._run(self._rows, key, offset, limit, sort, order)

    def _rows(self, key, offset, limit, sort, order) -> RowsPage:
        info = self.store.get(key)
        names = [c.name for c in info.columns]
        if sort is not None and sort not in names:
            raise BadRequest(f"Cannot sort by {sort!r}: the table has no such column. Columns: {', '.join(names)}",
                             reason="unknown-column")
        if offset >= info.row_count:
            return RowsPage(offset=offset, limit=limit, total=info.row_count, sort=sort, order=order, rows=[],
                            index=None if sort is None else [])
        path = str(self.store.path(info.id).resolve())
        cur = self.store.cursor()
        try:
            if sort is None:
                part = _arrow_table(cur.sql("SELECT * FROM read_parquet(?) LIMIT ? OFFSET ?",
                                            params=[path, limit, offset]))
                return RowsPage(offset=offset, limit=limit, total=info.row_count, sort=sort, order=order,
                                rows=_json_rows(part))
            # sorted: each row's number in the file comes along (the grid's selection names stored
            # rows with it), and breaks ties, so pages of equal values never overlap or miss a row
            number = ("row_number() OVER () - 1"  # a column of the table hides DuckDB's virtual one
                      if "file_row_number" in {n.lower() for n in names} else "file_row_number")
            part = _arrow_table(cur.sql(
                f"SELECT *, {number} AS esap_stored_row FROM read_parquet(?) "
                f"ORDER BY {quote(sort)} {'ASC' if order == 'asc' else 'DESC'} NULLS LAST, esap_stored_row "
                f"LIMIT ? OFFSET ?", params=[path, limit, offset]))
        finally:
            cur.close()
        last = part.num_columns - 1  # the number: by position, whatever the table's own names
        return RowsPage(offset=offset, limit=limit, total=info.row_count, sort=sort, order=order,
                        rows=_json_rows(part.remove_column(last)), index=part.column(last).to_pylist())

    async def export(self, key: str, fmt: str) -> tuple[Path, str, bool]:
        """-> (file, download name, temporary?) The stored Parquet file itself for Parquet."""
        return await self._run(self._export, key, fmt)

    def _export(self, key: str, fmt: str) -> tuple[Path, str, bool]:
        info = self.store.get(key)
        name = info.name + SUFFIX[fmt]
        if fmt == "parquet":
            return self.store.path(info.id), name, False
        fd, tmp = tempfile.mkstemp(suffix=SUFFIX[fmt], dir=self.tmp)
        os.close(fd)
        try:
            write(self.store.read_rows(info.id), info.columns, fmt, tmp)
        except Exception:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(tmp), name, True

    async def arrow(self, key: str) -> tuple[TableInfo, pa.Table]:
        def work():
            info = self.store.get(key)
            return info, self.store.read_rows(info.id)

        return await self._run(work)

    # -- making tables ----------------------------------------------------------------------
    def _save(self, table: pa.Table, columns: list[Column], provenance: Provenance, *, name: str | None,
              project: str = "default", description: str = "", replace: bool = False,
              overflow: bool = False, kind: str = "table", copy_of: str | None = None) -> TableInfo:
        if copy_of is None and table.num_rows > self.max_rows:
            raise BadRequest(f"The table has {table.num_rows} rows; at most {self.max_rows} can be saved "
                             f"(c.EsapLab.tables_max_rows).", reason="too-many-rows")
        if copy_of is None and provenance.kind in ("sql", "crossmatch") and table.nbytes > self.max_bytes:
            # (a file, URL or upload is held to the same size before it is read)
            raise BadRequest(f"The result holds {table.nbytes:,} bytes; at most {self.max_bytes:,} can be kept "
                             f"(c.EsapLab.tables_max_bytes). Select fewer columns or rows.", reason="too-large")
        if name is not None and kind == "table" and not replace:
            try:
                existing = self.store.get(name)
            except EsapError:
                existing = None
            if existing is not None:
                raise Conflict(f"A table named {existing.name!r} exists already; choose another name, or "
                               f"replace it.", reason="name-taken")
        tid = self.store.new_id(kind)
        if copy_of is not None:
            size = self.store.copy_rows(copy_of, tid)
            rows = self.store.get(copy_of).row_count
        else:
            table = _unique_names(table)
            known = {c.name: c for c in columns}
            columns = [known.get(n) or Column(name=n) for n in table.column_names]
            columns = [c.model_copy(update={"datatype": str(t)}) for c, t in zip(columns, table.schema.types,
                                                                                  strict=True)]
            size = self.store.write_rows(tid, table, columns)
            rows = table.num_rows
        now = utcnow()
        info = TableInfo(id=tid, name=name or tid, project=project, kind=kind, description=description,
                         row_count=rows, bytes=size, overflow=overflow, columns=columns, provenance=provenance,
                         created=now, updated=now)
        try:
            self.store.add(info, replace=replace, keep_results=self.max_results if kind == "result" else None)
        except Exception:
            self.store.path(tid).unlink(missing_ok=True)
            raise
        return info

    async def create(self, body: CreateBody) -> TableInfo:
        src = body.source
        common = {"name": body.name, "project": body.project, "description": body.description, "replace": body.replace}
        if src.kind == "query":
            table, columns, prov = await self._from_query(src.query_id)
        elif src.kind == "basket":
            table, columns, prov = await self._from_basket(src.items)
        elif src.kind == "file":
            path = self._inside_root(src.path)
            fmt = guess_format(path.name, src.format)
            table, columns = await self._run(self._read_file, path, fmt, src.path)
            prov = Provenance(kind="file", path=src.path, format=fmt)
        elif src.kind == "url":
            fmt = guess_format(urlparse(src.url).path, src.format)
            table, columns = await self._run(self._read_url, src.url, fmt)
            prov = Provenance(kind="url", url=src.url, format=fmt)
        else:  # a result, saved under a name: its file is shared (hard link), not copied
            def promote():
                res = self.store.get(src.id)
                parent = res.provenance
                return self._save(pa.table({}), res.columns, Provenance(kind="result", parent=parent,
                                                                        inputs=parent.inputs, sql=parent.sql),
                                  overflow=res.overflow, copy_of=res.id, **common)
            return await self._run(promote)
        return await self._run(lambda: self._save(table, columns, prov, **common))

    async def upload(self, params: UploadParams, data: bytes) -> TableInfo:
        if len(data) > self.max_bytes:
            raise BadRequest(f"The file has {len(data)} bytes; at most {self.max_bytes} (c.EsapLab.tables_max_bytes).",
                             reason="too-large")

        def work():
            table, columns = read(data, params.format, "The uploaded file")
            return self._save(table, columns, Provenance(kind="upload", format=params.format), name=params.name,
                              project=params.project, description=params.description, replace=params.replace)

        return await self._run(work)

    def _inside_root(self, rel: str) -> Path:
        p = (self.root_dir / rel).resolve()
        if not p.is_relative_to(self.root_dir):
            raise BadRequest(f"source.path {rel!r} is outside the server's root folder; give a path inside it.",
                             reason="path-outside-root")
        if not p.is_file():
            raise BadRequest(f"source.path {rel!r}: no such file in the server's root folder.", reason="no-such-file")
        return p

    def _read_file(self, path: Path, fmt: str, label: str):
        size = path.stat().st_size
        if size > self.max_bytes:
            raise BadRequest(f"{label} has {size} bytes; at most {self.max_bytes} (c.EsapLab.tables_max_bytes).",
                             reason="too-large")
        return read(path, fmt, label)

    def _read_url(self, url: str, fmt: str):
        from ..staging import urls
        from ..staging.urls import FetchError, fetch

        host = urlparse(url).hostname or url
        check = getattr(urls, "check_url", None)
        if check is not None:
            check(url)  # the outbound policy: a refused address is a 400 naming it
        fd, tmp = tempfile.mkstemp(dir=self.tmp, suffix=SUFFIX[fmt])
        os.close(fd)

        def progress(done: int) -> None:
            if done > self.max_bytes:
                raise BadRequest(f"{url} is larger than {self.max_bytes} bytes (c.EsapLab.tables_max_bytes).",
                                 reason="too-large")

        try:
            fetch(url, tmp, size=None, checksum=None, cancelled=threading.Event(), progress=progress,
                  timeout=self.fetch_timeout)
            return read(Path(tmp), fmt, url)
        except FetchError as e:
            raise RemoteError(host, str(e), reason="fetch-failed") from e
        finally:
            Path(tmp).unlink(missing_ok=True)

    async def _from_query(self, qid: str):
        if self.queries is None:
            raise BadRequest("Query results cannot be saved here (no query manager).", reason="no-queries")
        exporter = _exporter()
        if exporter is not None:  # the archives' export service hands the stored result as Arrow
            info, table = await exporter(self.queries, None, self.root_dir, self.tmp).result(qid)
        else:  # else the stored rows, all in one page
            info = await self.queries.get(qid)
            if info.status != "completed":
                raise Conflict(f"Query {qid} has no rows to save: it is {info.status}.",
                               reason="query-not-completed")
            page = await self.queries.rows(qid, 0, max(info.row_count or 0, 1), None, "asc")
            names = [c.name for c in info.columns] or (list(page.rows[0]) if page.rows else [])
            table = await self._run(_from_rows, page.rows, names)
        prov = Provenance(kind="query", archive=info.archive, query_id=qid, request=info.request)
        return table, [Column(**c.model_dump()) for c in info.columns], prov

    async def _from_basket(self, ids: list[str]):
        if self.basket is None:
            raise BadRequest("Basket records cannot be saved here (no basket).", reason="no-basket")
        rows: list[dict] = []
        columns: dict[str, Column] = {}
        archives, queries = set(), set()
        for iid in ids:
            item = await self.basket.get(iid)
            item = getattr(item, "root", item)
            if item.kind != "record":
                raise BadRequest(f"source.items: {iid} is a {item.kind} item; only record items hold rows.",
                                 reason="not-a-record")
            rows.extend(item.rows)
            for c in item.columns or []:
                columns.setdefault(c.name, Column(**c.model_dump()))
            archives.add(item.archive)
            if item.query_id:
                queries.add(item.query_id)
        names = [n for n in columns if any(n in r for r in rows)]
        for r in rows:
            names.extend(k for k in r if k not in names)
        table = await self._run(_from_rows, rows, names)
        prov = Provenance(kind="basket", items=ids, archive=archives.pop() if len(archives) == 1 else None,
                          query_id=queries.pop() if len(queries) == 1 else None)
        return table, list(columns.values()), prov

    # -- editing --------------------------------------------------------------------------
    async def patch(self, key: str, body: PatchBody) -> TableInfo:
        changes = body.model_dump(exclude_none=True)
        info = await self.get(key)
        if "name" in changes and info.kind == "result":
            raise BadRequest("A result keeps its name; save it as a table (POST /tables, source kind result) "
                             "to name it.", reason="result-name")
        return await self._run(self.store.update, key, changes)

    async def delete(self, key: str) -> None:
        await self._run(self.store.delete, key)

    # -- SQL ------------------------------------------------------------------------------
    async def sql(self, body: SqlBody) -> TableInfo:
        running: dict[str, Any] = {}

        def interrupt():
            running["late"] = True
            if "cursor" in running:
                running["cursor"].interrupt()

        timer = asyncio.get_running_loop().call_later(self.sql_timeout, interrupt)
        try:
            return await self._run(self._sql, body, running)
        finally:
            timer.cancel()

    def _sql(self, body: SqlBody, running: dict | None = None) -> TableInfo:
        if self.store.pg is not None:
            return self._sql_pg(body)
        import duckdb

        cap = min(body.max_rows or self.max_rows, self.max_rows)
        cur = self.store.cursor()
        running = {} if running is None else running
        running["cursor"] = cur
        try:
            try:
                statements = cur.extract_statements(body.sql)
            except duckdb.Error as e:
                raise _sql_error(e) from None
            if len(statements) != 1:
                raise BadRequest(f"Give exactly one SQL statement (found {len(statements)}).", reason="sql-statements")
            kind = statements[0].type
            if kind != duckdb.StatementType.SELECT:
                raise BadRequest(f"Only a SELECT runs over your tables; {kind.name} is not allowed (tables are "
                                 f"read-only to SQL, files, databases and extensions are off).",
                                 reason="sql-forbidden")
            inputs = self._mentioned(body.sql)
            self.store.ensure_views(inputs)
            try:
                if running.get("late"):  # the deadline passed before the statement could start
                    raise duckdb.InterruptException("waited too long for a thread")
                # one row past the cap tells that there were more; materialised, the query runs
                # on every core (a streamed result does not). The cap goes around the statement's
                # own text, so DuckDB parses and binds it once (a relation's .limit() binds the
                # whole plan again: a millisecond and more on every query)
                wrapped = f"SELECT * FROM (\n{_bare(statements[0].query)}\n) LIMIT {cap + 1}"
                try:
                    table = _select_arrow(cur, wrapped)
                except duckdb.InterruptException:
                    raise
                except duckdb.Error as e:
                    try:
                        cur.sql(wrapped)  # binds, runs nothing: did the statement fail, or its rows?
                    except duckdb.Error:  # the statement: the DB-API path says where (LINE 1: ... ^)
                        try:
                            rel = cur.sql(body.sql).limit(cap + 1)  # a SELECT that cannot be a subquery
                        except duckdb.Error:
                            raise _positioned(cur, body.sql, e) from None
                        table = _arrow_table(rel)
                    else:
                        raise
                overflow = table.num_rows > cap
                if overflow:
                    table = table.slice(0, cap)
            except duckdb.InterruptException:
                raise BadRequest(f"The SQL ran longer than {self.sql_timeout:g} s (c.EsapLab.tables_sql_timeout) "
                                 f"and was stopped.", reason="sql-timeout") from None
            except duckdb.Error as e:
                raise _sql_error(e, self.store.limits) from None
        finally:
            running.pop("cursor", None)
            cur.close()
        columns = self._inherit(table.column_names, inputs)
        prov = Provenance(kind="sql", sql=body.sql, inputs=[t.name for t in inputs])
        if body.name:
            return self._save(table, columns, prov, name=body.name, overflow=overflow)
        return self._save(table, columns, prov, name=None, overflow=overflow, kind="result")

    def _sql_pg(self, body: SqlBody) -> TableInfo:
        """The same on PostgreSQL: one SELECT, read-only, in the user's schema, under the user's role."""
        import psycopg

        cap = min(body.max_rows or self.max_rows, self.max_rows)
        lead = re.match(r"(\s|--[^\n]*(\n|$)|/\*.*?\*/)*", body.sql, flags=re.DOTALL).end()
        text = _bare(body.sql[lead:])
        first = (re.match(r"[A-Za-z]+|\(", text) or [""])[0].upper()
        if first not in ("SELECT", "WITH", "VALUES", "TABLE", "("):
            raise BadRequest(f"Only a SELECT runs over your tables; {first or 'this'} is not allowed (tables are "
                             f"read-only to SQL; files, other users' tables and extensions are out of reach).",
                             reason="sql-forbidden")
        inputs = self._mentioned(body.sql)
        try:
            self.store.pg.ensure_views(inputs)
            names, rows = self.store.pg.select(text, cap + 1, self.sql_timeout)
        except psycopg.Error as e:
            raise _pg_error(e, self.sql_timeout, body.sql, lead - len(PostgresTables.PREFIX)) from None
        overflow = len(rows) > cap
        rows = rows[:cap]
        # column by column (no dict per row): twice as fast, and a name given twice stays twice
        table = _from_columns(names, list(zip(*rows, strict=True)) if rows else [[] for _ in names])
        columns = self._inherit(table.column_names, inputs)
        prov = Provenance(kind="sql", sql=body.sql, inputs=[t.name for t in inputs], params={"engine": "postgresql"})
        if body.name:
            return self._save(table, columns, prov, name=body.name, overflow=overflow)
        return self._save(table, columns, prov, name=None, overflow=overflow, kind="result")

    def _mentioned(self, sql: str) -> list[TableInfo]:
        return self.store.named({w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)})

    @staticmethod
    def _inherit(names: list[str], inputs: list[TableInfo]) -> list[Column]:
        """Column metadata of the tables an SQL statement used, for result columns of the same name
        (only when those tables agree on it)."""
        out = []
        for n in names:
            metas = {(c.unit, c.ucd, c.description) for t in inputs for c in t.columns if c.name == n}
            if len(metas) == 1:
                unit, ucd, desc = metas.pop()
                out.append(Column(name=n, unit=unit, ucd=ucd, description=desc))
            else:
                out.append(Column(name=n))
        return out

    # -- crossmatch -----------------------------------------------------------------------
    async def crossmatch(self, body: CrossmatchBody) -> TableInfo:
        return await self._run(self._crossmatch, body)

    def _crossmatch(self, body: CrossmatchBody) -> TableInfo:
        a, b = self.store.get(body.a), self.store.get(body.b)
        ra_a, dec_a = _position_columns(a, body.ra_a, body.dec_a, "a")
        ra_b, dec_b = _position_columns(b, body.ra_b, body.dec_b, "b")
        ta, tb = self.store.read_rows(a.id), self.store.read_rows(b.id)
        i, j, sep = xm.pairs(_degrees(ta, ra_a, a), _degrees(ta, dec_a, a), _degrees(tb, ra_b, b),
                             _degrees(tb, dec_b, b), body.radius / 3600.0)
        i, j, sep = xm.select(i, j, sep, body.find)
        sep = sep * 3600.0
        jj: pa.Array = pa.array(j)
        sep_arr: pa.Array = pa.array(sep)
        if body.join == "all1":
            missing = np.setdiff1d(np.arange(ta.num_rows), i)
            i = np.concatenate([i, missing])
            jj = pa.array(np.concatenate([j, np.zeros(len(missing), np.int64)]),
                          mask=np.concatenate([np.zeros(len(j), bool), np.ones(len(missing), bool)]))
            sep_arr = pa.array(np.concatenate([sep, np.full(len(missing), np.nan)]),
                               mask=np.concatenate([np.zeros(len(sep), bool), np.ones(len(missing), bool)]))
            order = np.argsort(i, kind="stable")
            i, jj, sep_arr = i[order], jj.take(pa.array(order)), sep_arr.take(pa.array(order))
        overflow = len(i) > self.max_rows
        if overflow:
            i, jj, sep_arr = i[:self.max_rows], jj.slice(0, self.max_rows), sep_arr.slice(0, self.max_rows)
        left, right = ta.take(pa.array(i)), tb.take(jj)
        both = set(ta.column_names) & set(tb.column_names)
        meta_a, meta_b = {c.name: c for c in a.columns}, {c.name: c for c in b.columns}
        arrays, columns = [], []
        for t, meta, suffix in ((left, meta_a, "_1"), (right, meta_b, "_2")):
            for n in t.column_names:
                out = n + suffix if n in both else n
                arrays.append((out, t.column(n)))
                columns.append((meta.get(n) or Column(name=n)).model_copy(update={"name": out}))
        sep_name = "separation" if "separation" not in {n for n, _ in arrays} else "separation_"
        arrays.append((sep_name, sep_arr))
        columns.append(Column(name=sep_name, unit="arcsec", ucd="pos.angDistance",
                              description="angular distance between the matched positions"))
        table = pa.table({n: arr for n, arr in arrays})
        params = {"radius": body.radius, "find": body.find, "join": body.join,
                  "ra_a": ra_a, "dec_a": dec_a, "ra_b": ra_b, "dec_b": dec_b}
        prov = Provenance(kind="crossmatch", inputs=[a.name, b.name], params=params)
        return self._save(table, columns, prov, name=body.name, overflow=overflow,
                          kind="table" if body.name else "result")


# -- helpers --------------------------------------------------------------------------------
def _exporter():
    """esap_lab.archives.export.Exporter, when this version of the archives has it."""
    try:
        from ..archives.export import Exporter
    except ImportError:
        return None
    return Exporter if hasattr(Exporter, "result") else None


def _bare(text: str) -> str:
    """A statement's text without its trailing semicolons."""
    text = text.rstrip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _positioned(cur, sql: str, error: Exception) -> Exception:
    """The same error as DuckDB's DB-API reports it, with the position in the statement (it
    fails again while binding: nothing runs)."""
    import duckdb

    try:
        cur.execute(sql)
    except duckdb.Error as e:
        return e
    return error


def _select_arrow(cur, text: str) -> pa.Table:
    """A SELECT's rows as Arrow, the statement bound once. DuckDB 2's relations (``cur.sql``)
    bind a statement to describe it, then again to run it (about a millisecond over a Parquet
    file, on every statement); its connections' own ``_submit`` runs it at once, as ``COPY`` or
    ``fetchall`` do. Another DuckDB (no such method, or another signature): the relation."""
    submit = getattr(cur, "_submit", None)
    if submit is not None:
        try:
            result = submit(text, None, "arrow", 1 << 17)
        except TypeError:
            pass
        else:
            return result.arrow_table()
    return _arrow_table(cur.sql(text))


def _arrow_table(rel) -> pa.Table:
    # a relation's rows as Arrow (DuckDB 2 renamed fetch_arrow_table to to_arrow_table)
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()


def _pg_error(e: Exception, timeout: float, sql: str = "", shift: int = 0) -> BadRequest:
    """A PostgreSQL error as a 400: its message, and where in the statement (``shift``: what to add
    to PostgreSQL's position to land in ``sql``)."""
    diag = getattr(e, "diag", None)
    state = getattr(e, "sqlstate", None) or ""
    text = (getattr(diag, "message_primary", None) or str(e)).strip()
    if state == "57014":  # query_canceled: the statement timeout
        return BadRequest(f"The SQL ran longer than {timeout:g} s (c.EsapLab.tables_sql_timeout) and was stopped.",
                          reason="sql-timeout")
    if state in ("42501", "25006", "0A000") or state.startswith("28"):  # no right, read-only, not supported
        return BadRequest(f"Not allowed: {text}. SQL reads your tables only (by name).", reason="sql-forbidden")
    pos = getattr(diag, "statement_position", None)
    at = int(pos) - 1 + shift if pos else -1
    where = ""
    if 0 <= at <= len(sql):  # as DuckDB says it: the line, and a caret under the place
        line_no = sql.count("\n", 0, at) + 1
        start = sql.rfind("\n", 0, at) + 1
        end = sql.find("\n", at)
        line = sql[start:end if end >= 0 else len(sql)]
        prefix = f"LINE {line_no}: "
        where = f"\n\n{prefix}{line}\n{' ' * (len(prefix) + at - start)}^"
    return BadRequest(f"SQL error: {text}{where}", reason="sql-error")


def _sql_error(e: Exception, limits: dict | None = None) -> BadRequest:
    """``limits``: the DuckDB settings in force (TableStore.limits), named when they were outgrown."""
    import duckdb

    text = str(e).strip()
    if isinstance(e, duckdb.PermissionException):
        return BadRequest(f"Not allowed: {text}. SQL reads your tables only (by name).", reason="sql-forbidden")
    if isinstance(e, duckdb.OutOfMemoryException):
        limits = limits or {}
        memory = limits.get("memory_limit", "DuckDB's default")
        spill = limits.get("max_temp_directory_size", "none")
        return BadRequest(f"The SQL needs more room than it may have: memory {memory} "
                          f"(c.EsapLab.tables_memory_limit), then disk {spill} "
                          f"(c.EsapLab.tables_spill_limit). Select fewer rows or columns, or aggregate first. "
                          f"({text.splitlines()[0][:300]})", reason="sql-too-large")
    return BadRequest(f"SQL error: {text}", reason="sql-error")


def _from_rows(rows: list[dict], names: list[str]) -> pa.Table:
    """Rows (dicts) as an Arrow table; a column of mixed types becomes text."""
    return _from_columns(names, [[r.get(n) for r in rows] for n in names])


def _from_columns(names: list[str], columns) -> pa.Table:
    """Columns of Python values as an Arrow table; a column of mixed types becomes text."""
    arrays = []
    for values in columns:
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(arrays, names=names)


def _unique_names(table: pa.Table) -> pa.Table:
    seen: dict[str, int] = {}
    names = []
    for n in table.column_names:
        n = n or "col"
        k = n.lower()
        if k in seen:
            seen[k] += 1
            n = f"{n}_{seen[k]}"
        else:
            seen[k] = 1
        names.append(n)
    return table.rename_columns(names) if names != table.column_names else table


_RA = ("ra", "raj2000", "_raj2000", "ra_icrs", "s_ra", "radeg", "ra_deg", "alpha", "ra2000")
_DEC = ("dec", "dej2000", "_dej2000", "decj2000", "de_icrs", "dec_icrs", "s_dec", "dedeg", "dec_deg", "delta",
        "de2000", "dec2000")


def _position_columns(t: TableInfo, ra: str | None, dec: str | None, which: str) -> tuple[str, str]:
    names = {c.name for c in t.columns}

    def pick(given: str | None, ucd: str, known: tuple[str, ...], what: str, field: str) -> str:
        if given is not None:
            if given not in names:
                raise BadRequest(f"{field}: table {t.name!r} has no column {given!r}. "
                                 f"Columns: {', '.join(sorted(names))}", reason="unknown-column")
            return given
        for want in (ucd + ";meta.main", ucd):
            for c in t.columns:
                if (c.ucd or "").lower() == want:
                    return c.name
        lower = {c.name.lower(): c.name for c in t.columns}
        for k in known:
            if k in lower:
                return lower[k]
        raise BadRequest(f"{field}: no column of {t.name!r} looks like a {what}; name it.", reason="no-position")

    return (pick(ra, "pos.eq.ra", _RA, "right ascension", f"ra_{which}"),
            pick(dec, "pos.eq.dec", _DEC, "declination", f"dec_{which}"))


def _degrees(table: pa.Table, name: str, info: TableInfo) -> np.ndarray:
    col = table.column(name)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type)):
        raise BadRequest(f"Column {name!r} of {info.name!r} is not numeric ({col.type}); positions are degrees.",
                         reason="not-numeric")
    values = col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    unit = next((c.unit for c in info.columns if c.name == name), None)
    if unit in ("rad", "radian", "radians"):
        values = np.degrees(values)
    return values


def _json_rows(part: pa.Table) -> list[dict]:
    rows = part.to_pylist()
    singles = [f.name for f in part.schema if pa.types.is_float32(f.type)]
    blobs = [f.name for f in part.schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    for row in rows:
        for name in singles:  # float32 as written (14.326), not its double expansion
            v = row[name]
            if v is not None:
                row[name] = float(str(np.float32(v)))
        for name in blobs:
            v = row[name]
            if v is not None:
                row[name] = v.decode("utf-8", "replace")
    return rows
