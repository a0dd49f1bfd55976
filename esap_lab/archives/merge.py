"""Several archives' results of one search as one table: columns aligned, each row's archive kept.

Columns are aligned by name (case-insensitive), else by UCD (when that UCD names one column on
each side), and only when their units agree: equal, or convertible (the values are then
converted to the first archive's unit, e.g. arcsec to deg). A column no other archive has stays,
empty for the other archives' rows; two same-named columns whose units do not agree stay apart
(the later one named ``<name>_<archive>``). The rows' data links (access URL columns) always
share one column. A first column, ``archive``, says where each row came from, and each archive's
DataLink service descriptors stay, naming the merged column of their IDs and their archive.

Plain Python over Arrow tables: no files, no database (SearchManager stores the result).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ..datalink import descriptors
from .models import Column
from .results import ResultTable

ARCHIVE_COLUMN = "archive"
MERGED = "merged"  # the archive a merged result is stored under


@dataclass
class Part:
    """One archive's stored result."""

    archive: str
    table: pa.Table
    columns: list[Column]  # what the archive said of them (unit, UCD, ...), by name
    access_url_column: str | None = None
    overflow: bool = False  # the archive had more rows than it sent


@dataclass
class _Merged:
    column: Column
    sources: dict[int, tuple[str, float]] = field(default_factory=dict)  # part -> (its column, factor)


def _unit_factor(unit: str | None, target: str | None) -> float | None:
    """What multiplies values in ``unit`` to give ``target`` (1 when equal); None: not convertible."""
    a, b = (unit or "").strip(), (target or "").strip()
    if a == b:
        return 1.0
    if not a or not b:
        return None
    try:
        from astropy import units as u

        return float(u.Unit(a, parse_strict="silent").to(u.Unit(b, parse_strict="silent")))
    except Exception:  # noqa: BLE001 - unknown or incompatible units: not the same quantity
        return None


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _plain_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _common_type(types: list[pa.DataType]) -> pa.DataType:
    known = [t for t in types if not pa.types.is_null(t)]
    if not known:
        return pa.null()
    if all(t == known[0] for t in known):
        return known[0]
    if all(_numeric(t) for t in known):
        return pa.float64() if any(pa.types.is_floating(t) for t in known) else pa.int64()
    if all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in known):
        return pa.large_string()
    return pa.string()


_DATATYPES = {pa.float64(): "double", pa.int64(): "long", pa.string(): "char", pa.large_string(): "char"}


def _as_text(arr: pa.ChunkedArray) -> pa.Array:
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # lists, structs: their JSON
        return pa.array([None if v is None else json.dumps(v, default=str) for v in arr.to_pylist()], pa.string())


def _cast(arr: pa.ChunkedArray, target: pa.DataType, factor: float) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    if factor != 1.0 and _numeric(arr.type):
        arr = pc.multiply(pc.cast(arr, pa.float64()), factor)
    if arr.type == target:
        return arr
    if pa.types.is_string(target) and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return _as_text(arr)
    return pc.cast(arr, target)


def _match(merged: list[_Merged], col: Column, part: int, taken: set[int], ucd_counts: dict[str, int],
           merged_ucds: dict[str, list[int]]) -> int | None:
    """The merged column ``col`` of part ``part`` joins: the same name, else the same UCD."""
    for i, m in enumerate(merged):
        if i not in taken and m.column.name.lower() == col.name.lower():
            return i
    ucd = (col.ucd or "").strip().lower()
    if ucd and ucd_counts.get(ucd) == 1:
        same = [i for i in merged_ucds.get(ucd, []) if i not in taken]
        if len(same) == 1 and part not in merged[same[0]].sources:
            return same[0]
    return None


def merge(parts: list[Part]) -> ResultTable:
    """One result from ``parts`` (in their order), with an ``archive`` column first."""
    merged: list[_Merged] = []
    access: int | None = None  # the merged column of the data links
    for p, part in enumerate(parts):
        described = {c.name: c for c in part.columns}
        cols = [described.get(n) or Column(name=n) for n in part.table.column_names]
        ucd_counts: dict[str, int] = {}
        for c in cols:
            if c.ucd:
                ucd_counts[c.ucd.strip().lower()] = ucd_counts.get(c.ucd.strip().lower(), 0) + 1
        merged_ucds: dict[str, list[int]] = {}
        for i, m in enumerate(merged):
            if m.column.ucd:
                merged_ucds.setdefault(m.column.ucd.strip().lower(), []).append(i)
        taken: set[int] = set()
        for c in cols:
            target = None
            if c.name == part.access_url_column and access is not None and access not in taken:
                target, factor = access, 1.0
            else:
                i = _match(merged, c, p, taken, ucd_counts, merged_ucds)
                if i is not None:
                    factor = _unit_factor(c.unit, merged[i].column.unit)
                    if factor is not None and (factor == 1.0 or _numeric(_plain_type(part.table.column(c.name).type))):
                        target = i
            if target is None:
                names = {m.column.name.lower() for m in merged}
                name = c.name if c.name.lower() not in names else f"{c.name}_{part.archive}"
                merged.append(_Merged(Column(**{**c.model_dump(), "name": name})))
                target, factor = len(merged) - 1, 1.0
            merged[target].sources[p] = (c.name, factor)
            taken.add(target)
            if c.name == part.access_url_column and access is None:
                access = target

    names = {m.column.name.lower() for m in merged}
    archive_name = ARCHIVE_COLUMN if ARCHIVE_COLUMN not in names else "esap_archive"
    arrays = [pa.chunked_array([pa.array([part.archive] * part.table.num_rows, pa.string()) for part in parts],
                               pa.string())]
    columns = [Column(name=archive_name, datatype="char", arraysize="*", ucd="meta.curation",
                      description="the archive this row came from")]
    for m in merged:
        types = []
        for p, (name, factor) in m.sources.items():
            t = _plain_type(parts[p].table.column(name).type)
            types.append(pa.float64() if factor != 1.0 and _numeric(t) else t)
        target = _common_type(types)
        if pa.types.is_null(target):
            target = pa.string()
        chunks = []
        for p, part in enumerate(parts):
            if p in m.sources:
                name, factor = m.sources[p]
                arr = _cast(part.table.column(name), target, factor)
                chunks += arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
            else:
                chunks.append(pa.nulls(part.table.num_rows, target))
        arrays.append(pa.chunked_array(chunks, target))
        col = m.column
        if len(m.sources) > 1 and target in _DATATYPES and target != types[0]:
            col = Column(**{**col.model_dump(), "datatype": _DATATYPES[target],
                            "arraysize": "*" if _DATATYPES[target] == "char" else None})
        columns.append(col)
    table = pa.Table.from_arrays(arrays, names=[c.name for c in columns])
    links = []  # each archive's DataLink services, for its own rows
    for p, part in enumerate(parts):
        for d in descriptors.read(part.table.schema):
            target = next((m.column.name for m in merged if m.sources.get(p, ("",))[0] == d["id_column"]), None)
            if target is not None:
                links.append({**d, "id_column": target, "archive": part.archive, "archive_column": archive_name})
    table = descriptors.attach(table, links)
    return ResultTable(columns=columns, table=table.combine_chunks(),
                       overflow=any(part.overflow for part in parts), row_count=table.num_rows,
                       access_url_column=merged[access].column.name if access is not None else None)
