"""The schema browser and TAP examples of an archive: its VOSI /tables and DALI /examples.

A service with tens of thousands of tables answers its whole tableset slowly, so the browser
loads lazily: first the names of every schema and table (VOSI 1.1 ``/tables?detail=min``, one
request, cached per archive for ``ttl`` seconds), then the columns of one table when asked
(``/tables/<name>``, cached too). The names are also kept on disk (``cache_dir``): after a
restart, or once ``ttl`` has passed, the list kept is answered at once while it is read again
from the service in the background (a service that takes seconds to list its tables makes the
user wait once, not at every restart). A service that ignores ``detail=min`` sends its columns at once;
they are kept. The filter (``q``) runs here, over the cached names, so the browser never
receives more than a page.

Every request goes through the archive's own outbound session (its deadline, auth and the
server's outbound policy) in the archive's own threads (esap_lab.executors).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin

from .. import executors
from ..errors import BadRequest, EsapError, NotFound, RemoteError
from .models import Example, ExampleList, SchemaEntry, TableColumn, TableDetail, TableEntry, TableList
from .queries import RESULTS, archive_service
from .registry import ArchiveRegistry

MAX_EXAMPLE_PAGES = 5  # DALI examples may continue on other pages
DISK_FORMAT = 1  # of the table lists kept on disk (another: read again from the service)
log = logging.getLogger("esap_lab.schema")
CACHE = RESULTS  # the executor of local files (the lists kept on disk)


@dataclass
class _Table:
    name: str
    schema: str
    title: str | None
    description: str | None
    type: str | None
    nrows: int | None
    columns: list[TableColumn] | None  # None: not loaded yet (detail=min)
    text: str = ""  # what q is matched against (lower case)

    def entry(self) -> TableEntry:
        return TableEntry(name=self.name, schema_=self.schema, title=self.title, description=self.description,
                          type=self.type, nrows=self.nrows)


@dataclass
class _Schema:
    name: str
    title: str | None
    description: str | None
    tables: list[_Table] = field(default_factory=list)
    text: str = ""


@dataclass
class _TableSet:
    loaded: float  # when it was read from the service (time.time())
    schemas: dict[str, _Schema]  # lower-case name -> schema
    tables: dict[str, _Table]  # lower-case name -> table
    url: str = ""  # the TAP service it was read from

    @classmethod
    def of(cls, schemas: list[_Schema], url: str, loaded: float | None = None) -> _TableSet:
        by_schema: dict[str, _Schema] = {}
        tables: dict[str, _Table] = {}
        for sch in schemas:
            by_schema.setdefault(sch.name.lower(), sch)
            for tab in sch.tables:
                tables.setdefault(tab.name.lower(), tab)
        return cls(loaded=time.time() if loaded is None else loaded, schemas=by_schema, tables=tables, url=url)

    def dump(self) -> dict:
        """What is kept on disk: the names and descriptions (columns where the service sent them)."""
        def table(t: _Table) -> dict:
            d = {"name": t.name, "title": t.title, "description": t.description, "type": t.type, "nrows": t.nrows}
            if t.columns is not None:
                d["columns"] = [c.model_dump() for c in t.columns]
            return d

        return {"format": DISK_FORMAT, "url": self.url, "loaded": self.loaded,
                "schemas": [{"name": s.name, "title": s.title, "description": s.description,
                             "tables": [table(t) for t in s.tables]} for s in self.schemas.values()]}

    @classmethod
    def load(cls, doc: dict) -> _TableSet:
        schemas = []
        for s in doc["schemas"]:
            sch = _Schema(name=s["name"], title=s["title"], description=s["description"])
            sch.text = " ".join(x for x in (sch.name, sch.title, sch.description) if x).lower()
            for t in s["tables"]:
                cols = t.get("columns")
                tab = _Table(name=t["name"], schema=sch.name, title=t["title"], description=t["description"],
                             type=t["type"], nrows=t["nrows"],
                             columns=[TableColumn(**c) for c in cols] if cols is not None else None)
                tab.text = " ".join(x for x in (tab.name, tab.title, tab.description) if x).lower()
                sch.tables.append(tab)
            schemas.append(sch)
        return cls.of(schemas, doc["url"], doc["loaded"])


def _text(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _local(tag) -> str:
    return tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""


def _children(el) -> tuple[dict, list, set]:
    """An element's children by local name (the first of each), its columns and its flags, in
    one pass (thousands of tables: this loop is the parse)."""
    first: dict = {}
    columns: list = []
    flags: set = set()
    for c in el:
        name = _local(c.tag)
        if name == "column":
            columns.append(c)
        elif name == "flag":
            flags.add((c.text or "").strip().lower())
        elif name not in first:
            first[name] = c
    return first, columns, flags


def _value(first: dict, name: str) -> str | None:
    c = first.get(name)
    if c is None:
        return None
    return _text(c.text if len(c) == 0 else "".join(c.itertext()))


def _column(el) -> TableColumn:
    first, _, flags = _children(el)
    dt = first.get("dataType")
    return TableColumn(name=_value(first, "name") or "", datatype=_text(dt.text) if dt is not None else None,
                       arraysize=_text(dt.get("arraysize")) if dt is not None else None,
                       unit=_value(first, "unit"), ucd=_value(first, "ucd"), utype=_value(first, "utype"),
                       description=_value(first, "description"), indexed="indexed" in flags,
                       principal="principal" in flags)


def _table(el, schema: str) -> _Table:
    first, columns, _ = _children(el)
    nrows = _value(first, "nrows")
    tab = _Table(name=_value(first, "name") or "", schema=schema, title=_value(first, "title"),
                 description=_value(first, "description"), type=_text(el.get("type")),
                 nrows=int(nrows) if nrows and nrows.isdigit() else None,
                 columns=[_column(c) for c in columns] or None)
    tab.text = " ".join(x for x in (tab.name, tab.title, tab.description) if x).lower()
    return tab


def parse_tables(content: bytes) -> list[_Schema]:
    """The schemas and tables of a VOSI tables document (a tableset, or one table).

    Not pyvo's parser: on a tableset of 5,000 tables it takes about 2 s where ElementTree takes
    0.1 s, and the browser's first answer must come within a second."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as e:
        raise ValueError(f"its VOSI tables document is not XML ({e})") from None
    if _local(root.tag) == "table":
        tab = _table(root, "")
        tab.schema = tab.name.rsplit(".", 1)[0] if "." in tab.name else ""
        return [_Schema(name=tab.schema, title=None, description=None, tables=[tab])]
    if _local(root.tag) != "tableset":
        raise ValueError(f"it answered a {_local(root.tag)!r} document, not a VOSI tableset")
    schemas = []
    for el in root:
        if _local(el.tag) != "schema":
            continue
        first, _, _ = _children(el)
        sch = _Schema(name=_value(first, "name") or "", title=_value(first, "title"),
                      description=_value(first, "description"))
        sch.text = " ".join(x for x in (sch.name, sch.title, sch.description) if x).lower()
        sch.tables = [_table(t, sch.name) for t in el if _local(t.tag) == "table"]
        schemas.append(sch)
    return schemas


