"""Basket items: typed, with a stable id derived from what they point at.

Four kinds, discriminated on ``kind``:

- ``record``: rows of a query result (archive, query id, the rows' values, access URL / DataLink);
- ``query``: an archive and a query definition, to run again;
- ``did``: a Rucio data identifier ``scope:name`` and its type;
- ``file``: a URL with optional size and checksum;
- ``software``: a record of the OSSR (a Zenodo community), by its site and record id;
- ``table``: one of my tables (esap_lab.tables), by its id.

The id is a hash of the item's *content key* (what it points at, not its title or notes), so
adding the same thing twice keeps one item, and an exported basket imports with the same ids.
This module is plain pydantic: cheap to import in a kernel.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from ..archives.models import Column as ColumnMeta  # what is known of a record's columns
from ..fields import OFFSET_MAX

ItemKind = Literal["record", "query", "did", "file", "software", "table"]
KINDS: tuple[str, ...] = ("record", "query", "did", "file", "software", "table")

EXPORT_FORMAT = "esap-lab-basket"
EXPORT_VERSION = 1

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$")
_SAFE = ConfigDict(extra="forbid", ser_json_inf_nan="null")
# One item is at most this much JSON: the basket is listed and polled whole, so a big result
# belongs in a query item (its rows stay in the query's stored result), not in a record.
MAX_ITEM_BYTES = 2 * 1024 * 1024


def _check_size(model: BaseModel, what: str) -> None:
    size = len(model.model_dump_json())
    if size > MAX_ITEM_BYTES:
        raise ValueError(f"{what} is {size:,} bytes of JSON, more than the {MAX_ITEM_BYTES:,} an item may hold "
                         f"(keep fewer rows or less metadata; a whole result fits in a query item)")


class Common(BaseModel):
    """Fields every item has; the server sets id, added, updated and version."""

    model_config = _SAFE
    title: str | None = Field(None, max_length=500, description="shown in the basket; derived when absent")
    source: str | None = Field(None, max_length=256,
                               description="where it came from (archive id, Rucio instance, host); derived when absent")
    notes: str = Field("", max_length=20_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=50)
    metadata: dict[str, Any] = Field(default_factory=dict, description="free metadata")

    @model_validator(mode="after")
    def _not_too_big(self):
        if not isinstance(self, Stored):  # what is stored was checked when it came in
            _check_size(self, "the item")
        return self

    def content_key(self) -> list:  # pragma: no cover - every kind overrides
        raise NotImplementedError

    def default_title(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def default_source(self) -> str:  # pragma: no cover
        raise NotImplementedError


class RecordFields(Common):
    kind: Literal["record"]
    archive: str = Field(min_length=1, max_length=64, description="the archive id")
    query_id: str | None = Field(None, max_length=64, description="the query the rows came from")
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=100_000,
                                       description="the rows' values, column name -> value")
    columns: list[ColumnMeta] | None = Field(
        None, description="column metadata; filled in from the query by the server when absent")
    access_url: str | None = Field(None, max_length=4096,
                                   description="the data link of a one-row record (image, spectrum, file)")
    access_url_column: str | None = Field(None, max_length=256,
                                          description="the column holding each row's data link")
    datalink: str | None = Field(None, max_length=4096, description="an IVOA DataLink service URL")

    @model_validator(mode="before")
    @classmethod
    def _one_row(cls, data: Any) -> Any:
        # {"row": {...}} is accepted for a one-row record
        if isinstance(data, dict) and "row" in data and "rows" not in data:
            data = {**data, "rows": [data["row"]]}
            del data["row"]
        return data

    def content_key(self) -> list:
        return ["record", self.archive, self.rows]

    def default_title(self) -> str:
        n = len(self.rows)
        first = self.rows[0]
        label = next((str(first[k]) for k in ("obs_title", "obs_id", "source_id", "id", "name", "main_id")
                      if first.get(k) not in (None, "")), None)
        if n == 1:
            return f"{self.archive}: {label}" if label else f"{self.archive}: 1 row"
        return f"{self.archive}: {n} rows" + (f" ({label}, …)" if label else "")

    def default_source(self) -> str:
        return self.archive


class QueryFields(Common):
    kind: Literal["query"]
    archive: str = Field(min_length=1, max_length=64, description="the archive id")
    query_id: str | None = Field(None, max_length=64, description="the server's query id (its stored rows)")
    request: dict[str, Any] = Field(description="the query definition, as POSTed to /archives/{archive}/queries")
    services: dict[str, str] = Field(
        default_factory=dict, description="capability -> service URL of the archive (filled in by the server) "
                                          "so a kernel can run the query again")
    row_count: int | None = Field(None, ge=0)

    @field_validator("request")
    @classmethod
    def _valid_request(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _query_request_adapter().validate_python(v).model_dump(mode="json", by_alias=True,
                                                                      exclude_none=True)

    def content_key(self) -> list:
        return ["query", self.archive, self.request]

    def default_title(self) -> str:
        r = self.request
        kind = r.get("kind")
        if kind == "tap":
            text = " ".join(str(r.get("query", "")).split())
            return f"{self.archive}: {text[:80]}{'…' if len(text) > 80 else ''}"
        if kind == "did":
            return f"{self.archive}: {r.get('scope')}:{r.get('name')}"
        where = r.get("target") or f"{r.get('ra')}, {r.get('dec')}"
        extent = r.get("radius", r.get("size"))
        return f"{self.archive}: {kind} {where} ({extent}°)"

    def default_source(self) -> str:
        return self.archive


class DidFields(Common):
    kind: Literal["did"]
    scope: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=250)
    did_type: Literal["file", "dataset", "container", "unknown"] = "unknown"
    instance: str | None = Field(None, max_length=64, description="the Rucio instance (multi-instance setups)")
    bytes: int | None = Field(None, ge=0)
    adler32: str | None = Field(None, max_length=16)
    md5: str | None = Field(None, max_length=64)

    @model_validator(mode="before")
    @classmethod
    def _from_rucio(cls, data: Any) -> Any:
        # As Rucio writes them: "did": "scope:name" for scope and name, types in capitals.
        if isinstance(data, dict):
            data = dict(data)
            did = data.pop("did", None)
            if isinstance(did, str) and ":" in did and "scope" not in data and "name" not in data:
                data["scope"], data["name"] = did.split(":", 1)
            if isinstance(data.get("did_type"), str):
                data["did_type"] = data["did_type"].lower()
        return data

    def content_key(self) -> list:
        return ["did", self.instance or "", self.scope, self.name]

    @property
    def did(self) -> str:
        return f"{self.scope}:{self.name}"

    def default_title(self) -> str:
        return self.did

    def default_source(self) -> str:
        return f"rucio:{self.instance}" if self.instance else "rucio"


class FileFields(Common):
    kind: Literal["file"]
    url: str = Field(min_length=1, max_length=4096,
                     description="where the file is (http, https, root, davs, s3, file ...)")
    name: str | None = Field(None, max_length=500)
    size: int | None = Field(None, ge=0, description="bytes")
    checksum: str | None = Field(None, max_length=200, pattern=r"^[A-Za-z0-9]+:[A-Za-z0-9+/=]+$",
                                 description="algorithm:value, e.g. md5:... or adler32:...")
    content_type: str | None = Field(None, max_length=200)

    @field_validator("url")
    @classmethod
    def _a_url(cls, v: str) -> str:
        if not _URL.match(v):
            raise ValueError("must be a URL such as https://host/path/file.fits")
        return v

    def content_key(self) -> list:
        return ["file", self.url]

    def default_title(self) -> str:
        return self.name or self.url.rstrip("/").rsplit("/", 1)[-1] or self.url

    def default_source(self) -> str:
        rest = self.url.split("://", 1)[-1]
        return rest.split("/", 1)[0] or self.url.split("://", 1)[0]


class SoftwareFields(Common):
    kind: Literal["software"]
    record_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                           description="the OSSR (Zenodo) record id")
    ossr: str = Field(min_length=1, max_length=2048, description="the OSSR's site, e.g. https://zenodo.org")
    name: str | None = Field(None, max_length=500, description="codemeta name, else the record's title")
    software_version: str | None = Field(None, max_length=200,
                                         description="the record's version (``version`` is the item's own)")
    doi: str | None = Field(None, max_length=500)
    url: str | None = Field(None, max_length=4096, description="the record's web page")
    keywords: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=200)
    path: str | None = Field(None, max_length=4096,
                             description="its folder under the server root once opened here")

    @field_validator("ossr")
    @classmethod
    def _a_site(cls, v: str) -> str:
        if not _URL.match(v):
            raise ValueError("must be the OSSR's URL, e.g. https://zenodo.org")
        return v.rstrip("/")

    def content_key(self) -> list:
        return ["software", self.ossr, self.record_id]

    def default_title(self) -> str:
        name = self.name or f"record {self.record_id}"
        return f"{name} {self.software_version}" if self.software_version else name

    def default_source(self) -> str:
        return self.ossr.split("://", 1)[-1].split("/", 1)[0] or self.ossr


class TableFields(Common):
    kind: Literal["table"]
    table_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$",
                          description="the table's id (GET /tables/{id}); stays when it is renamed")
    name: str = Field(min_length=1, max_length=64, description="its name when added")
    project: str = Field("default", max_length=64)
    row_count: int | None = Field(None, ge=0)

    def content_key(self) -> list:
        return ["table", self.table_id]

    def default_title(self) -> str:
        return self.name

    def default_source(self) -> str:
        return f"tables:{self.project}"


@functools.cache
def _query_request_adapter():
    # The archives' own model says what a valid query is (imported when first needed: the
    # archives package is heavier than a kernel needs just to list its basket).
    from pydantic import TypeAdapter

    from ..archives.models import QueryRequest

    return TypeAdapter(QueryRequest)


ItemInput = Annotated[RecordFields | QueryFields | DidFields | FileFields | SoftwareFields | TableFields,
                      Field(discriminator="kind")]


def item_id(fields: Common) -> str:
    """The stable id: a hash of what the item points at (never of its title or notes)."""
    key = json.dumps(fields.content_key(), sort_keys=True, separators=(",", ":"), default=str,
                     ensure_ascii=False)
    return "b" + hashlib.sha256(key.encode()).hexdigest()[:23]


class Stored(BaseModel):
    """What the server adds to every item."""

    id: str
    added: datetime
    updated: datetime
    version: int = Field(description="increases on every change; PATCH must carry the version it read")

    def paths(self) -> list:
        """Local paths of this item's staged files (pathlib.Path); see esap_lab.staging."""
        from .. import staging

        return staging.paths(self)

    def wait(self, timeout: float | None = None):
        """Wait until the staging of this item has completed; returns the transfer."""
        from .. import staging

        return staging.wait(self, timeout=timeout)


