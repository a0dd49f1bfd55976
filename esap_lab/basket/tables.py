"""Basket items as astropy Tables (imported only when ``item.to_table()`` is called)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
from astropy.table import MaskedColumn, Table

from .models import ColumnMeta

if TYPE_CHECKING:
    import pyarrow as pa

    from .models import QueryItem


def _column(name: str, values: list, meta: ColumnMeta | None) -> MaskedColumn:
    mask = np.array([v is None for v in values], dtype=bool)
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        fill, dtype = False, bool
    elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        fill, dtype = 0, np.int64
    elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        fill, dtype = np.nan, np.float64
    elif present and all(isinstance(v, str) for v in present):
        fill, dtype = "", str
    else:
        fill, dtype = None, object
    data = np.array([fill if v is None else v for v in values], dtype=dtype) if dtype is not object \
        else np.array(values, dtype=object)
    col = MaskedColumn(data=data, name=name, mask=mask if mask.any() else None)
    if meta is not None:
        if meta.unit:
            try:
                col.unit = meta.unit
            except ValueError:  # a unit astropy does not parse: keep it as text
                col.meta["unit"] = meta.unit
        col.description = meta.description
        if meta.ucd:
            col.meta["ucd"] = meta.ucd
    return col


def rows_table(rows: list[dict], columns: list[ColumnMeta] | None = None) -> Table:
    """Rows (dicts) as a Table; missing values are masked; columns in the order given by
    ``columns`` when known, else in the order they first appear."""
    meta = {c.name: c for c in columns or []}
    names: list[str] = [c.name for c in columns or [] if any(c.name in r for r in rows)]
    for r in rows:
        names.extend(k for k in r if k not in names)
    return Table([_column(n, [r.get(n) for r in rows], meta.get(n)) for n in names], masked=True)


def arrow_table(table: pa.Table, columns: list[ColumnMeta] | None = None) -> Table:
    """An Arrow table (a stored query result) as an astropy Table; nulls are masked."""
    import pyarrow as pa

    meta = {c.name: c for c in columns or []}
    cols = []
    for name in table.column_names:
        arr = table.column(name)
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_boolean(arr.type):
            mask = arr.is_null().to_numpy(zero_copy_only=False)
            fill = False if pa.types.is_boolean(arr.type) else 0
            data = arr.fill_null(fill).to_numpy(zero_copy_only=False) if mask.any() else arr.to_numpy(
                zero_copy_only=False)
            col = _column(name, [None], meta.get(name))  # carries unit/description
            col = MaskedColumn(data=data, name=name, mask=mask if mask.any() else None, unit=col.unit,
                               description=col.description, meta=col.meta)
        else:
            col = _column(name, arr.to_pylist(), meta.get(name))
        cols.append(col)
    return Table(cols, masked=True)


def query_table(item: QueryItem, timeout: float = 60.0) -> Table:
    """The rows of a query item: the server's stored result if still there, else the query run
    again (by the server when it knows the archive, so its credentials stay there)."""
    from ..client import NotFoundError, client

    c = client()
    if item.query_id:
        try:
            return _stored_result(c, item.query_id)
        except NotFoundError:
            pass  # forgotten: run it again
    return rerun(item, timeout)


_PAGE = 5000  # the largest page GET /queries/{q}/rows gives


def _stored_result(c, qid: str) -> Table:
    info = c.get("queries", qid)
    columns = [ColumnMeta(**col) for col in info.get("columns") or []]
    rows: list[dict] = []
    while True:
        page = c.get("queries", qid, "rows", params={"offset": len(rows), "limit": _PAGE})
        rows.extend(page["rows"])
        if not page["rows"] or len(rows) >= page["total"]:
            break
    if not rows:
        return Table([MaskedColumn(name=col.name, data=[]) for col in columns], masked=True)
    return rows_table(rows, columns)


def rerun(item: QueryItem, timeout: float = 60.0) -> Table:
    """Run the item's query again and return the rows: on this session's server when it has the
    item's archive (its credentials stay there), else here on the public services the item names."""
    from ..client import NotFoundError, client

    c = client()
    try:
        info = c.post("archives", item.archive, "queries", json=item.request,
                      params={"wait": min(timeout, 60.0)}, timeout=timeout + 30)
    except NotFoundError as e:
        if e.reason not in ("unknown-archive", "not-found"):
            raise
    else:
        info = _finished(c, info, timeout)
        return _stored_result(c, info["id"])
    return _rerun_here(item, timeout)


def _finished(c, info: dict, timeout: float) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while info["status"] not in ("completed", "error", "cancelled"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"The query {info['id']} on {info['archive']} is still {info['status']} "
                               f"after {timeout:g} s.")
        time.sleep(0.5)
        info = c.get("queries", info["id"])
    if info["status"] != "completed":
        from ..errors import EsapError

        raise EsapError(info.get("message") or f"The query {info['id']} ended {info['status']}.",
                        reason=info.get("reason") or info["status"])
    return info


def _rerun_here(item: QueryItem, timeout: float) -> Table:
    from ..archives.config import DEFAULT_ARCHIVES, ArchiveConfig
    from ..archives.ivoa import IvoaArchive
    from ..errors import BadRequest
    from .models import _query_request_adapter

    if item.services:
        cfg = ArchiveConfig(id=item.archive, title=item.archive, **item.services)
    else:
        known = {a["id"]: a for a in DEFAULT_ARCHIVES}
        if item.archive not in known:
            raise BadRequest(f"Cannot run the query again: the basket item does not say where archive "
                             f"{item.archive!r} is, and its stored result is gone.", reason="archive-unknown")
        cfg = ArchiveConfig(**known[item.archive])
    request = _query_request_adapter().validate_python(item.request)
    result = IvoaArchive(cfg, timeout).run(request, remote=None, on_remote=lambda _url: None,
                                          cancelled=threading.Event())
    return arrow_table(result.table, [ColumnMeta(**c.model_dump()) for c in result.columns])