class SchemaBrowser:
    """What an archive's TAP service holds (schemas, tables, columns) and its query examples."""

    def __init__(self, registry: ArchiveRegistry, ttl: float = 300.0, cache_dir: str | os.PathLike | None = None):
        self.registry = registry
        self.ttl = ttl
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._sets: dict[str, _TableSet] = {}
        self._refreshing: dict[str, asyncio.Task] = {}
        self._examples: dict[str, tuple[float, list[Example]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def _tap(self, archive_id: str):
        archive = self.registry.get(archive_id)
        url = getattr(archive, "services", {}).get("tap")
        if not url or not hasattr(archive, "session"):
            raise BadRequest(f"Archive {archive.cfg.title!r} has no TAP service, so no tables or examples to "
                             "show.", reason="no-tap-service")
        return archive, url.rstrip("/")

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _call(self, archive, fn, *args):
        """``fn(session, *args)`` in the archive's threads, through its outbound session."""
        def work():
            session = archive.session()
            try:
                return fn(session, *args)
            except EsapError:
                raise
            except Exception as e:  # unreachable, too slow, unreadable: a 502/504 naming the archive
                raise archive.error(e, session) from e
            finally:
                session.close()

        try:  # the session's deadline bounds each request; this bounds waiting for a free thread too
            return await executors.run(archive_service(archive.cfg.id), work, timeout=archive.timeout * 3 + 5)
        except TimeoutError:
            from ..errors import RemoteTimeout

            raise RemoteTimeout(archive.cfg.title, f"{archive.cfg.title} timed out: no complete answer "
                                                   f"within {archive.timeout * 3 + 5:g} s.") from None

    # -- the tableset ---------------------------------------------------------------------
    def _fetch_tableset(self, session, url: str, title: str) -> _TableSet:
        r = session.get(url + "/tables", params={"detail": "min"})
        if r.status_code >= 400:
            raise RemoteError(title, f"{title} has no readable table list (VOSI /tables answered HTTP "
                                     f"{r.status_code}).", reason="remote-error")
        return _TableSet.of(parse_tables(r.content), url)

    # the lists kept on disk: one file per archive and service URL, written whole, then renamed
    def _disk_path(self, archive_id: str, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{archive_id}\0{url}".encode()).hexdigest()[:24]
        return self.cache_dir / f"tables-{key}.json"

    def _read_disk(self, archive_id: str, url: str) -> _TableSet | None:
        path = self._disk_path(archive_id, url)
        if path is None or not path.exists():
            return None
        try:
            doc = json.loads(path.read_bytes())
            if doc.get("format") != DISK_FORMAT or doc.get("url") != url:
                return None
            return _TableSet.load(doc)
        except (OSError, ValueError, KeyError, TypeError) as e:  # unreadable: read from the service again
            log.warning("table list of %s kept on disk unreadable (%s): reading it again", archive_id, e)
            return None

    def _write_disk(self, archive_id: str, ts: _TableSet) -> None:
        path = self._disk_path(archive_id, ts.url)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_text(json.dumps(ts.dump(), separators=(",", ":")))
            os.replace(tmp, path)
        except OSError as e:  # a full or read-only disk: the list stays in memory only
            log.warning("could not keep the table list of %s on disk: %s", archive_id, e)

    async def _load(self, archive, archive_id: str, url: str) -> _TableSet:
        ts = await self._call(archive, self._fetch_tableset, url, archive.cfg.title)
        self._sets[archive_id] = ts
        await executors.run(CACHE, self._write_disk, archive_id, ts)
        return ts

    def _refresh_soon(self, archive, archive_id: str, url: str) -> None:
        """Read a stale list again in the background (one at a time per archive); meanwhile, and
        if that fails, the stale one is answered."""
        task = self._refreshing.get(archive_id)
        if task is not None and not task.done():
            return

        async def refresh():
            try:
                async with self._lock(archive_id):
                    await self._load(archive, archive_id, url)
            except EsapError as e:
                log.info("table list of %s not refreshed: %s", archive_id, e.message)
            except Exception:  # noqa: BLE001 - a background refresh never fails a request
                log.exception("table list of %s not refreshed", archive_id)
            finally:
                self._refreshing.pop(archive_id, None)

        self._refreshing[archive_id] = asyncio.get_running_loop().create_task(refresh())

    async def _tableset(self, archive_id: str) -> tuple[object, str, _TableSet]:
        archive, url = self._tap(archive_id)
        hit = self._sets.get(archive_id)
        if hit is None or hit.url != url:
            async with self._lock(archive_id):  # one load at a time per archive; the others use it
                hit = self._sets.get(archive_id)
                if hit is None or hit.url != url:
                    hit = await executors.run(CACHE, self._read_disk, archive_id, url)
                    if hit is None:
                        return archive, url, await self._load(archive, archive_id, url)
                    self._sets[archive_id] = hit
        if time.time() - hit.loaded >= self.ttl:
            self._refresh_soon(archive, archive_id, url)
        return archive, url, hit

    async def tables(self, archive_id: str, schema: str | None = None, q: str | None = None,
                     offset: int = 0, limit: int = 200) -> TableList:
        """Without ``schema``: the schemas (those with a match for ``q``, and with ``q`` the
        matching tables of all of them); with it: that schema's (matching) tables, one page."""
        _, _, ts = await self._tableset(archive_id)
        needle = (q or "").strip().lower()
        if schema is not None:
            sch = ts.schemas.get(schema.lower())
            if sch is None:
                raise NotFound(f"Archive {archive_id!r} has no schema {schema!r}.", reason="unknown-schema")
            matched = [t for t in sch.tables if needle in t.text] if needle else sch.tables
            entry = SchemaEntry(name=sch.name, title=sch.title, description=sch.description,
                                table_count=len(matched))
            return TableList(archive=archive_id, schema_=sch.name, q=q, schemas=[entry],
                             tables=[t.entry() for t in matched[offset:offset + limit]], total=len(matched),
                             offset=offset, limit=limit)
        if not needle:
            entries = [SchemaEntry(name=s.name, title=s.title, description=s.description,
                                   table_count=len(s.tables)) for s in ts.schemas.values()]
            return TableList(archive=archive_id, q=q, schemas=entries[offset:offset + limit], tables=[],
                             total=len(entries), offset=offset, limit=limit)
        entries, matched = [], []
        for s in ts.schemas.values():
            hits = [t for t in s.tables if needle in t.text]
            if hits or needle in s.text:
                entries.append(SchemaEntry(name=s.name, title=s.title, description=s.description,
                                           table_count=len(hits)))
                matched += hits
        return TableList(archive=archive_id, q=q, schemas=entries, tables=[t.entry() for t in
                                                                          matched[offset:offset + limit]],
                         total=len(matched), offset=offset, limit=limit)

    def _fetch_columns(self, session, url: str, name: str) -> list[TableColumn] | None:
        """The columns of one table (VOSI 1.1 /tables/<name>); None when the service has no such
        endpoint (VOSI 1.0: the whole tableset is then read once, with its columns)."""
        r = session.get(url + "/tables/" + quote(name, safe=""))
        if r.status_code in (404, 400, 405, 501):
            return None
        if r.status_code >= 400:
            raise RemoteError(session.service, f"{session.service} did not describe table {name} (HTTP "
                                               f"{r.status_code}).")
        found = [t for sch in parse_tables(r.content) for t in sch.tables]
        return (found[0].columns or []) if found else []

    def _fetch_full(self, session, url: str) -> dict[str, list[TableColumn]]:
        r = session.get(url + "/tables")
        if r.status_code >= 400:
            raise RemoteError(session.service, f"{session.service} has no readable table list (HTTP "
                                               f"{r.status_code}).")
        return {t.name.lower(): t.columns or [] for sch in parse_tables(r.content) for t in sch.tables}

    async def table(self, archive_id: str, name: str) -> TableDetail:
        """One table with its columns (unit, UCD, description, datatype)."""
        archive, url, ts = await self._tableset(archive_id)
        tab = ts.tables.get(name.lower())
        if tab is None:
            raise NotFound(f"Archive {archive_id!r} has no table {name!r} (its TAP service lists "
                           f"{len(ts.tables)} tables; names are schema-qualified, e.g. schema.table).",
                           reason="unknown-table")
        if tab.columns is None:
            async with self._lock(f"{archive_id}\0{tab.name}"):
                if tab.columns is None:
                    cols = await self._call(archive, self._fetch_columns, url, tab.name)
                    if cols is None:
                        full = await self._call(archive, self._fetch_full, url)
                        for key, columns in full.items():
                            if key in ts.tables and ts.tables[key].columns is None:
                                ts.tables[key].columns = columns
                        cols = full.get(tab.name.lower(), [])
                    tab.columns = cols
        return TableDetail(archive=archive_id, columns=tab.columns or [], **tab.entry().model_dump(by_alias=True))

    # -- examples -------------------------------------------------------------------------
    def _fetch_examples(self, session, url: str) -> list[Example]:
        examples: list[Example] = []
        pages, seen = [url + "/examples"], set()
        while pages and len(seen) < MAX_EXAMPLE_PAGES:
            page = pages.pop(0)
            if page in seen:
                continue
            seen.add(page)
            r = session.get(page)
            if r.status_code == 404:
                continue  # no examples (or a continuation that is gone)
            if r.status_code >= 400:
                raise RemoteError(session.service, f"{session.service} did not give its examples (HTTP "
                                                   f"{r.status_code}).")
            found, more = parse_examples(r.content)
            examples += found
            pages += [urljoin(page, href) for href in more]
        return examples

    async def examples(self, archive_id: str) -> ExampleList:
        """The service's TAP examples (DALI /examples) as name and ADQL; none: an empty list."""
        archive, url = self._tap(archive_id)
        hit = self._examples.get(archive_id)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            found = await self._call(archive, self._fetch_examples, url)
            hit = self._examples[archive_id] = (time.monotonic(), found)
        return ExampleList(archive=archive_id, examples=hit[1])


def _props(el, name: str) -> list:
    return [e for e in el.iter() if name in (e.get("property") or "").split()]


def parse_examples(content: bytes) -> tuple[list[Example], list[str]]:
    """The examples of a DALI examples document (XHTML with RDFa: elements ``typeof="example"``
    holding ``property="name"`` and ``property="query"``) and its continuation links."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return [], []  # not XHTML (an HTML page instead of examples): none to offer
    examples: list[Example] = []
    containers = [e for e in root.iter() if "example" in (e.get("typeof") or "").split()]
    for n, ex in enumerate(containers, 1):
        queries = _props(ex, "query")
        if not queries:
            continue
        names = _props(ex, "name")
        name = _text("".join(names[0].itertext())) if names else None
        query = "".join(queries[0].itertext()).strip()
        if query:
            examples.append(Example(name=name or ex.get("id") or f"Example {n}", query=query))
    if not containers:  # queries without their containers: numbered
        for n, q in enumerate(_props(root, "query"), 1):
            query = "".join(q.itertext()).strip()
            if query:
                examples.append(Example(name=f"Example {n}", query=query))
    more = [e.get("href") for e in _props(root, "continuation") if e.get("href")]
    return examples, more
