"""Query results on disk: one Arrow IPC file per query, memory-mapped, paged and sorted here.

A result is written once (to a temporary name, then renamed, so a crash never leaves a
half-written file under the final name) and then only read. Pages are cut from the memory map,
so the server holds one page plus, for a sorted view, an index of row numbers.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import executors
from ..errors import BadRequest, Conflict, NotFound
from .models import Column


@dataclass
class ResultTable:
    """What an adapter returns: the rows (a table, or record batches streamed from the archive)
    and what is known of their columns. For a stream, ``row_count`` and ``overflow`` are known
    once it has been consumed (ResultStore.write does that)."""

    columns: list[Column]
    table: pa.Table | None = None
    batches: Iterator[pa.RecordBatch] | None = None
    overflow: bool = False
    access_url_column: str | None = None
    row_count: int = 0
    extra: dict = field(default_factory=dict)


def astropy_to_arrow(table) -> pa.Table:
    """An astropy Table (masked or not) as an Arrow table; masked values become nulls."""
    arrays, names = [], []
    for name in table.colnames:
        col = table[name]
        data = np.asarray(col)
        mask = np.ma.getmaskarray(col) if hasattr(col, "mask") else None
        if data.dtype.kind == "O" or data.ndim > 1:
            # one vectorised mask per row, then plain Python values (cells may be bytes/arrays)
            row_masked = (mask.reshape(len(mask), -1).any(axis=1) if mask is not None and len(mask)
                          else np.zeros(len(data), bool)).tolist()
            values = data.tolist()
            arr = pa.array([None if m else _plain(v) for v, m in zip(values, row_masked, strict=True)])
        elif data.dtype.kind in "SU":
            arr = pa.array(data.astype(str), mask=mask)
        elif data.dtype.kind == "M":
            arr = pa.array(data, mask=mask)
        else:
            arr = pa.array(data, mask=mask if mask is not None and mask.any() else None)
        arrays.append(arr)
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def _plain(v):
    if v is None or isinstance(v, int | float | str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


class ResultStore:
    """Writes and pages the per-query result files under ``directory``."""

    def __init__(self, directory: str | os.PathLike, cache_size: int = 16):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._orders: OrderedDict[tuple, pa.Array] = OrderedDict()
        self._cache_size = cache_size

    def path(self, qid: str) -> Path:
        return self.directory / f"{qid}.arrow"

    def write(self, qid: str, result: ResultTable, cancelled: threading.Event | None = None) -> int:
        """Store the rows of ``result`` (consuming its stream, if any); returns the row count."""
        final = self.path(qid)
        tmp = final.with_suffix(".arrow.part")
        try:
            if result.table is not None:
                with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, result.table.schema) as w:
                    w.write_table(result.table, max_chunksize=65536)
                result.row_count = result.table.num_rows
            else:
                first = next(result.batches, None)
                if first is None:
                    raise ValueError("a result stream gave no schema")
                with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, first.schema) as w:
                    w.write_batch(first)
                    for batch in result.batches:
                        if cancelled is not None and cancelled.is_set():
                            raise InterruptedError("cancelled")
                        w.write_batch(batch)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return result.row_count

    def read(self, qid: str) -> pa.Table:
        """The whole stored result (memory-mapped)."""
        return self._table(qid)

    def exists(self, qid: str) -> bool:
        return self.path(qid).exists()

    def delete(self, qid: str) -> None:
        with self._lock:
            self._tables.pop(qid, None)
            for key in [k for k in self._orders if k[0] == qid]:
                del self._orders[key]
        for p in (self.path(qid), self.path(qid).with_suffix(".arrow.part")):
            p.unlink(missing_ok=True)

    def _table(self, qid: str) -> pa.Table:
        with self._lock:
            t = self._tables.get(qid)
            if t is not None:
                self._tables.move_to_end(qid)
                return t
        source = pa.memory_map(str(self.path(qid)), "r")
        t = pa.ipc.open_file(source).read_all()  # zero-copy: the pages stay in the page cache
        with self._lock:
            self._tables[qid] = t
            while len(self._tables) > self._cache_size:
                self._tables.popitem(last=False)
        return t

    def _order(self, qid: str, table: pa.Table, column: str, order: str) -> pa.Array:
        key = (qid, column, order)
        with self._lock:
            idx = self._orders.get(key)
            if idx is not None:
                self._orders.move_to_end(key)
                return idx
        col = table.column(column)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.list_value_length(col)  # arrays (e.g. polygons) sort by their length
        idx = pc.sort_indices(pa.table({"k": col}),
                              sort_keys=[("k", "ascending" if order == "asc" else "descending", "at_end")])
        with self._lock:
            self._orders[key] = idx
            while len(self._orders) > self._cache_size:
                self._orders.popitem(last=False)
        return idx

    def page(self, qid: str, offset: int, limit: int, sort: str | None,
             order: str) -> tuple[int, list[dict], list[int] | None]:
        """(total rows, the rows of one page as dicts, their numbers in stored order), sorted by
        ``sort`` when given; the numbers are None when not sorted (they are offset, offset + 1, ...)."""
        table = self._table(qid)
        total = table.num_rows
        if sort is not None and sort not in table.column_names:
            raise BadRequest(f"Cannot sort by {sort!r}: the result has no such column. "
                             f"Columns: {', '.join(table.column_names)}")
        if offset >= total:
            return total, [], None if sort is None else []
        if sort is None:
            return total, _rows(table.slice(offset, limit)), None
        numbers = self._order(qid, table, sort, order).slice(offset, limit)
        return total, _rows(table.take(numbers)), numbers.to_pylist()


async def stored_result(queries, qid: str, use: str = "to use") -> tuple[object, pa.Table]:
    """(QueryInfo, its stored rows, memory-mapped) of a completed query, read in the result
    files' executor. 409 when the query failed or still runs (``use`` says what for, e.g. "to
    plot"), 404 when its rows are gone from the server."""
    info = await queries.get(qid)
    if info.status != "completed":
        detail = f": {info.message}" if info.status == "error" and getattr(info, "message", None) else ""
        raise Conflict(f"Query {qid} has no rows {use}: it is {info.status}{detail}.", reason="query-not-completed")
    store: ResultStore = queries.results

    def read() -> pa.Table:
        try:
            return store.read(qid)
        except FileNotFoundError:
            raise NotFound(f"The rows of query {qid} are gone from the server; run it again.",
                           reason="rows-missing") from None

    return info, await executors.run("results", read)


def _rows(part: pa.Table) -> list[dict]:
    rows = part.to_pylist()
    # float32 values as the archive wrote them (14.326), not their double expansion (14.326000213623)
    singles = [f.name for f in part.schema if pa.types.is_float32(f.type)]
    for row in rows:
        for name in singles:
            v = row[name]
            if v is not None:
                row[name] = float(str(np.float32(v)))
    return rows
