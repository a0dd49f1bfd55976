"""Request and response models of discovery (the REST bodies and the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from ..fields import OFFSET_MAX
from ..operations import OperationFields

QueryStatus = Literal["queued", "running", "completed", "error", "cancelled"]


class _Positional(BaseModel):
    """A position given as ra/dec in degrees (ICRS) or as a target name to resolve."""

    # (the schema says what _position checks: ra and dec, or target, not both)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["ra", "dec"], "properties": {"ra": {"type": "number"}, "dec": {"type": "number"},
                                                   "target": {"type": "null"}}},
        {"required": ["target"], "properties": {"target": {"type": "string"}, "ra": {"type": "null"},
                                                "dec": {"type": "null"}}}]})
    ra: float | None = Field(None, ge=0, lt=360, description="degrees, ICRS")
    dec: float | None = Field(None, ge=-90, le=90, description="degrees, ICRS")
    target: str | None = Field(None, min_length=1, max_length=200,
                               description="an object name resolved to coordinates (Sesame)")
    maxrec: int | None = Field(None, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _position(self):
        if self.target is None and (self.ra is None or self.dec is None):
            raise ValueError("give both ra and dec (degrees), or a target name")
        if self.target is not None and (self.ra is not None or self.dec is not None):
            raise ValueError("give either ra/dec or a target name, not both")
        return self


class ConeQuery(_Positional):
    kind: Literal["cone"]
    radius: float = Field(gt=0, le=10, description="degrees")


class SiaQuery(_Positional):
    kind: Literal["sia"]
    size: float = Field(0.1, gt=0, le=10, description="degrees: the side of the searched square")
    band: tuple[float, float] | None = Field(None, description="wavelength interval in metres")
    time: tuple[datetime, datetime] | None = Field(None, description="observation time interval")
    version: Literal["auto", "2", "1"] = "auto"


class SsaQuery(_Positional):
    kind: Literal["ssa"]
    size: float = Field(0.1, gt=0, le=10, description="degrees: the diameter of the searched region")


class TapQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    kind: Literal["tap"]
    query: str = Field(min_length=1, max_length=100_000, description="ADQL")
    run_async: bool | None = Field(
        None, alias="async",
        description="run as a UWS job; unset: asynchronous when maxrec exceeds the archive's sync limit")
    maxrec: int | None = Field(None, ge=1, le=10_000_000)


class DidQuery(BaseModel):
    """A Rucio data identifier search (archives of type rucio)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["did"]
    scope: str = Field(min_length=1, max_length=64)
    name: str = Field("*", min_length=1, max_length=250, description="a name; * and ? are wildcards")
    type: Literal["all", "collection", "dataset", "container", "file"] = "collection"
    filters: dict[str, Any] = Field(default_factory=dict, description="metadata key -> value")
    maxrec: int | None = Field(None, ge=1, le=1_000_000)


QueryRequest = Annotated[
    ConeQuery | SiaQuery | SsaQuery | TapQuery | DidQuery, Field(discriminator="kind")
]


class QueryBody(RootModel[QueryRequest]):
    """POST /archives/{archive}/queries."""


class StartParams(BaseModel):
    wait: float = Field(5.0, ge=0, le=60,
                        description="seconds to wait for the query to finish before answering")


class Column(BaseModel):
    name: str
    datatype: str | None = None
    arraysize: str | None = None
    unit: str | None = None
    ucd: str | None = None
    description: str | None = None


class QueryInfo(OperationFields):
    id: str
    archive: str
    kind: str
    request: dict[str, Any]
    status: QueryStatus
    row_count: int | None = None
    overflow: bool = False
    columns: list[Column] = []
    access_url_column: str | None = Field(
        None, description="the column holding each row's data link (images, spectra, files)")


class QueryList(BaseModel):
    queries: list[QueryInfo]


class RowsParams(BaseModel):
    offset: int = Field(0, ge=0, le=OFFSET_MAX)
    limit: int = Field(100, ge=1, le=5000)
    sort: str | None = Field(None, max_length=256, description="a column name")
    order: Literal["asc", "desc"] = "asc"


class RowsPage(BaseModel):
    offset: int
    limit: int
    total: int
    sort: str | None = None
    order: str = "asc"
    rows: list[dict[str, Any]]


class ArchiveInfo(BaseModel):
    id: str
    title: str
    description: str
    type: str
    capabilities: list[str] = Field(description="query kinds this archive answers")
    services: dict[str, str] = Field(description="capability -> service URL")
    reachable: bool | None = Field(None, description="null: not checked")
    details: dict[str, Any] = Field(default_factory=dict,
                                    description="what the service says of itself: default_maxrec, hard_maxrec")


class ArchiveList(BaseModel):
    archives: list[ArchiveInfo]