class RecordItem(Stored, RecordFields):
    title: str
    source: str

    def to_table(self):
        """The rows as an astropy Table (column units and descriptions when known)."""
        from .tables import rows_table

        return rows_table(self.rows, self.columns)


class QueryItem(Stored, QueryFields):
    title: str
    source: str

    @field_validator("request")
    @classmethod
    def _valid_request(cls, v: dict[str, Any]) -> dict[str, Any]:
        return v  # validated when added; a stored item is read as it was written

    def to_table(self):
        """The query's rows as an astropy Table: its stored result when the server still has
        it, otherwise the query is run again (synchronously) on the archive."""
        from .tables import query_table

        return query_table(self)


class DidItem(Stored, DidFields):
    title: str
    source: str


class FileItem(Stored, FileFields):
    title: str
    source: str


class SoftwareItem(Stored, SoftwareFields):
    title: str
    source: str


class TableItem(Stored, TableFields):
    title: str
    source: str

    def to_table(self):
        """The table's rows as an astropy Table (from the server, by id)."""
        from ..tables import get

        return get(self.table_id)


Item = Annotated[RecordItem | QueryItem | DidItem | FileItem | SoftwareItem | TableItem,
                 Field(discriminator="kind")]



class BasketItem(RootModel[Item]):
    """One stored item (any kind)."""


