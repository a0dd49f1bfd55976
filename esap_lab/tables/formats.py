"""Table files in and out: CSV, FITS, VOTable, ECSV, Parquet, with column metadata.

Rows travel as Arrow tables; what is known of the columns (unit, UCD, description) travels
beside them as a list of ``Column``. Parquet keeps it in each field's metadata (and reads
astropy's own Parquet metadata), FITS in TUNITn / TUCDn / TCOMMn (as TOPCAT writes them),
VOTable and ECSV natively; CSV keeps only names and values.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import BadRequest
from .models import FORMATS, Column

EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".fits": "fits", ".fit": "fits", ".fts": "fits", ".xml": "votable",
              ".vot": "votable", ".votable": "votable", ".ecsv": "ecsv", ".parquet": "parquet", ".pq": "parquet"}
MEDIA_TYPES = {"csv": "text/csv", "fits": "application/fits", "votable": "application/x-votable+xml",
               "ecsv": "text/plain", "parquet": "application/vnd.apache.parquet"}
# what an export answers, in the order the OpenAPI document lists them
EXPORT_MEDIA_TYPES = tuple(MEDIA_TYPES[f] for f in ("votable", "fits", "csv", "ecsv", "parquet"))
SUFFIX = {"csv": ".csv", "fits": ".fits", "votable": ".vot", "ecsv": ".ecsv", "parquet": ".parquet"}


def guess_format(name: str, given: str | None = None) -> str:
    if given:
        return given
    ext = Path(name.split("?", 1)[0]).suffix.lower()
    if ext == ".gz":
        ext = Path(name.split("?", 1)[0][:-3]).suffix.lower()
    if ext not in EXTENSIONS:
        raise BadRequest(f"Cannot tell the format of {name!r} from its extension; give format: one of "
                         f"{', '.join(FORMATS)}.", reason="format-unknown")
    return EXTENSIONS[ext]


# -- reading ----------------------------------------------------------------------------------
def read(source: str | os.PathLike | bytes, fmt: str, label: str) -> tuple[pa.Table, list[Column]]:
    """A file (path or bytes) in ``fmt`` as (rows, column metadata). A file that is not a table
    in that format is a 400 that says which format was expected."""
    try:
        if fmt == "parquet":
            return _read_parquet(source)
        if fmt == "csv":
            import pyarrow.csv as pacsv

            data = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
            table = pacsv.read_csv(data)
            if table.num_columns == 0:
                raise ValueError("no columns")
            return table, [Column(name=n, datatype=str(t)) for n, t in zip(table.column_names, table.schema.types,
                                                                          strict=True)]
        from astropy.table import Table

        src = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        fmt_name = {"fits": "fits", "votable": "votable", "ecsv": "ascii.ecsv"}[fmt]
        kw = {"hdu": 1} if fmt == "fits" else {}
        t = Table.read(src, format=fmt_name, **kw)
        if fmt == "fits":
            _fits_meta(source, t)
        return from_astropy(t)
    except BadRequest:
        raise
    except Exception as e:
        detail = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
        raise BadRequest(f"{label} is not a readable {_FORMAT_NAMES[fmt]} table (expected format {fmt}): {detail}",
                         reason="not-a-table") from e


_FORMAT_NAMES = {"csv": "CSV", "fits": "FITS", "votable": "VOTable", "ecsv": "ECSV", "parquet": "Parquet"}


def _read_parquet(source) -> tuple[pa.Table, list[Column]]:
    data = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
    table = pq.read_table(data)
    meta = table.schema.metadata or {}
    if b"table_meta_yaml" in meta and not any((f.metadata or {}).get(b"unit") for f in table.schema):
        # written by astropy: its reader restores units and descriptions
        from astropy.table import Table

        t = Table.read(pa.BufferReader(source) if isinstance(source, bytes) else str(source), format="parquet")
        return from_astropy(t)
    cols = []
    for f in table.schema:
        m = f.metadata or {}
        cols.append(Column(name=f.name, datatype=str(f.type),
                           unit=_s(m.get(b"unit")), ucd=_s(m.get(b"ucd")), description=_s(m.get(b"description"))))
    return table.replace_schema_metadata(None), cols


def _s(b: bytes | None) -> str | None:
    return b.decode() if b else None


def _fits_meta(source, t) -> None:
    """UCDs and descriptions from TUCDn / TCOMMn (the TOPCAT convention)."""
    from astropy.io import fits

    with fits.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as hdus:
        header = hdus[1].header
    for i, name in enumerate(t.colnames, start=1):
        if header.get(f"TUCD{i}"):
            t[name].meta["ucd"] = header[f"TUCD{i}"]
        if header.get(f"TCOMM{i}") and not t[name].description:
            t[name].description = header[f"TCOMM{i}"]


def from_astropy(t) -> tuple[pa.Table, list[Column]]:
    """An astropy Table as (rows, column metadata)."""
    from ..archives.results import astropy_to_arrow

    swapped = [n for n in t.colnames if t[n].dtype.byteorder == (">" if np.little_endian else "<")]
    if swapped:  # FITS is big-endian; Arrow takes native order only
        t = t.copy(copy_data=False)
        for n in swapped:
            t[n] = t[n].astype(t[n].dtype.newbyteorder("="))
    cols = []
    for name in t.colnames:
        c = t[name]
        unit = c.unit.to_string() if c.unit is not None else c.meta.get("unit")
        cols.append(Column(name=name, datatype=str(c.dtype), unit=unit or None, ucd=c.meta.get("ucd") or None,
                           description=c.description or None))
    return astropy_to_arrow(t), cols


# -- writing ----------------------------------------------------------------------------------
def to_astropy(table: pa.Table, columns: list[Column] | None = None):
    """Rows and column metadata as an astropy Table (nulls masked)."""
    from astropy.table import MaskedColumn, Table

    meta = {c.name: c for c in columns or []}
    out = []
    for name in table.column_names:
        arr = table.column(name)
        t = arr.type
        mask = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            fill = False if pa.types.is_boolean(t) else 0
            data = (arr.fill_null(fill) if arr.null_count else arr).to_numpy(zero_copy_only=False)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            data = np.array((arr.fill_null("") if arr.null_count else arr).to_pylist(), dtype=str)
        elif pa.types.is_timestamp(t) or pa.types.is_date(t):
            data = np.array([str(v) if v is not None else "" for v in arr.to_pylist()], dtype=str)
        else:
            data = np.empty(len(arr), dtype=object)
            data[:] = arr.to_pylist()
        col = MaskedColumn(data=data, name=name, mask=mask)
        m = meta.get(name)
        if m is not None:
            if m.unit:
                try:
                    col.unit = m.unit
                except ValueError:
                    col.meta["unit"] = m.unit
            if m.description:
                col.description = m.description
            if m.ucd:
                col.meta["ucd"] = m.ucd
        out.append(col)
    return Table(out, masked=any(c.mask is not None and np.any(c.mask) for c in out))


def parquet_schema(table: pa.Table, columns: list[Column] | None) -> pa.Table:
    """``table`` with unit / ucd / description in its fields' metadata."""
    meta = {c.name: c for c in columns or []}
    fields = []
    for f in table.schema:
        c = meta.get(f.name)
        md = {k: v for k, v in (("unit", c.unit), ("ucd", c.ucd), ("description", c.description))
              if v} if c else {}
        fields.append(f.with_metadata(md or None))
    # the same buffers under a schema with the metadata (a cast would visit every column)
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields)) if fields else table


