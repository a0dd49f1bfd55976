"""Archives from a notebook: the same REST door as the UI (esap_lab.client), no pyvo needed.

    from esap_lab import archives

    archives.tables("gavo")                          # its schemas (TableList)
    archives.tables("gavo", schema="ivoa")           # the tables of one schema; q= filters, paged
    archives.table("gavo", "ivoa.obscore").columns   # columns with unit, UCD, description
    archives.examples("gavo")                        # [Example(name, query), ...]
    s = archives.search_many(["gavo", "vizier"], kind="cone", ra=10.68, dec=41.27, radius=0.1)
    for e in s.archives:
        print(e.archive, e.status, e.row_count, e.message)   # rows: GET queries/{e.query_id}/rows

    # ADQL with a table uploaded (TAP_UPLOAD): one of my tables, a stored result, basket records
    t = archives.query("gavo", "SELECT ... FROM TAP_UPLOAD.mine AS m JOIN ...",
                       uploads={"mine": {"table": "stars"}})          # an astropy Table
    archives.query("gavo", adql, uploads={"mine": {"query": query_id, "columns": ["ra", "dec"]}})
    archives.query("gavo", adql, uploads={"mine": {"basket": [item_id, ...]}})
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["examples", "query", "result", "search_many", "table", "tables"]


def _client():
    from ..client import client

    return client()


def tables(archive: str, schema: str | None = None, *, q: str | None = None, offset: int = 0,
           limit: int = 200):
    """Without ``schema``: the archive's schemas; with it, that schema's tables (one page).
    ``q`` keeps the names, titles and descriptions that contain it."""
    from .models import TableList

    data = _client().get("archives", archive, "tables",
                         params={"schema": schema, "q": q, "offset": offset, "limit": limit})
    return TableList.model_validate(data)


def table(archive: str, name: str):
    """One table of the archive with its columns (datatype, unit, UCD, description)."""
    from .models import TableDetail

    return TableDetail.model_validate(_client().get("archives", archive, "tables", name))


def examples(archive: str) -> list:
    """The archive's TAP examples (DALI), each with a name and its ADQL."""
    from .models import ExampleList

    return ExampleList.model_validate(_client().get("archives", archive, "examples")).examples


def search_many(archives: list[str], request: dict[str, Any] | None = None, *, wait: float = 60.0,
                **fields: Any):
    """Send one request (``kind`` cone, sia, ssa or tap and its fields, as a dict or keywords) to
    every archive at once; wait up to ``wait`` seconds for all and return the SearchInfo: each
    archive's query id, status, row count and error (a dead archive fails only itself)."""
    from .models import SearchInfo

    c = _client()
    body = {"request": {**(request or {}), **fields}, "archives": list(archives)}
    deadline = time.monotonic() + wait
    info = SearchInfo.model_validate(c.post("searches", json=body, params={"wait": min(wait, 30.0)}))
    while info.status != "completed" and time.monotonic() < deadline:
        time.sleep(0.5)
        info = SearchInfo.model_validate(c.get("searches", info.id))
    return info


def query(archive: str, adql: str, *, uploads: dict[str, Any] | None = None, maxrec: int | None = None,
          run_async: bool | None = None, wait: float = 300.0):
    """Run ADQL on the archive's TAP service, through this session's server, and return its rows
    (an astropy Table; ``table.meta["esap_query"]`` is the QueryInfo). ``uploads``: TAP_UPLOAD
    name -> {"table": name} | {"query": id} | {"basket": [item ids]} (optionally "columns": [...]);
    a QueryInfo stands for {"query": its id}. Raises the server's error (a 400 names the field)."""
    from .models import QueryInfo

    c = _client()
    body: dict[str, Any] = {"kind": "tap", "query": adql}
    if uploads:
        body["uploads"] = {name: {"query": src.id} if isinstance(src, QueryInfo) else dict(src)
                           for name, src in uploads.items()}
    if maxrec is not None:
        body["maxrec"] = maxrec
    if run_async is not None:
        body["async"] = run_async
    deadline = time.monotonic() + wait
    info = QueryInfo.model_validate(c.post("archives", archive, "queries", json=body,
                                           params={"wait": min(wait, 60.0)}, timeout=min(wait, 60.0) + 60))
    delay = 0.2
    while info.status in ("queued", "running"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Query {info.id} on {archive} still runs after {wait:g} s; "
                               f"archives.result({info.id!r}) gives its rows once it has ended.")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
        info = QueryInfo.model_validate(c.get("queries", info.id))
    return result(info.id, info)


def result(query_id: str, info=None):
    """The stored rows of a completed query as an astropy Table (columns with their units)."""
    from astropy.table import MaskedColumn, Table

    from ..client import ServerError
    from .models import QueryInfo

    c = _client()
    info = info or QueryInfo.model_validate(c.get("queries", query_id))
    if info.status != "completed":
        raise ServerError(info.message or f"Query {query_id} is {info.status}.", status=409,
                          reason=info.reason or "query-not-completed", service=info.service)
    rows: list[dict] = []
    while True:
        page = c.get("queries", query_id, "rows", params={"offset": len(rows), "limit": 5000})
        rows.extend(page["rows"])
        if not page["rows"] or len(rows) >= page["total"]:
            break
    cols = []
    for col in info.columns:
        values = [r.get(col.name) for r in rows]
        mask = [v is None for v in values]
        present = next((v for v in values if v is not None), None)
        fill = "" if isinstance(present, str) else (0 if present is not None else None)
        data = [fill if v is None else v for v in values]
        mc = MaskedColumn(data=data, name=col.name, mask=mask if any(mask) else None,
                          description=col.description)
        if col.unit:
            try:
                mc.unit = col.unit
            except ValueError:  # a unit astropy does not parse: kept as text
                mc.meta["unit"] = col.unit
        if col.ucd:
            mc.meta["ucd"] = col.ucd
        cols.append(mc)
    table = Table(cols, masked=True)
    table.meta["esap_query"] = info
    return table
