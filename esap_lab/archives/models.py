"""Request and response models of discovery (the REST bodies and the OpenAPI schemas)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, RootModel, model_validator

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

    @model_validator(mode="after")
    def _intervals(self):
        _check_intervals(self.band, self.time)
        return self


def _check_intervals(band, time) -> None:
    """A band of positive wavelengths, low to high; a time interval from start to end."""
    if band is not None and not 0 < band[0] <= band[1]:
        raise ValueError("band: give two wavelengths in metres, above 0, the lower first (e.g. [4e-7, 7e-7])")
    if time is not None:
        start, end = (t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in time)
        if start > end:
            raise ValueError("time: the start must not be after the end")


class SsaQuery(_Positional):
    kind: Literal["ssa"]
    size: float = Field(0.1, gt=0, le=10, description="degrees: the diameter of the searched region")
    band: tuple[float, float] | None = Field(None, description="wavelength interval in metres (SSA BAND: "
                                                               "spectra covering part of it)")
    time: tuple[datetime, datetime] | None = Field(None, description="observation time interval (SSA TIME)")

    @model_validator(mode="after")
    def _intervals(self):
        _check_intervals(self.band, self.time)
        return self


class UploadSource(BaseModel):
    """A table sent with a TAP query (TAP_UPLOAD): exactly one of ``query``, ``table``, ``basket``."""

    model_config = ConfigDict(extra="forbid")
    query: str | None = Field(None, min_length=1, max_length=64, description="a completed query: its stored rows")
    table: str | None = Field(None, min_length=1, max_length=256, description="one of my tables (name or id)")
    basket: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        None, min_length=1, max_length=10_000, description="basket record items (ids): their rows")
    columns: list[Annotated[str, Field(min_length=1, max_length=256)]] | None = Field(
        None, min_length=1, max_length=500, description="send only these columns (default: all)")

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("query", "table", "basket") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of query, table or basket")
        return self


UploadName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")]


class TapQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    kind: Literal["tap"]
    query: str = Field(min_length=1, max_length=100_000, description="ADQL")
    run_async: bool | None = Field(
        None, alias="async",
        description="run as a UWS job; unset: asynchronous when maxrec exceeds the archive's sync limit")
    maxrec: int | None = Field(None, ge=1, le=10_000_000)
    uploads: dict[UploadName, UploadSource] | None = Field(
        None, max_length=8, description="tables sent with the query (TAP_UPLOAD): the ADQL reads each as "
                                        "TAP_UPLOAD.<name>")


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
    position: ErrorPosition | None = Field(None, description="where an ADQL error is (line, column), when "
                                                             "the service's message says")
    phase: str | None = Field(None, description="the UWS phase of the archive's async job (QUEUED, EXECUTING, "
                                            "COMPLETED, ERROR, ABORTED), updated while it runs; none for "
                                            "synchronous queries")
    elapsed: float | None = Field(None, description="seconds since the query started (to its end once final)")

    @model_validator(mode="after")
    def _error_position(self):
        if self.position is None and self.status == "error" and self.reason == "query-rejected":
            self.position = error_position(self.message, self.request.get("query"))
        return self


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
    index: list[int] | None = Field(
        None, description="the rows' numbers in stored order (from 0); given when sorted, so a selection in a "
                          "sorted grid names the same rows to export, plots, SAMP and DataLink")


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
    origin: Literal["config", "user"] = Field(
        "config", description="config: set by the administrator (read-only); user: added by this user")
    ivoid: str | None = Field(None, description="the registry identifier it was added from, if any")


class ArchiveList(BaseModel):
    archives: list[ArchiveInfo]


# -- the schema browser, TAP examples, fan-out searches (esap_lab.archives.schema / .searches) --------


class ErrorPosition(BaseModel):
    """Where in the query text a service located an error (1-based), when it said so."""

    line: int = Field(ge=1)
    column: int | None = Field(None, ge=1)


_POSITION_PATTERNS = (
    # DaCHS: "(at char 37), (line:1, col:38)"; TAPlib: "at line 1, column 38"; "l.1 c.38" (VizieR)
    re.compile(r"line[:\s]*(\d+)\s*,?\s*(?:col(?:umn)?)[:\s.]*(\d+)", re.IGNORECASE),
    re.compile(r"\bl\.\s*(\d+)\s*,?\s*c\.\s*(\d+)"),
    re.compile(r"\bline\s+(\d+):(\d+)", re.IGNORECASE),  # ANTLR: "line 1:38"
)
_CHAR_PATTERN = re.compile(r"\bat char(?:acter)?\s+(\d+)", re.IGNORECASE)
# an error that names what it could not find but not where: "column 'vmagg' could not be located"
# (DaCHS), "Column \"x\" not found", "Unknown table 'y'"
_NAMED_PATTERN = re.compile(r"\b(?:column|table|field|identifier|function)\s+['\"`]([^'\"`\s]{1,128})['\"`]",
                            re.IGNORECASE)


def error_position(message: str | None, query: str | None = None) -> ErrorPosition | None:
    """The line and column an ADQL error message names (or, from a character offset, computed on
    ``query``); None when it names none."""
    if not message:
        return None
    for pattern in _POSITION_PATTERNS:
        m = pattern.search(message)
        if m:
            return ErrorPosition(line=max(1, int(m.group(1))), column=max(1, int(m.group(2))))
    m = _CHAR_PATTERN.search(message)
    if m and query is not None:
        return _at(query, min(int(m.group(1)), len(query)))  # 0-based
    m = _NAMED_PATTERN.search(message)
    if m and query is not None:  # the name's first place in the query, as a whole word
        name = m.group(1).rsplit(".", 1)[-1]
        found = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", query, re.IGNORECASE) or \
            re.search(rf"(?<!\w){re.escape(name)}(?!\w)", query, re.IGNORECASE)
        if found:
            return _at(query, found.start())
    return None


def _at(query: str, offset: int) -> ErrorPosition:
    before = query[:offset]
    return ErrorPosition(line=before.count("\n") + 1, column=offset - (before.rfind("\n") + 1) + 1)


class TableListParams(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    schema_: str | None = Field(None, alias="schema", max_length=512,
                                description="list the tables of this schema (else: the schemas)")
    q: str | None = Field(None, max_length=200, description="keep schemas and tables whose name, title or "
                                                             "description contains this (case-insensitive)")
    offset: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(200, ge=1, le=5000)


class SchemaEntry(BaseModel):
    name: str
    title: str | None = None
    description: str | None = None
    table_count: int = Field(description="its tables (those matching q, when q is given)")


class TableEntry(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: str = Field(description="the name to use in ADQL (schema-qualified)")
    schema_: str = Field(alias="schema")
    title: str | None = None
    description: str | None = None
    type: str | None = Field(None, description="table, view or output")
    nrows: int | None = Field(None, description="row count, where the service gives it")


class TableList(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    archive: str
    schema_: str | None = Field(None, alias="schema")
    q: str | None = None
    schemas: list[SchemaEntry] = Field(description="without schema: the schemas (matching q); else that one")
    tables: list[TableEntry] = Field(description="with schema or q: one page of the (matching) tables")
    total: int = Field(description="tables (with schema or q) or schemas (else) in all, before paging")
    offset: int
    limit: int


class TableColumn(BaseModel):
    name: str
    datatype: str | None = None
    arraysize: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None
    indexed: bool = False
    principal: bool = False


class TableDetail(TableEntry):
    archive: str
    columns: list[TableColumn]


class Example(BaseModel):
    name: str
    query: str


class ExampleList(BaseModel):
    archive: str
    examples: list[Example]


class SearchBody(BaseModel):
    """POST /searches: one request, sent to each archive at once."""

    model_config = ConfigDict(extra="forbid")
    request: SearchRequest
    archives: list[str] = Field(min_length=1, max_length=50, description="archive ids")


class SearchWaitParams(BaseModel):
    wait: float = Field(0.0, ge=0, le=60, description="seconds to wait, while archives still run, for one of "
                                                      "them to end before answering (0: answer at once)")


class SearchEntry(BaseModel):
    archive: str
    query_id: str | None = Field(None, description="GET /queries/{query_id} and its rows; none when the "
                                                   "archive could not take the query")
    status: QueryStatus
    row_count: int | None = None
    overflow: bool = False
    message: str | None = None
    reason: str | None = None
    service: str | None = Field(None, description="the remote service that failed")
    position: ErrorPosition | None = Field(None, description="where an ADQL error is, when the service said")


class SearchInfo(BaseModel):
    id: str
    created: datetime
    request: dict[str, Any]
    status: Literal["running", "completed"] = Field(
        description="running while any archive's query runs; completed once each has ended (see each entry)")
    archives: list[SearchEntry]
    merged_query_id: str | None = Field(None, description="the query holding the archives' results merged "
                                                          "(POST /searches/{id}/merge), once made")


# -- ObsCore searches (sent as ADQL on ivoa.obscore; esap_lab.archives.searches) ---------------------

DATAPRODUCT_TYPES = ("image", "cube", "spectrum", "sed", "timeseries", "visibility", "event", "measurements")


class ObscoreQuery(BaseModel):
    """An ObsCore search: runs as ADQL on the archive's ivoa.obscore table (TAP)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["obscore"]
    ra: float | None = Field(None, ge=0, lt=360, description="degrees, ICRS")
    dec: float | None = Field(None, ge=-90, le=90, description="degrees, ICRS")
    target: str | None = Field(None, min_length=1, max_length=200,
                               description="an object name resolved to coordinates (Sesame)")
    radius: float = Field(0.1, gt=0, le=10, description="degrees, around the position")
    band: tuple[float, float] | None = Field(None, description="wavelength interval in metres (overlapping "
                                                               "em_min..em_max)")
    time: tuple[datetime, datetime] | None = Field(None, description="time interval (overlapping t_min..t_max)")
    dataproduct_type: list[Literal[DATAPRODUCT_TYPES]] = Field(default_factory=list, max_length=8)  # type: ignore[valid-type]
    calib_level: list[int] = Field(default_factory=list, max_length=5, description="0 raw ... 4 analysis products")
    maxrec: int | None = Field(None, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _constraints(self):
        if (self.ra is None) != (self.dec is None):
            raise ValueError("give both ra and dec (degrees), or a target name, or no position")
        if self.target is not None and self.ra is not None:
            raise ValueError("give either ra/dec or a target name, not both")
        if any(not 0 <= c <= 4 for c in self.calib_level):
            raise ValueError("calib_level: each must be 0, 1, 2, 3 or 4")
        _check_intervals(self.band, self.time)
        if (self.ra is None and self.target is None and self.band is None and self.time is None
                and not self.dataproduct_type and not self.calib_level):
            raise ValueError("give at least one constraint: a position, band, time, dataproduct_type or calib_level")
        return self


SearchRequest = Annotated[
    ConeQuery | SiaQuery | SsaQuery | TapQuery | DidQuery | ObscoreQuery, Field(discriminator="kind")
]


# -- the registry (RegTAP) and the archives a user adds (esap_lab.archives.discovery, .store) --------

# the IVOA messenger vocabulary's terms (lower case, as RegTAP keeps them)
WAVEBANDS = ("radio", "millimeter", "infrared", "optical", "uv", "euv", "x-ray", "gamma-ray", "photon",
             "neutrino", "gravitational-wave", "particle")
REGISTRY_SERVICE_TYPES = ("tap", "scs", "sia", "sia2", "ssa")


class RegistryParams(BaseModel):
    """GET /registry: every constraint given must hold."""

    keywords: str | None = Field(None, max_length=200, description="words, each matched in title, description "
                                                                   "or subjects")
    servicetype: Literal[REGISTRY_SERVICE_TYPES] | None = Field(  # type: ignore[valid-type]
        None, description="tap, scs (cone search), sia (v1), sia2, ssa (spectra)")
    waveband: Literal[WAVEBANDS] | None = Field(None, description="an IVOA messenger term")  # type: ignore[valid-type]
    ucd: str | None = Field(None, max_length=100, pattern=r"^[A-Za-z0-9_.;%*:-]+$",
                            description="a UCD or a pattern (% or * as wildcard) of a column the resource serves")
    maxrec: int = Field(100, ge=1, le=1000)

    @model_validator(mode="after")
    def _something(self):
        if self.keywords is not None and not self.keywords.strip():
            self.keywords = None
        if not (self.keywords or self.servicetype or self.waveband or self.ucd):
            raise ValueError("give at least one of keywords, servicetype, waveband or ucd")
        return self


class RegistryCapability(BaseModel):
    type: str = Field(description="tap, scs, sia, sia2, ssa, or the standard's identifier for others")
    standard_id: str | None = None
    access_url: str | None = None
    description: str | None = None


class RegistryResource(BaseModel):
    ivoid: str
    short_name: str | None = None
    title: str
    description: str | None = None
    type: str | None = Field(None, description="the resource type, e.g. vs:catalogservice")
    waveband: list[str] = []
    reference_url: str | None = None
    capabilities: list[RegistryCapability]
    services: dict[str, str] = Field(description="what an archive added from it searches: capability -> URL")
    archive: str | None = Field(None, description="the archive that has these services already, if any")


class RegistryResults(BaseModel):
    registry: str = Field(description="the RegTAP service searched")
    resources: list[RegistryResource]
    overflow: bool = Field(False, description="more resources matched than maxrec")


class ArchiveBody(BaseModel):
    """POST /archives: an archive of this user (e.g. a service found in the registry)."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                           description="default: made from the title")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    tap: HttpUrl | None = None
    scs: HttpUrl | None = None
    sia2: HttpUrl | None = None
    sia: HttpUrl | None = None
    ssa: HttpUrl | None = None
    ivoid: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _a_service(self):
        if not any((self.tap, self.scs, self.sia2, self.sia, self.ssa)):
            raise ValueError("give at least one service URL: tap, scs, sia2, sia or ssa")
        return self
