"""Export of a stored query result (whole, or a selection of rows) or of basket records, in
VOTable (binary2), FITS, CSV, ECSV or Parquet, as a download or saved into the workspace.

The writing itself is esap_lab.tables.formats (one place knows the formats); this module reads
the stored Arrow file of a result, picks the rows, and places the file: a temporary one for a
download, or a path inside the server root, written under a temporary name then renamed (a
crash or a failure never leaves a half-written file under the user's name).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import executors
from ..errors import BadRequest, Conflict
from ..tables.formats import ROW_GROUP, SUFFIX, parquet_schema, to_astropy, write
from .models import Column
from .results import stored_result

EXPORTS = "exports"  # the executor writing export files (never the event loop)
IN_MEMORY = 256 * 1024 * 1024  # a Parquet or FITS download of a table up to this size is made in memory


def parse_rows(text: str | list[int] | None, total: int, field: str = "rows") -> np.ndarray | None:
    """Row numbers given as ``0,5,17`` (or a list) as an index array; each one must exist."""
    if text is None:
        return None
    if isinstance(text, str):
        parts = [p for p in text.replace(" ", "").split(",") if p]
        try:
            idx = np.array([int(p) for p in parts], dtype=np.int64)
        except ValueError:
            raise BadRequest(f"{field}: give row numbers (from 0) separated by commas, e.g. 0,5,17.",
                             reason="bad-rows") from None
    else:
        idx = np.asarray(text, dtype=np.int64)
    if idx.size == 0:
        raise BadRequest(f"{field}: no row numbers given.", reason="bad-rows")
    bad = idx[(idx < 0) | (idx >= total)]
    if bad.size:
        raise BadRequest(f"{field}: row {int(bad[0])} does not exist; the result has {total} rows (0..{total - 1}).",
                         reason="bad-rows")
    return idx


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80] or "table"


class Exporter:
    """Writes result and basket exports. ``queries``: the QueryManager; ``basket``: the
    BasketService (or None); ``root_dir``: where saved files may go; ``tmp``: download files."""

    def __init__(self, queries, basket, root_dir: str | os.PathLike, tmp: str | os.PathLike):
        self.queries = queries
        self.basket = basket
        self.root_dir = Path(root_dir).resolve()
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)

    # -- reading a stored result --------------------------------------------------------------
    async def result(self, qid: str) -> tuple[object, pa.Table]:
        """(QueryInfo, its rows) of a completed query; 409 for one that failed or runs."""
        return await stored_result(self.queries, qid, "to use")

    async def query_table(self, qid: str, rows) -> tuple[pa.Table, list[Column], str]:
        info, table = await self.result(qid)
        idx = parse_rows(rows, table.num_rows)
        if idx is not None:
            table = table.take(pa.array(idx))
        base = f"{info.archive}-{info.kind}-{qid[:8]}" + ("-selection" if idx is not None else "")
        return table, info.columns, safe_name(base)

    async def basket_table(self, query_id: str | None, items: list[str] | None) -> tuple[pa.Table, list[Column], str]:
        if self.basket is None:
            raise BadRequest("This server has no basket.", reason="no-basket")
        doc = await self.basket.export("record")
        records = [i for i in doc["items"] if i.get("kind") == "record"]
        if items:
            by_id = {i["id"]: i for i in records}
            missing = [i for i in items if i not in by_id]
            if missing:
                raise BadRequest(f"items: {missing[0]} is not a record item of the basket.", reason="unknown-item")
            records = [by_id[i] for i in items]
        if query_id:
            records = [r for r in records if r.get("query_id") == query_id]
        if not records:
            which = f" from query {query_id}" if query_id else ""
            raise BadRequest(f"The basket holds no record items{which} to export.", reason="nothing-to-export")
        table, columns = await executors.run(EXPORTS, records_table, records)
        return table, columns, safe_name("basket" + (f"-{query_id[:8]}" if query_id else "") + "-records")

    # -- writing --------------------------------------------------------------------------
    async def download(self, table: pa.Table, columns, fmt: str) -> Path | bytes:
        """The export: its bytes (Parquet of a table that fits in memory: no disk round trip) or a
        temporary file (the caller streams it, then deletes it)."""
        def work():
            if fmt == "parquet" and table.nbytes <= IN_MEMORY:
                sink = pa.BufferOutputStream()
                write_export(table, columns, fmt, sink)
                return sink.getvalue().to_pybytes()
            if fmt == "fits" and table.nbytes <= IN_MEMORY:
                buf = io.BytesIO()
                write_fits(table, columns, buf)
                return buf.getvalue()
            fd, tmp = tempfile.mkstemp(suffix=SUFFIX[fmt], dir=self.tmp)
            os.close(fd)
            try:
                write_export(table, columns, fmt, tmp)
            except Exception:
                Path(tmp).unlink(missing_ok=True)
                raise
            return Path(tmp)

        return await executors.run(EXPORTS, work)

    def target(self, rel: str, overwrite: bool) -> Path:
        """A path under the server root to write to (its folder must exist)."""
        p = (self.root_dir / rel).resolve()
        if not p.is_relative_to(self.root_dir) or p == self.root_dir:
            raise BadRequest(f"path {rel!r} is outside the server's root folder; give a path inside it.",
                             reason="path-outside-root")
        if not p.parent.is_dir():
            raise BadRequest(f"path {rel!r}: the folder {p.parent.relative_to(self.root_dir)} does not exist.",
                             reason="no-such-folder")
        if p.is_dir():
            raise BadRequest(f"path {rel!r} is a folder; give a file name.", reason="path-is-folder")
        if p.exists() and not overwrite:
            raise Conflict(f"path {rel!r} exists; give overwrite: true to replace it.", reason="file-exists")
        return p

    async def save(self, table: pa.Table, columns, fmt: str, rel: str, overwrite: bool) -> dict:
        final = self.target(rel, overwrite)

        def work():
            fd, tmp = tempfile.mkstemp(suffix=".part" + SUFFIX[fmt], prefix="." + final.name[:60] + ".",
                                       dir=final.parent)
            os.close(fd)
            try:
                write_export(table, columns, fmt, tmp)
                os.replace(tmp, final)
            finally:
                Path(tmp).unlink(missing_ok=True)
            return final.stat().st_size

        size = await executors.run(EXPORTS, work)
        return {"path": final.relative_to(self.root_dir).as_posix(), "format": fmt, "rows": table.num_rows,
                "bytes": size}


def write_export(table: pa.Table, columns, fmt: str, where) -> None:
    """esap_lab.tables.formats.write, except that Parquet also carries astropy's own column
    metadata (so ``Table.read`` restores units, UCDs and descriptions there too)."""
    if fmt == "fits":
        write_fits(table, columns, where)
        return
    if fmt == "votable" and write_binary2(table, columns, where):
        return
    if fmt != "parquet":
        write(table, columns, fmt, where)
        return
    from astropy.table import meta

    md = {b"table_meta_yaml": "\n".join(meta.get_yaml_from_table(to_astropy(table.slice(0, 0), columns))).encode()}
    for f in table.schema:
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            # astropy's reader sizes its text columns from this (and fails on a null without it)
            longest = pc.max(pc.utf8_length(table.column(f.name))).as_py() if table.num_rows else None
            md[f"table::len::{f.name}".encode()] = str(longest or 1).encode()
    out = parquet_schema(table, columns)
    sink = where if isinstance(where, pa.NativeFile) else str(where)
    pq.write_table(out.replace_schema_metadata(md), sink, compression="snappy", row_group_size=ROW_GROUP)


def _sink(where):
    return where if hasattr(where, "write") else str(where)


def _ascii(arr) -> bool:
    """Whether every text value of an Arrow column is ASCII (checked by Arrow, in C: a Python
    test of each distinct value took longer than astropy's whole write)."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return all(str(v).isascii() for v in pc.unique(arr).to_pylist() if v is not None)
    return pc.all(pc.string_is_ascii(arr)).as_py() is not False


def write_fits(table: pa.Table, columns, where) -> None:
    """As esap_lab.tables.formats writes FITS (TUNITn, TUCDn, TCOMMn), except that text which is
    not ASCII is written as UTF-8 bytes (what astropy's ``convert_bytestring_to_unicode`` reads)
    instead of failing."""
    from astropy.io import fits
    from astropy.table import MaskedColumn

    if _write_fits_numeric(table, columns, where):
        return
    t = to_astropy(table, columns)
    for name in t.colnames:
        col = t[name]
        if col.dtype.kind == "O":  # FITS has no object columns: write them as text
            t[name] = [str(v) if v is not None else "" for v in col]
        elif col.dtype.kind == "U" and len(col) and not _ascii(table.column(name)):
            t[name] = MaskedColumn(np.char.encode(np.asarray(col), "utf-8"), name=name, mask=col.mask,
                                   unit=col.unit, description=col.description, meta=col.meta)
    hdu = fits.table_to_hdu(t)
    for i, name in enumerate(t.colnames, start=1):
        if t[name].meta.get("ucd"):
            hdu.header[f"TUCD{i}"] = t[name].meta["ucd"]
        if t[name].description:
            hdu.header[f"TCOMM{i}"] = t[name].description[:68]
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(_sink(where), overwrite=True)


_FIXED = {"boolean": None, "unsignedByte": ">u1", "short": ">i2", "int": ">i4", "long": ">i8", "float": ">f4",
          "double": ">f8"}


_FITS_FORMATS = {"i1": "I", "i2": "I", "i4": "J", "i8": "K", "u1": "B", "f4": "E", "f8": "D", "b1": "L"}


def _write_fits_numeric(table: pa.Table, columns, where) -> bool:
    """A table of numbers only (integers and booleans without nulls, floats with NaN for null)
    straight from Arrow's buffers into a FITS binary table; False: any other table."""
    from astropy.io import fits

    meta = {c.name: c for c in columns or []}
    cols, headers = [], []
    for i, name in enumerate(table.column_names, start=1):
        arr = table.column(name)
        t = arr.type
        if pa.types.is_floating(t):
            data = (arr.fill_null(float("nan")) if arr.null_count else arr).to_numpy()
        elif (pa.types.is_integer(t) or pa.types.is_boolean(t)) and not arr.null_count:
            data = arr.to_numpy()
        else:
            return False
        code = _FITS_FORMATS.get(data.dtype.str.lstrip("<>|="))
        if code is None:
            return False
        if code == "I" and data.dtype.itemsize == 1:
            data = data.astype("i2")
        m = meta.get(name)
        cols.append(fits.Column(name=name, format=code, array=data, unit=m.unit if m and m.unit else None))
        if m and m.ucd:
            headers.append((f"TUCD{i}", m.ucd))
        if m and m.description:
            headers.append((f"TCOMM{i}", m.description[:68]))
    hdu = fits.BinTableHDU.from_columns(cols)
    for key, value in headers:
        hdu.header[key] = value
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(_sink(where), overwrite=True)
    return True


def _votable_header(table, columns):
    """The VOTable document (no rows) astropy makes for ``table``: FIELDs with units, UCDs and
    descriptions; text as unicodeChar arraysize="*", booleans as boolean."""
    from astropy.io.votable import from_table

    vot = from_table(to_astropy(table.slice(0, 0), columns))
    fields = vot.get_first_table().fields
    for f, c in zip(fields, table.column_names):
        m = next((x for x in columns or [] if x.name == c), None)
        if m is not None and m.ucd:
            f.ucd = m.ucd
    for f, c in zip(fields, table.column_names):
        t = table.schema.field(c).type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            f.datatype, f.arraysize = "unicodeChar", "*"
        elif pa.types.is_boolean(t):
            f.datatype, f.arraysize = "boolean", None
    return vot, fields


def _fixed(data: bytes, width: int, n: int) -> pa.Array:
    """``n`` values of ``width`` bytes each as a binary array."""
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(data)]).cast(pa.binary())