STORED_CLASS: dict[str, type[Stored]] = {"record": RecordItem, "query": QueryItem, "did": DidItem,
                                         "file": FileItem, "software": SoftwareItem, "table": TableItem}


# -- REST bodies ------------------------------------------------------------------------------
class AddBody(RootModel[ItemInput | list[ItemInput]]):
    """POST /basket/items: one item, or a list of items."""

    @model_validator(mode="wrap")
    @classmethod
    def _one_or_many(cls, data: Any, handler):
        # Validate as what was sent (an object or a list), so an error names only that shape.
        if isinstance(data, dict):
            return cls.model_construct(root=_one_adapter().validate_python(data))
        return cls.model_construct(root=_many_adapter().validate_python(data))


@functools.cache
def _one_adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(ItemInput)


@functools.cache
def _many_adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(list[ItemInput])


class AddResult(BaseModel):
    items: list[Item] = Field(description="the stored items, in the order given (an existing one for a duplicate)")
    added: int = Field(description="how many were new")
    duplicates: int = Field(description="how many were already in the basket (kept once)")
    revision: int


class ListParams(BaseModel):
    kind: ItemKind | None = None
    offset: int = Field(0, ge=0, le=OFFSET_MAX)
    limit: int = Field(1000, ge=1, le=10_000)
    order: Literal["asc", "desc"] = Field("asc", description="by the time items were added")


