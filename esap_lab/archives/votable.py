"""Binary VOTables (BINARY and BINARY2 serialisations) read into Arrow with numpy, not row by row.

Most DAL services answer in a binary serialisation (DaCHS by default, TAP services on
``RESPONSEFORMAT=votable/b2``); astropy reads those one row and one field at a time in Python,
which is most of the time pyvo spends on a result of some thousands of rows. Here the
document's header (FIELDs, INFOs: everything but the rows) is still parsed by astropy, so pyvo
sees the same metadata and the same QUERY_STATUS, while the rows are decoded in bulk:

- fixed-width rows (numbers, booleans, fixed ``char``) through strided numpy views (no copy of the received bytes);
- rows with variable-length fields (``char`` with ``arraysize="*"``, ``unicodeChar``) through a
  single pass that finds each row's fields, then one numpy gather per column.

Values mean what astropy makes of them: a null is the field's ``VALUES null``, NaN for
floating point, a BINARY2 null flag, or ``?``/space/NUL for booleans; strings are never null
(a fixed ``char`` ends at its first NUL byte). What this reader does not cover (TABLEDATA, FITS,
remote streams, several tables with rows, arrays, ``bit``, complex numbers, repeated column
names) gives ``None``: the caller then parses the document with astropy as pyvo does.
"""

from __future__ import annotations

import binascii
import io
import itertools
import re
import struct
import warnings
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

_NUMERIC = {"unsignedByte": "u1", "short": "i2", "int": "i4", "long": "i8", "float": "f4", "double": "f8"}
_TAG = rb"<(?:[\w.-]+:)?"
_BINARY = re.compile(_TAG + rb"(BINARY2?)\s*>\s*" + _TAG + rb"STREAM\b([^>]*)>")
_STREAM_END = re.compile(rb"</(?:[\w.-]+:)?STREAM\s*>")
_DATA_START = re.compile(_TAG + rb"DATA[\s>]")
_DATA_END = re.compile(rb"</(?:[\w.-]+:)?DATA\s*>")
_STREAMS = re.compile(_TAG + rb"STREAM\b")
_TABLES = re.compile(_TAG + rb"TABLE[\s>/]")
_TRUE, _FALSE = np.zeros(256, bool), np.zeros(256, bool)
_TRUE[list(b"Tt1")] = True
_FALSE[list(b"Ff0")] = True


@dataclass
class Decoded:
    """A binary VOTable: ``votable`` is astropy's parse of everything but the rows (its FIELDs,
    INFOs, PARAMs), ``table_index`` the position (document order) of the table the rows belong
    to, ``rows`` those rows."""

    votable: object
    table_index: int
    rows: pa.Table


def decode(data: bytes) -> Decoded | None:
    """``data`` (a whole VOTable document) with its rows as an Arrow table; None when this
    reader does not cover it (then parse it with astropy)."""
    if len(_STREAMS.findall(data)) != 1:
        return None
    m = _BINARY.search(data)
    if m is None or b"href" in m.group(2) or b"base64" not in m.group(2):
        return None
    mode = 2 if m.group(1) == b"BINARY2" else 1
    end = _STREAM_END.search(data, m.end())
    start_data = None
    for d in _DATA_START.finditer(data, 0, m.start()):
        start_data = d
    end_data = _DATA_END.search(data, end.end()) if end else None
    if end is None or start_data is None or end_data is None:
        return None
    from astropy.io.votable import parse

    skeleton = data[:start_data.start()] + data[end_data.end():]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        votable = parse(io.BytesIO(skeleton), verify="ignore")
    table_index = len(_TABLES.findall(data, 0, start_data.start())) - 1
    tables = list(votable.iter_tables())
    if not 0 <= table_index < len(tables):
        return None
    fields = tables[table_index].fields
    payload = binascii.a2b_base64(data[m.end():end.start()])  # whitespace between lines is skipped
    rows = _rows(payload, fields, mode)
    return None if rows is None else Decoded(votable, table_index, rows)


@dataclass
class _Field:
    name: str
    kind: str  # "num", "bool", "char", "uchar"
    size: int  # bytes of a fixed field; bytes per element of a variable one
    variable: bool
    dtype: np.dtype | None = None
    null: object = None


