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