ROW_GROUP = 122_880  # DuckDB's own row group size: a scan runs on every core


DICTIONARY_SAMPLE = 4096  # (a larger sample costs more than it tells: hashing grows faster than the rows)


def dictionary_columns(table: pa.Table) -> list[str]:
    """The columns worth dictionary encoding: text, and any column with few distinct values (in a
    sample of its first rows). Parquet's default, every column, spends most of a write on
    dictionaries of distinct numbers (positions, ids, fluxes) that it then throws away, and the
    file is larger and slower to scan."""
    import pyarrow.compute as pc

    out = []
    for f, col in zip(table.schema, table.columns, strict=True):
        t = f.type
        if (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
                or pa.types.is_large_binary(t) or pa.types.is_dictionary(t)):
            out.append(f.name)
        elif pa.types.is_primitive(t) and not pa.types.is_boolean(t) and len(col):
            sample = col.slice(0, DICTIONARY_SAMPLE)
            if len(pc.unique(sample)) * 4 <= len(sample):
                out.append(f.name)
    return out


def write_parquet(table: pa.Table, columns: list[Column] | None, where) -> None:
    # snappy: several times faster to read than zstd, for a little more room
    pq.write_table(parquet_schema(table, columns), where, compression="snappy", row_group_size=ROW_GROUP,
                   use_dictionary=dictionary_columns(table))


def write(table: pa.Table, columns: list[Column] | None, fmt: str, where: str | os.PathLike) -> None:
    """Write the rows and their column metadata in ``fmt`` to the file ``where``."""
    if fmt == "parquet":
        write_parquet(table, columns, str(where))
        return
    if fmt == "csv":
        import pyarrow.csv as pacsv

        plain = pa.table({n: _csv_safe(table.column(n)) for n in table.column_names})
        pacsv.write_csv(plain, str(where))
        return
    t = to_astropy(table, columns)
    if fmt == "votable":
        from astropy.io.votable import from_table

        vot = from_table(t)
        for field, name in zip(vot.get_first_table().fields, t.colnames, strict=True):
            if t[name].meta.get("ucd"):
                field.ucd = t[name].meta["ucd"]
        vot.to_xml(str(where), tabledata_format="binary2")
    elif fmt == "ecsv":
        t.write(str(where), format="ascii.ecsv", overwrite=True)
    elif fmt == "fits":
        from astropy.io import fits

        for name in t.colnames:  # FITS has no object columns: write them as text
            if t[name].dtype.kind == "O":
                t[name] = [str(v) if v is not None else "" for v in t[name]]
        hdu = fits.table_to_hdu(t)
        for i, name in enumerate(t.colnames, start=1):
            if t[name].meta.get("ucd"):
                hdu.header[f"TUCD{i}"] = t[name].meta["ucd"]
            if t[name].description:
                hdu.header[f"TCOMM{i}"] = t[name].description[:68]
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(str(where), overwrite=True)
    else:  # pragma: no cover - the models allow only FORMATS
        raise BadRequest(f"Unknown format {fmt!r}; one of {', '.join(FORMATS)}", reason="format-unknown")


def _csv_safe(arr):
    t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_binary(t):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())
    return arr


def to_bytes(table: pa.Table, columns: list[Column] | None, fmt: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / ("t" + SUFFIX[fmt])
        write(table, columns, fmt, p)
        return p.read_bytes()