def _layout(fields) -> list[_Field] | None:
    out, names = [], set()
    for f in fields:
        name = f.name or f.ID
        if not name or name in names:
            return None
        names.add(name)
        size = (f.arraysize or "1").strip()
        if f.datatype in _NUMERIC or f.datatype == "boolean":
            if size != "1":
                return None  # arrays: astropy's reader
            if f.datatype == "boolean":
                out.append(_Field(name, "bool", 1, False))
                continue
            dtype = np.dtype(">" + _NUMERIC[f.datatype])
            null = None
            values = getattr(f, "values", None)
            if values is not None and values.null is not None:
                try:
                    null = np.asarray(values.null).astype(dtype.newbyteorder("="))
                except (TypeError, ValueError):
                    return None
            out.append(_Field(name, "num", dtype.itemsize, False, dtype, null))
        elif f.datatype in ("char", "unicodeChar"):
            width = 1 if f.datatype == "char" else 2
            kind = "char" if width == 1 else "uchar"
            if size.endswith("*"):
                if not re.fullmatch(r"\d*\*", size):
                    return None
                out.append(_Field(name, kind, width, True))
            elif size.isdigit() and int(size) > 0:
                out.append(_Field(name, kind, width * int(size), False))
            else:
                return None
        else:
            return None  # bit, complex numbers
    return out


def _rows(buf: bytes, fields, mode: int) -> pa.Table | None:
    layout = _layout(fields)
    if layout is None:
        return None
    nflags = (len(layout) + 7) // 8 if mode == 2 else 0
    arr = np.frombuffer(buf, np.uint8)
    if not any(f.variable for f in layout):
        width = nflags + sum(f.size for f in layout)
        if width == 0 or len(buf) % width:
            return None
        n = len(buf) // width
        starts, offset = [], nflags
        for f in layout:
            starts.append(offset)
            offset += f.size
        rows = (0, width, n)
        cells = [((s, width, n), None) for s in starts]
    else:
        walked = _walk(buf, layout, nflags)
        if walked is None:
            return None
        rows, cells = walked
        n = len(rows)
    flags = None
    if nflags:
        flags = np.unpackbits(_gather(arr, rows, nflags), axis=1, bitorder="big")[:, :len(layout)].astype(bool)
    columns = []
    for i, f in enumerate(layout):
        at, counts = cells[i]
        flag = flags[:, i] if flags is not None else None
        col = _column(arr, f, at, counts, n, flag)
        if col is None:
            return None
        columns.append(col)
    return pa.Table.from_arrays(columns, names=[f.name for f in layout])


def _walk(buf: bytes, layout: list[_Field], nflags: int):
    """One pass over rows with variable-length fields: where each row starts, and each field's
    start (and element count, for a variable one)."""
    # consecutive fixed fields are one step; a variable field is a 4-byte count then its data
    steps = []  # (fixed bytes before, variable element size or 0)
    fixed = nflags
    for f in layout:
        if f.variable:
            steps.append((fixed, f.size))
            fixed = 0
        else:
            fixed += f.size
    tail = fixed
    unpack = struct.Struct(">I").unpack_from
    var_at: list[list[int]] = [[] for _ in steps]
    var_n: list[list[int]] = [[] for _ in steps]
    pos, total = 0, len(buf)
    try:
        if len(steps) == 1:  # the common case, kept tight: one variable field per row
            (before, elsize), = steps
            add_at, add_n = var_at[0].append, var_n[0].append
            skip = before + 4
            while pos < total:
                count = unpack(buf, pos + before)[0]
                add_at(pos + skip)
                add_n(count)
                pos += skip + count * elsize + tail
        else:
            while pos < total:
                for j, (before, elsize) in enumerate(steps):
                    pos += before
                    count = unpack(buf, pos)[0]
                    pos += 4
                    var_at[j].append(pos)
                    var_n[j].append(count)
                    pos += count * elsize
                pos += tail
    except struct.error:
        return None
    if pos != total:
        return None
    rows = np.asarray(var_at[0], np.int64) - (4 + steps[0][0])
    cells = []
    j, base, offset = -1, rows, nflags  # fixed fields: at an offset from the row or the last variable field's end
    for f in layout:
        if f.variable:
            j += 1
            at = np.asarray(var_at[j], np.int64)
            counts = np.asarray(var_n[j], np.int64)
            cells.append((at, counts))
            base, offset = at + counts * f.size, 0
        else:
            cells.append((base + offset, None))
            offset += f.size
    return rows, cells


def _gather(arr: np.ndarray, at, size: int) -> np.ndarray:
    """The ``size`` bytes at each offset of ``at`` (an array of offsets, or ``(first, stride, n)``
    for fixed-width rows: then a strided view, no copy): an (n, size) array."""
    if isinstance(at, tuple):
        first, stride, n = at
        if n == 0:
            return np.zeros((0, size), np.uint8)
        return np.lib.stride_tricks.as_strided(arr[first:], shape=(n, size), strides=(stride, 1), writeable=False)
    if len(at) == 0:
        return np.zeros((0, size), np.uint8)
    return arr[at[:, None] + np.arange(size)]


