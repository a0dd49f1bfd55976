"""Archives from a notebook: the same REST door as the UI (esap_lab.client), no pyvo needed.

    from esap_lab import archives

    archives.tables("gavo")                          # its schemas (TableList)
    archives.tables("gavo", schema="ivoa")           # the tables of one schema; q= filters, paged
    archives.table("gavo", "ivoa.obscore").columns   # columns with unit, UCD, description
    archives.examples("gavo")                        # [Example(name, query), ...]
    s = archives.search_many(["gavo", "vizier"], kind="cone", ra=10.68, dec=41.27, radius=0.1)
    for e in s.archives:
        print(e.archive, e.status, e.row_count, e.message)   # rows: GET queries/{e.query_id}/rows
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["examples", "search_many", "table", "tables"]


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