class ItemPage(BaseModel):
    offset: int
    limit: int
    total: int = Field(description="items matching the filter")
    revision: int = Field(description="the basket's revision: changes whenever anything in it changes")
    items: list[Item]


class Summary(BaseModel):
    revision: int = Field(description="changes whenever anything in the basket changes: poll this")
    count: int
    counts: dict[str, int] = Field(description="kind -> number of items")


class PatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(description="the version the edit is based on; a stale one gets 409")
    title: str | None = Field(None, min_length=1, max_length=500)
    notes: str | None = Field(None, max_length=20_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(None, max_length=50)
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _not_too_big(self):
        _check_size(self, "the edit")
        return self


class KindParams(BaseModel):
    kind: ItemKind | None = Field(None, description="only the items of this kind")


class Cleared(BaseModel):
    removed: int
    revision: int


class ExportDoc(BaseModel):
    """A basket as a file (GET /basket/export, POST /basket/import)."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="null")
    format: Literal["esap-lab-basket"] = Field(EXPORT_FORMAT, description="always esap-lab-basket")
    version: Literal[1] = Field(EXPORT_VERSION, description="version of this file format")
    exported: datetime | None = None
    items: list[ItemInput] = Field(max_length=200_000)

    @model_validator(mode="before")
    @classmethod
    def _drop_server_fields(cls, data: Any) -> Any:
        # An exported item carries what the server added (id, times, version): ids are derived
        # from the content again, so a file edited by hand cannot smuggle in a wrong id.
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = {**data, "items": [{k: v for k, v in it.items() if k not in _SERVER_FIELDS}
                                      if isinstance(it, dict) else it for it in data["items"]]}
        return data


_SERVER_FIELDS = frozenset({"id", "added", "updated", "version"})


class ExportFile(BaseModel):
    """GET /basket/export: the file as written (POST it to /basket/import elsewhere)."""

    format: Literal["esap-lab-basket"]
    version: Literal[1]
    exported: datetime
    items: list[Item]


class ImportParams(BaseModel):
    mode: Literal["merge", "replace"] = Field(
        "merge", description="merge: add to the basket (duplicates kept once); replace: the basket becomes the file")


class ImportResult(BaseModel):
    added: int
    duplicates: int
    removed: int = Field(description="items removed first (mode replace)")
    total: int = Field(description="items in the basket now")
    revision: int