def _column(arr, f: _Field, at, counts, n: int, flag) -> pa.Array | None:
    if f.kind == "num":
        values = _gather(arr, at, f.size).view(f.dtype).reshape(n).astype(f.dtype.newbyteorder("="))
        # (astype copies: the values no longer refer to the received bytes)
        mask = np.zeros(n, bool) if flag is None else flag.copy()
        if f.null is not None:
            mask |= values == f.null
        if values.dtype.kind == "f":
            mask |= np.isnan(values)
        return pa.array(values, mask=mask if mask.any() else None)
    if f.kind == "bool":
        raw = _gather(arr, at, 1).reshape(n)
        mask = ~(_TRUE[raw] | _FALSE[raw])
        if flag is not None:
            mask |= flag
        return pa.array(_TRUE[raw], mask=mask if mask.any() else None)
    if f.kind == "char" and not f.variable:
        cells = _gather(arr, at, f.size)
        # a fixed char ends at its first NUL (as astropy reads it)
        has_nul = cells == 0
        lengths = np.where(has_nul.any(axis=1), has_nul.argmax(axis=1), f.size).astype(np.int64)
        keep = np.arange(f.size) < lengths[:, None]
        return _strings(cells[keep], lengths)
    if f.kind == "char":
        total = int(counts.sum())
        ends = np.cumsum(counts)
        index = np.repeat(at - (ends - counts), counts) + np.arange(total, dtype=np.int64)
        return _strings(arr[index], counts)
    # unicodeChar (UCS-2/UTF-16 big-endian): rare, decoded value by value
    if f.variable:
        spans = [(int(a), int(c) * 2) for a, c in zip(at, counts, strict=True)]
    else:
        if isinstance(at, tuple):
            at = at[0] + np.arange(n, dtype=np.int64) * at[1]
        spans = [(int(a), f.size) for a in at]
    data = arr.tobytes() if n else b""
    out = []
    for a, size in spans:
        s = data[a:a + size].decode("utf_16_be", "replace")
        cut = s.find("\0")
        out.append(s if cut < 0 else s[:cut])
    return pa.array(out, pa.string())


def _strings(data: np.ndarray, lengths: np.ndarray) -> pa.Array | None:
    """A string array from the concatenated bytes of its values and their lengths."""
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 2**31:
        return None
    out = pa.Array.from_buffers(pa.string(), len(lengths),
                                [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data.tobytes())])
    try:
        out.validate(full=True)  # UTF-8
    except pa.ArrowInvalid:
        raw = data.tobytes()
        bounds = offsets.tolist()
        out = pa.array([raw[a:b].decode("utf-8", "replace") for a, b in itertools.pairwise(bounds)], pa.string())
    return out


# -- writing: a table as a BINARY2 VOTable (for TAP uploads) --------------------------------------

_WRITE_TYPES = {"int8": ("short", "i2"), "int16": ("short", "i2"), "int32": ("int", "i4"), "int64": ("long", "i8"),
                "uint8": ("unsignedByte", "u1"), "uint16": ("int", "i4"), "uint32": ("long", "i8"),
                "float": ("float", "f4"), "double": ("double", "f8"), "halffloat": ("float", "f4"),
                "bool": ("boolean", None)}


