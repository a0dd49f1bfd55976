"""Software from the OSSR: records, search pages, suggestions, "open here" and "run" (the REST
bodies and the OpenAPI schemas). Plain pydantic: cheap to import."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..jobs.models import Resources
from ..operations import OperationFields

CodemetaStatus = Literal["ok", "partial", "invalid", "missing", "unavailable"]


class SoftwareFile(BaseModel):
    key: str = Field(description="the file's name in the record")
    size: int | None = Field(None, description="bytes")
    checksum: str | None = Field(None, description="as the OSSR publishes it, e.g. md5:0123...")
    url: str = Field(description="where the OSSR serves the file")


class SoftwareRecord(BaseModel):
    """One OSSR record: its codemeta.json metadata where the record has one, Zenodo's otherwise
    (``codemeta_fields`` lists the fields that came from codemeta.json)."""

    id: str = Field(description="the OSSR (Zenodo) record id")
    ossr: str = Field(description="the OSSR's site (a software basket item's ``ossr``)")
    title: str
    name: str = Field(description="codemeta name, else the record's title")
    description: str = Field("", description="plain text")
    version: str | None = None
    license: str | None = None
    programming_language: list[str] = []
    runtime_platform: list[str] = []
    keywords: list[str] = []
    authors: list[str] = []
    doi: str | None = None
    url: str | None = Field(None, description="the record's web page")
    published: str | None = Field(None, description="publication date")
    resource_type: str | None = Field(None, description="software, dataset, ... as the OSSR says")
    files: list[SoftwareFile] = []
    codemeta_status: CodemetaStatus = Field(
        description="ok; partial (some fields missing or of the wrong type); invalid (not a JSON object: "
                    "Zenodo's metadata shown); missing (no codemeta.json in the record); unavailable (it could "
                    "not be fetched now)")
    codemeta_problems: list[str] = Field([], description="what was wrong with codemeta.json")
    codemeta_fields: list[str] = Field([], description="the fields taken from codemeta.json")


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field("", max_length=1000, description="keywords (the OSSR's query syntax); empty: every record")
    page: int = Field(1, ge=1, le=10_000)
    size: int = Field(10, ge=1, le=100)


class SearchPage(BaseModel):
    q: str
    page: int
    size: int
    total: int = Field(description="records matching, over all pages")
    next_page: int | None = Field(None, description="the next page's number; null on the last page")
    community: str = Field(description="the OSSR community searched")
    records: list[SoftwareRecord]


class SuggestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(10, ge=1, le=50)


class BasketTerm(BaseModel):
    label: str = Field(description="shown to the user, e.g. spectra, CTA")
    kind: Literal["archive", "dataproduct_type", "ucd", "scope", "keyword"]
    weight: float = Field(description="how much of the basket it stands for")


class Suggestion(BaseModel):
    record: SoftwareRecord
    score: float
    matches: list[str] = Field(description="the basket terms the record matches")
    why: str = Field(description="the matches as one line, e.g. 'spectra, CTA'")


class SuggestionList(BaseModel):
    terms: list[BasketTerm] = Field(description="what was taken from the basket")
    suggestions: list[Suggestion] = Field(description="best match first")


class OpenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: list[str] | None = Field(None, description="keys of the record's files to fetch; default: all")


class OpenResult(BaseModel):
    id: str = Field(description="the record id")
    path: str = Field(description="the software's folder, relative to the server root")
    open: str | None = Field(None, description="what to open first: the README, else a notebook")
    readme: str | None = None
    notebooks: list[str] = Field([], description="notebooks in the folder, relative to the server root")
    files: int = Field(description="files in the folder")
    bytes: int = Field(description="bytes downloaded (0 when the folder was already there)")
    reused: bool = Field(False, description="the folder was already there from an earlier open")
    skipped: list[str] = Field([], description="archive entries not unpacked (links, or a name already taken)")


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notebook: str | None = Field(None, max_length=4096,
                                 description="the notebook, relative to the software's folder; default: its "
                                             "only (or first) notebook")
    backend: str = Field("local", min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    basket: list[str] | None = Field(None, description="ids of the basket items passed as `esap_basket`; "
                                                       "default: the whole basket")


class OpenOperation(OperationFields):
    """"Open here" as a long operation (POST /software/{id}/opens): queued -> running ->
    completed | error | cancelled, like queries, transfers and jobs."""

    id: str = Field(description="the operation's id (GET/DELETE /software/opens/{id})")
    record_id: str = Field(description="the OSSR record being opened")
    ossr: str = Field(description="the OSSR's site")
    title: str = Field(description="the record's name and version, once known")
    status: Literal["queued", "running", "completed", "error", "cancelled"]
    bytes_done: int = Field(0, description="bytes downloaded so far")
    bytes_total: int | None = Field(None, description="bytes the record's files have (as the OSSR says)")
    progress: float = Field(0.0, description="0..1: downloaded bytes, then 1 once unpacked")
    result: OpenResult | None = Field(None, description="the folder and what to open, once completed")


class OpenOperationList(BaseModel):
    opens: list[OpenOperation] = Field(description="newest first")
