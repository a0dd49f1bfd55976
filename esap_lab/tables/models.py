"""Request and response models of "my tables" (the REST bodies and the OpenAPI schemas).

Plain pydantic: a kernel imports it without DuckDB or pyarrow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..archives.models import Column, RowsPage, RowsParams  # the result grid's contract
from ..fields import WebUrl

__all__ = ["FORMATS", "BasketSource", "Column", "CreateBody", "CrossmatchBody", "ExportParams", "FileSource",
           "ListParams", "PatchBody", "Provenance", "QuerySource", "ResultSource", "RowsPage", "RowsParams",
           "SqlBody", "TableInfo", "TableList", "UploadParams", "UrlSource"]

TableFormat = Literal["csv", "fits", "votable", "ecsv", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "fits", "votable", "ecsv", "parquet")

# A table's name is an SQL identifier (it is how SQL refers to it); result_* names are the server's.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="an SQL identifier: letters, digits, _")]
Project = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")]
_STRICT = ConfigDict(extra="forbid")


_ROUTES = {"sql", "upload", "crossmatch"}  # /tables/<these> are operations, not tables


def _not_reserved(v: str | None) -> str | None:
    if v is not None and v.lower().startswith("result_"):
        raise ValueError("names starting with result_ are kept for SQL and crossmatch results")
    if v is not None and v.lower() in _ROUTES:
        raise ValueError(f"{v!r} is taken by the API (/tables/{v.lower()}); choose another name")
    return v


class Provenance(BaseModel):
    """Where a table came from: enough to say how to make it again."""

    kind: Literal["query", "basket", "file", "url", "upload", "sql", "crossmatch", "result"]
    archive: str | None = None
    query_id: str | None = None
    request: dict[str, Any] | None = Field(None, description="the archive query, as posted")
    items: list[str] | None = Field(None, description="basket item ids")
    path: str | None = Field(None, description="a file, relative to the server root")
    url: str | None = None
    format: str | None = None
    sql: str | None = None
    inputs: list[str] | None = Field(None, description="tables used (SQL, crossmatch)")
    params: dict[str, Any] | None = Field(None, description="crossmatch parameters")
    parent: Provenance | None = Field(None, description="a saved result: where the result came from")


class TableInfo(BaseModel):
    id: str
    name: str = Field(description="the name SQL uses")
    project: str
    kind: Literal["table", "result"] = Field(
        description="table: saved by name; result: an SQL or crossmatch result (kept a while, savable)")
    description: str = ""
    row_count: int
    bytes: int = Field(description="size of the stored Parquet file")
    overflow: bool = Field(False, description="the rows were cut at the configured maximum")
    columns: list[Column]
    provenance: Provenance
    created: datetime
    updated: datetime


class TableList(BaseModel):
    tables: list[TableInfo]


class ListParams(BaseModel):
    project: str | None = None
    kind: Literal["table", "result"] | None = Field("table", description="tables (default) or results")


class QuerySource(BaseModel):
    model_config = _STRICT
    kind: Literal["query"]
    query_id: str = Field(min_length=1, max_length=64, description="a completed query (its stored result)")


class BasketSource(BaseModel):
    model_config = _STRICT
    kind: Literal["basket"]
    items: list[str] = Field(min_length=1, max_length=100_000, description="ids of record items")


class FileSource(BaseModel):
    model_config = _STRICT
    kind: Literal["file"]
    path: str = Field(min_length=1, max_length=4096, description="a file, relative to the server root")
    format: TableFormat | None = Field(None, description="default: from the file's extension")


class UrlSource(BaseModel):
    model_config = _STRICT
    kind: Literal["url"]
    url: WebUrl
    format: TableFormat | None = Field(None, description="default: from the URL's extension")


class ResultSource(BaseModel):
    model_config = _STRICT
    kind: Literal["result"]
    id: str = Field(min_length=1, max_length=64, description="an SQL or crossmatch result")


Source = Annotated[QuerySource | BasketSource | FileSource | UrlSource | ResultSource, Field(discriminator="kind")]


class CreateBody(BaseModel):
    """POST /tables: save something as a named table."""

    model_config = _STRICT
    name: Name
    project: Project = "default"
    description: str = Field("", max_length=20_000)
    source: Source
    replace: bool = Field(False, description="replace a table of that name (else 409)")

    _reserved = field_validator("name")(_not_reserved)


class UploadParams(BaseModel):
    """POST /tables/upload?name=&format=: the request body is the file."""

    name: Name
    format: TableFormat = "parquet"
    project: Project = "default"
    description: str = Field("", max_length=2000, description="(in the URL: a longer one belongs in a PATCH)")
    replace: bool = False

    _reserved = field_validator("name")(_not_reserved)


class PatchBody(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    description: str | None = Field(None, max_length=20_000)
    project: Project | None = None

    _reserved = field_validator("name")(_not_reserved)


class SqlBody(BaseModel):
    model_config = _STRICT
    sql: str = Field(min_length=1, max_length=100_000, description="one SELECT over your tables (DuckDB SQL)")
    max_rows: int | None = Field(None, ge=1, description="cut the result here (at most the configured maximum)")
    name: Name | None = Field(None, description="save the result directly as this table")

    _reserved = field_validator("name")(_not_reserved)


class CrossmatchBody(BaseModel):
    model_config = _STRICT
    a: str = Field(min_length=1, max_length=64, description="first table (name or id)")
    b: str = Field(min_length=1, max_length=64, description="second table (name or id)")
    radius: float = Field(gt=0, le=3600, description="arcsec")
    find: Literal["best", "best1", "best2", "all"] = Field(
        "best", description="best: the pairs closest for both their rows, so each row of either table is in at "
                            "most one pair (STILTS find=best); best1/best2: the closest match of each row of a / b; "
                            "all: every pair")
    join: Literal["1and2", "all1"] = Field("1and2", description="1and2: matched rows only; all1: every row of a")
    ra_a: str | None = Field(None, description="right ascension column of a (degrees); default: guessed")
    dec_a: str | None = None
    ra_b: str | None = None
    dec_b: str | None = None
    name: Name | None = Field(None, description="save the result directly as this table")

    _reserved = field_validator("name")(_not_reserved)


class ExportParams(BaseModel):
    format: TableFormat = "votable"
