"""My tables from a notebook: the same REST door as the UI (esap_lab.client), no database.

    from esap_lab import tables

    tables.list()                               # my tables (TableInfo: name, columns, provenance ...)
    tables.save("stars", astropy_table)         # units, UCDs and descriptions kept
    t = tables.get("stars")                     # -> astropy Table
    tables.sql("SELECT kind, count(*) AS n FROM stars GROUP BY kind")   # -> astropy Table
    tables.crossmatch("stars", "xray", radius=2)                        # -> astropy Table (+ separation, arcsec)
    tables.rename("stars", "stars_v1"); tables.describe("stars_v1", "..."); tables.delete("stars_v1")

The server side of this area is ``esap_lab.tables.service`` (DuckDB over Parquet files).
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

__all__ = ["crossmatch", "delete", "describe", "export", "get", "info", "list", "rename", "save", "sql"]


def _client():
    from ..client import client

    return client()


def _info(data: dict):
    from .models import TableInfo

    return TableInfo.model_validate(data)


def _raw(method: str, *parts: str, params: dict | None = None, data: bytes | None = None) -> bytes:
    """A call whose request or answer is a file, not JSON (same credentials and errors)."""
    import requests

    from ..client import ServerError, _error

    c = _client()
    try:
        r = c.session.request(method, c.url(*parts, params=params), data=data, timeout=c.timeout,
                              headers={"Accept": "*/*", "Content-Type": "application/octet-stream"})
    except requests.RequestException as e:
        raise ServerError(f"Cannot reach the esap-lab server at {c.base}: {e.__class__.__name__}.",
                          status=503, reason="server-unreachable") from e
    if r.status_code >= 400:
        try:
            body = r.json()
        except ValueError:
            body = None
        raise _error(r.status_code, body, f"{method} {'/'.join(parts)} failed: {r.status_code} {r.reason}")
    return r.content


def list(project: str | None = None, results: bool = False) -> builtins.list:
    """My tables (or, with ``results=True``, my recent SQL / crossmatch results), oldest first."""
    data = _client().get("tables", params={"project": project, "kind": "result" if results else "table"})
    return [_info(t) for t in data["tables"]]


def info(name: str):
    """What the server knows of a table: columns (unit, UCD, description), rows, provenance."""
    return _info(_client().get("tables", name))


def save(name: str, table: Any, *, project: str = "default", description: str = "", replace: bool = False):
    """Save an astropy Table (or a pyarrow Table) as my table ``name``; -> its TableInfo."""
    import io

    import pyarrow as pa

    from .formats import from_astropy, write_parquet

    if isinstance(table, pa.Table):
        arrow, columns = table, None
    else:
        arrow, columns = from_astropy(table)
    buf = io.BytesIO()
    write_parquet(arrow, columns, buf)
    data = _raw("POST", "tables", "upload", data=buf.getvalue(),
                params={"name": name, "format": "parquet", "project": project, "description": description,
                        "replace": "true" if replace else "false"})
    import json

    return _info(json.loads(data))


def get(name: str):
    """The rows of my table (or result) ``name`` as an astropy Table, with units, UCDs, descriptions."""
    from .formats import read, to_astropy

    data = _raw("GET", "tables", name, "export", params={"format": "parquet"})
    arrow, columns = read(data, "parquet", name)
    t = to_astropy(arrow, columns)
    t.meta["esap_table"] = name
    return t


def sql(query: str, *, name: str | None = None, max_rows: int | None = None):
    """Run one SELECT (DuckDB SQL) over my tables; -> the rows as an astropy Table. With ``name``
    the result is also saved as that table; else it stays on the server as a result
    (``t.meta["esap_table"]`` names it) for a while."""
    res = _info(_client().post("tables", "sql", json={"sql": query, "name": name, "max_rows": max_rows}))
    return _result(res)


def crossmatch(a: str, b: str, radius: float = 1.0, *, find: str = "best", join: str = "1and2",
               name: str | None = None, ra_a: str | None = None, dec_a: str | None = None,
               ra_b: str | None = None, dec_b: str | None = None):
    """Positional crossmatch of two of my tables within ``radius`` arcsec; -> an astropy Table with
    the columns of both (clashing names get _1 / _2) and ``separation`` (arcsec). ``find``: best
    (pairs closest for both their rows: each row at most once, as STILTS), best1, best2 or all."""
    body = {"a": a, "b": b, "radius": radius, "find": find, "join": join, "name": name,
            "ra_a": ra_a, "dec_a": dec_a, "ra_b": ra_b, "dec_b": dec_b}
    res = _info(_client().post("tables", "crossmatch", json={k: v for k, v in body.items() if v is not None}))
    return _result(res)


def _result(res):
    t = get(res.id)
    t.meta["esap_table"] = res.name
    if res.overflow:
        import warnings

        warnings.warn(f"the result was cut at {res.row_count} rows (the server's maximum)", stacklevel=3)
    return t


def rename(name: str, new_name: str):
    return _info(_client().patch("tables", name, json={"name": new_name}))


def describe(name: str, description: str):
    return _info(_client().patch("tables", name, json={"description": description}))


def delete(name: str) -> None:
    _client().delete("tables", name)


def export(name: str, path: str | Path, format: str | None = None) -> Path:
    """Write my table to a file (format from the extension: .vot/.xml, .fits, .csv, .ecsv, .parquet)."""
    from .formats import guess_format

    path = Path(path)
    path.write_bytes(_raw("GET", "tables", name, "export", params={"format": guess_format(path.name, format)}))
    return path