def _binary2_column(arr, field):
    """Each row's BINARY2 bytes of one column (big-endian values, length-prefixed text), or None
    for a type this writer leaves to astropy."""
    dt = field.datatype
    n = len(arr)
    if dt in _FIXED and not field.arraysize:
        if dt == "boolean":
            vals = np.where(arr.is_null().to_numpy(zero_copy_only=False), ord("?"),
                            np.where(arr.fill_null(False).to_numpy(zero_copy_only=False), ord("T"),
                                     ord("F"))).astype("u1")
            width = 1
            raw = vals
        else:
            np_dt = np.dtype(_FIXED[dt])
            filled = arr.fill_null(0) if arr.null_count else arr
            raw = np.asarray(filled.to_numpy(zero_copy_only=False)).astype(np_dt)
            width = np_dt.itemsize
        return _fixed(np.ascontiguousarray(raw).tobytes(), width, n)
    if dt in ("char", "unicodeChar") and field.arraysize and field.arraysize.endswith("*"):
        s = arr.cast(pa.string()).fill_null("")
        if dt == "char":
            data = s.cast(pa.binary())
            lens = pc.binary_length(data)
        else:
            vals = s.to_pylist()
            data = pa.array([v.encode("utf-16-be") for v in vals], pa.binary())
            lens = pc.divide(pc.binary_length(data), 2)
        prefix = np.asarray(lens.to_numpy(zero_copy_only=False)).astype(">u4")
        pre = _fixed(prefix.tobytes(), 4, n)
        return pc.binary_join_element_wise(pre, data, b"")
    return None


