"""Query results on disk: one Arrow IPC file per query, memory-mapped, paged and sorted here.

A result is written once (to a temporary name, then renamed, so a crash never leaves a
half-written file under the final name) and then only read. Pages are cut from the memory map,
so the server holds one page plus, for a sorted view, an index of row numbers.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import BadRequest
from .models import Column


@dataclass
class ResultTable:
    """What an adapter returns: the rows and what is known of their columns."""

    table: pa.Table
    columns: list[Column]
    overflow: bool = False
    access_url_column: str | None = None
    extra: dict = field(default_factory=dict)


def astropy_to_arrow(table) -> pa.Table:
    """An astropy Table (masked or not) as an Arrow table; masked values become nulls."""
    arrays, names = [], []
    for name in table.colnames:
        col = table[name]
        data = np.asarray(col)
        mask = np.ma.getmaskarray(col) if hasattr(col, "mask") else None
        if data.dtype.kind == "O" or data.ndim > 1:
            values = [None if (mask is not None and np.any(mask[i])) else _plain(v)
                      for i, v in enumerate(col.tolist() if data.ndim > 1 else data)]
            arr = pa.array(values)
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

    def write(self, qid: str, table: pa.Table) -> None:
        final = self.path(qid)
        tmp = final.with_suffix(".arrow.part")
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=65536)
        os.replace(tmp, final)

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
        idx = pc.sort_indices(pa.table({"k": col}), sort_keys=[("k", "ascending" if order == "asc" else "descending")],
                              null_placement="at_end")
        with self._lock:
            self._orders[key] = idx
            while len(self._orders) > self._cache_size:
                self._orders.popitem(last=False)
        return idx

    def page(self, qid: str, offset: int, limit: int, sort: str | None, order: str) -> tuple[int, list[dict]]:
        """(total rows, the rows of one page as dicts), sorted by ``sort`` when given."""
        table = self._table(qid)
        total = table.num_rows
        if sort is not None and sort not in table.column_names:
            raise BadRequest(f"Cannot sort by {sort!r}: the result has no such column. "
                             f"Columns: {', '.join(table.column_names)}")
        if offset >= total:
            return total, []
        if sort is None:
            part = table.slice(offset, limit)
        else:
            idx = self._order(qid, table, sort, order)
            part = table.take(idx.slice(offset, limit))
        return total, part.to_pylist()