def encode(table: pa.Table, meta: dict[str, dict] | None = None, name: str = "upload") -> bytes:
    """``table`` as a VOTable with its rows in BINARY2, built with numpy (no per-row Python).
    ``meta``: column name -> {unit, ucd, description}. Numbers, booleans and text keep their type;
    other columns (lists, times) are sent as their text."""
    from xml.sax.saxutils import escape, quoteattr

    meta = meta or {}
    n, ncols = table.num_rows, table.num_columns
    nflags = (ncols + 7) // 8
    # parts: (fixed bytes (n, size) | None, byte lengths of strings | None, their bytes, bytes per unit)
    fields, parts = [], []
    nulls = np.zeros((n, nflags * 8), bool)
    for i, col_name in enumerate(table.column_names):
        col = table.column(col_name).combine_chunks() if n else pa.array([], table.schema.field(i).type)
        if isinstance(col, pa.ChunkedArray):
            col = pa.concat_arrays(col.chunks) if col.num_chunks else pa.array([], col.type)
        if n:
            nulls[:, i] = col.is_null().to_numpy(zero_copy_only=False)
        kind = _WRITE_TYPES.get(str(col.type))
        if kind is not None and kind[1] is None:  # boolean: one byte
            values = col.fill_null(False).to_numpy(zero_copy_only=False)
            raw = np.where(values, ord("T"), ord("F")).astype(np.uint8).reshape(n, 1)
            raw[nulls[:, i]] = ord("?")
            datatype, arraysize = "boolean", None
            parts.append((raw, None, None, 1))
        elif kind is not None:
            datatype, arraysize = kind[0], None
            fill = 0 if kind[1][0] in "iu" else np.nan
            values = col.fill_null(fill).to_numpy(zero_copy_only=False).astype(">" + kind[1])
            parts.append((values.view(np.uint8).reshape(n, values.dtype.itemsize), None, None, 1))
        else:
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                col = col.cast(pa.string()) if not pa.types.is_nested(col.type) else pa.array(
                    [None if v is None else str(v) for v in col.to_pylist()], pa.string())
            col = col.cast(pa.large_string()).fill_null("")
            offsets = np.frombuffer(col.buffers()[1], np.int64)[col.offset:col.offset + n + 1]
            data = np.frombuffer(col.buffers()[2], np.uint8) if col.buffers()[2] is not None else np.zeros(0, np.uint8)
            lengths = np.diff(offsets)
            total = int(lengths.sum())
            index = np.repeat(offsets[:-1] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(
                total, dtype=np.int64) if n else np.zeros(0, np.int64)
            text = data[index]
            if (text > 127).any():  # char is ASCII: other text goes as unicodeChar (UTF-16, 2 bytes a unit)
                encoded = [v.encode("utf-16-be") for v in col.to_pylist()]
                text = np.frombuffer(b"".join(encoded), np.uint8)
                lengths = np.array([len(v) for v in encoded], np.int64)
                datatype, arraysize = "unicodeChar", "*"
                parts.append((None, lengths, text, 2))
            else:
                datatype, arraysize = "char", "*"
                parts.append((None, lengths, text, 1))
        m = meta.get(col_name) or {}
        attrs = f"name={quoteattr(col_name)} datatype=\"{datatype}\""
        if arraysize:
            attrs += f" arraysize=\"{arraysize}\""
        for key in ("unit", "ucd"):
            if m.get(key):
                attrs += f" {key}={quoteattr(str(m[key]))}"
        desc = f"<DESCRIPTION>{escape(str(m['description']))}</DESCRIPTION>" if m.get("description") else ""
        fields.append(f"<FIELD {attrs}>{desc}</FIELD>")
    # where each row starts: every row has its flags, its fixed fields and 4 bytes + text per string
    row_len = np.full(n, nflags + sum(p[0].shape[1] for p in parts if p[0] is not None), np.int64)
    for fixed, lengths, _, _ in parts:
        if fixed is None:
            row_len += 4 + lengths
    starts = np.zeros(n, np.int64)
    if n:
        np.cumsum(row_len[:-1], out=starts[1:])
    out = np.zeros(int(row_len.sum()), np.uint8)
    if n:
        out[starts[:, None] + np.arange(nflags)] = np.packbits(nulls, axis=1, bitorder="big")
    at = starts + nflags
    for fixed, lengths, data, unit in parts:
        if fixed is not None:
            if n:
                out[at[:, None] + np.arange(fixed.shape[1])] = fixed
            at = at + fixed.shape[1]
        else:
            if n:  # the count is of characters (UTF-16 units for unicodeChar)
                count = (lengths // unit).astype(">u4")
                out[at[:, None] + np.arange(4)] = count.view(np.uint8).reshape(n, 4)
                out[np.repeat(at + 4, lengths) + _ranks(lengths)] = data
            at = at + 4 + lengths
    stream = binascii.b2a_base64(out.tobytes())  # one line: the STREAM may hold any whitespace
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        f'<RESOURCE type="results"><TABLE name={quoteattr(name)}>' + "".join(fields)
        + '<DATA><BINARY2><STREAM encoding="base64">\n'
    ).encode() + stream + b"</STREAM></BINARY2></DATA></TABLE></RESOURCE></VOTABLE>\n"


def _ranks(lengths: np.ndarray) -> np.ndarray:
    """0, 1, ..., length-1 for each length, concatenated."""
    total = int(lengths.sum())
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.arange(total, dtype=np.int64) - np.repeat(firsts, lengths)
