"""The basket: everything found, typed and persistent, shared by the UI and your notebooks.

In a notebook of the same session (no token to paste: the kernel talks to its own Jupyter
server through ``esap_lab.client``, with the credentials the server gave it)::

    from esap_lab import basket

    basket.items()                      # every item, oldest first
    basket.items("record")[0].to_table()   # rows as an astropy Table
    basket.add(kind="file", url="https://example.org/a.fits")
    basket.add(kind="did", scope="user.me", name="run7.h5", did_type="file")
    basket.remove(item_id)
    w = basket.BasketWidget(); w       # pick items; w.selected is the list picked

Items are ``RecordItem``, ``QueryItem``, ``DidItem`` or ``FileItem`` (pydantic models).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from .models import KINDS, DidItem, ExportDoc, FileItem, ImportResult, Item, ItemInput, QueryItem, RecordItem

_input_adapter: TypeAdapter = TypeAdapter(ItemInput)
_item_adapter: TypeAdapter = TypeAdapter(Item)
_PAGE = 1000  # items per request when listing

__all__ = ["KINDS", "BasketWidget", "DidItem", "FileItem", "Item", "QueryItem", "RecordItem", "add", "clear",
           "export_file", "get", "import_file", "items", "records_table", "remove", "revision", "update"]


def _client():
    from ..client import client

    return client()


def _item(data: dict):
    return _item_adapter.validate_python(data)


def items(kind: str | None = None) -> list:
    """Every item in the basket (only those of ``kind``: record, query, did, file), oldest first."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    c, out, offset = _client(), [], 0
    while True:
        page = c.get("basket", "items", params={"kind": kind, "offset": offset, "limit": _PAGE})
        out.extend(_item(d) for d in page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return out


def get(item_id: str):
    """One item by its id."""
    return _item(_client().get("basket", "items", item_id))


def _plain(value: Any) -> Any:
    # numpy scalars and arrays (astropy rows) into JSON-friendly Python values; masked -> None
    if type(value).__name__ == "MaskedConstant":
        return None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _rows(rows: Any) -> list[dict]:
    """Rows given as dicts, or as an astropy Table / Row."""
    colnames = getattr(rows, "colnames", None)
    if colnames is not None:
        from astropy.table import Row

        rows = [rows] if isinstance(rows, Row) else rows
        return [{c: _plain(r[c]) for c in colnames} for r in rows]
    return [{k: _plain(v) for k, v in r.items()} for r in rows]


def add(item: Any = None, /, **fields: Any):
    """Add one item (a dict, keyword fields, or a list of dicts -> a list of items).

    ``add(kind="record", archive="gavo", rows=table)`` takes an astropy Table or Row as rows.
    Adding what is already there returns the item already there. The server completes the
    item as it does for the UI (a query's column units, the access URL, the archive's services)."""
    many = isinstance(item, list | tuple)
    given: Iterable = item if many else [{**(item or {}), **fields}]
    bodies = []
    for d in given:
        d = dict(d)
        if d.get("kind") == "record":
            for key in ("rows", "row"):
                if key in d:
                    d[key] = _rows(d[key]) if key == "rows" else _rows([d[key]])[0]
        _input_adapter.validate_python(d)  # a bad item fails here, naming the field, before anything is sent
        bodies.append(d)
    result = _client().post("basket", "items", json=bodies)
    out = [_item(d) for d in result["items"]]
    return out if many else out[0]


def records_table(items: Iterable | None = None, *, archive: str | None = None, query_id: str | None = None):
    """The rows of several record items as one astropy Table (all record items by default, or
    those of one archive / query; ``items`` may hold items or ids). The result grid adds one
    record per selected row: this puts them back together."""
    from .tables import rows_table

    if items is None:
        chosen = globals()["items"]("record")
    else:
        chosen = [get(i) if isinstance(i, str) else i for i in items]
        if any(i.kind != "record" for i in chosen):
            raise ValueError("records_table takes record items only")
    chosen = [i for i in chosen if (archive is None or i.archive == archive)
              and (query_id is None or i.query_id == query_id)]
    rows = [r for i in chosen for r in i.rows]
    columns = next((i.columns for i in chosen if i.columns), None)
    if not rows:
        raise ValueError("no record items to make a table of")
    return rows_table(rows, columns)


def update(item_id: str, *, version: int | None = None, **changes: Any):
    """Edit title, notes, tags or metadata. With ``version`` the edit fails (Conflict) if the
    item changed since you read that version; without, it applies to the current one."""
    item_id = getattr(item_id, "id", item_id)
    if version is None:
        version = get(item_id).version
    return _item(_client().patch("basket", "items", item_id, json={"version": version, **changes}))


def remove(item: Any) -> None:
    """Remove an item (the item or its id)."""
    _client().delete("basket", "items", getattr(item, "id", item))


def clear(kind: str | None = None) -> int:
    """Empty the basket (or remove the items of one kind); -> how many were removed."""
    return _client().delete("basket", "items", params={"kind": kind})["removed"]


def revision() -> int:
    """A number that changes whenever the basket changes."""
    return _client().get("basket")["revision"]


def export_file(path: str | Path) -> Path:
    """Write the basket to a JSON file (importable with ``import_file`` or in the UI)."""
    import json

    path = Path(path)
    path.write_text(json.dumps(_client().get("basket", "export"), indent=1))
    return path


def import_file(path: str | Path, mode: str = "merge") -> ImportResult:
    """Add the items of an exported basket file (``mode="replace"`` empties the basket first).
    A file that is not valid changes nothing."""
    import json

    data = json.loads(Path(path).read_bytes())
    ExportDoc.model_validate(data)  # a bad file fails here, naming the field, before anything is sent
    result = _client().post("basket", "import", params={"mode": mode}, json=data)
    return ImportResult.model_validate(result)


def __getattr__(name: str):
    if name == "BasketWidget":  # ipywidgets only when asked for
        from .widget import BasketWidget

        return BasketWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