def write_binary2(table: pa.Table, columns, where) -> bool:
    """VOTable BINARY2, vectorised: each row (null flags, then its values) is built by Arrow
    kernels, column by column, and the stream base64-encoded at once (astropy's writer goes
    row by row in Python: 17 s for 200,000 rows here). False: a column type it does not
    write (arrays, lists): the caller lets astropy write the file."""
    plain = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_string,
             pa.types.is_large_string)
    if not table.num_rows or not all(any(f(t) for f in plain) for t in table.schema.types):
        return False
    vot, fields = _votable_header(table, columns)
    parts = []
    ncol = table.num_columns
    nbytes = (ncol + 7) // 8
    flags = np.zeros((table.num_rows, nbytes), np.uint8)
    for i, (name, field) in enumerate(zip(table.column_names, fields)):
        arr = table.column(name).combine_chunks()
        enc = _binary2_column(arr, field)
        if enc is None:
            return False
        parts.append(enc.cast(pa.large_binary()))  # 64-bit offsets: a stream may pass 2 GiB
        if arr.null_count:
            nulls = arr.is_null().to_numpy(zero_copy_only=False)
            flags[nulls, i // 8] |= np.uint8(0x80 >> (i % 8))
    fl = _fixed(flags.tobytes(), nbytes, table.num_rows).cast(pa.large_binary())
    rows = pc.binary_join_element_wise(fl, *parts, pa.scalar(b"", pa.large_binary()))
    _, obuf, dbuf = rows.buffers()
    off = np.frombuffer(obuf, dtype=np.int64 if pa.types.is_large_binary(rows.type) else np.int32)
    off = off[rows.offset:rows.offset + len(rows) + 1]
    stream = memoryview(dbuf)[int(off[0]):int(off[-1])] if len(rows) else b""
    xml = io.BytesIO()
    vot.to_xml(xml, tabledata_format="binary2")
    text = xml.getvalue()
    end = text.rfind(b"</TABLE>")
    if end < 0 or b"<DATA" in text:
        return False
    with open(where, "wb") as out:
        out.write(text[:end])
        out.write(b'<DATA>\n<BINARY2>\n<STREAM encoding="base64">\n')
        out.write(base64.encodebytes(bytes(stream)))
        out.write(b"</STREAM>\n</BINARY2>\n</DATA>\n")
        out.write(text[end:])
    return True




def records_table(records: list[dict]) -> tuple[pa.Table, list[Column]]:
    """Basket record items (as exported JSON) as one table: the union of their columns."""
    rows: list[dict] = []
    columns: dict[str, Column] = {}
    for r in records:
        rows.extend(r.get("rows") or [])
        for c in r.get("columns") or []:
            columns.setdefault(c["name"], Column(**{k: v for k, v in c.items() if k in Column.model_fields}))
    names = [n for n in columns if any(n in row for row in rows)]
    for row in rows:
        names.extend(k for k in row if k not in names)
    cols = {}
    for n in names:
        values = [row.get(n) for row in rows]
        try:
            arr = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            arr = None  # mixed types, integers beyond 64 bits: as text
        if arr is None or pa.types.is_nested(arr.type) or pa.types.is_null(arr.type):
            # objects and arrays as JSON text (every format holds text); a column of nulls as text
            arr = pa.array([None if v is None else v if isinstance(v, str) else json.dumps(v, default=str)
                            for v in values], pa.string())
        cols[n] = arr
    return pa.table(cols), [columns[n] for n in names if n in columns]
