"""DataLink service descriptors of a result: read from the archive's VOTable when the rows come
in, kept in the stored Arrow file's schema metadata, and found again for one row."""

from __future__ import annotations

import json

import pyarrow as pa

KEY = b"esap.datalink"
DATALINK_STD = "ivo://ivoa.net/std/DataLink#links"


def from_votable(votable) -> list[dict]:
    """The DataLink service descriptors of a parsed VOTable (astropy): [{url, id_column}]."""
    out = []
    for res in getattr(votable, "resources", []) or []:
        if res.type != "meta" or (res.utype or "") != "adhoc:service":
            continue
        params = {p.name: p.value for p in res.params}
        std = str(params.get("standardID") or "")
        url = params.get("accessURL")
        if not url or (std and not std.startswith(DATALINK_STD)):
            continue
        ref = None
        for group in res.groups:
            if group.name == "inputParams":
                for p in group.entries:
                    if getattr(p, "name", None) == "ID" and getattr(p, "ref", None):
                        ref = p.ref
        if ref is None:
            continue
        field_names = {}
        for table in votable.iter_tables():
            for f in table.fields:
                if f.ID:
                    field_names[f.ID] = f.name
        out.append({"url": str(url), "id_column": field_names.get(ref, ref)})
    return out


def attach(table: pa.Table, descriptors: list[dict]) -> pa.Table:
    """``table`` with the descriptors in its schema metadata (stored with the rows)."""
    if not descriptors:
        return table
    meta = dict(table.schema.metadata or {})
    meta[KEY] = json.dumps(descriptors).encode()
    return table.replace_schema_metadata(meta)


def read(schema: pa.Schema) -> list[dict]:
    raw = (schema.metadata or {}).get(KEY)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [d for d in value if isinstance(d, dict) and d.get("url") and d.get("id_column")]
