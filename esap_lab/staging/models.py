"""Request and response models of staging (REST bodies and OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..fields import INT64_MAX, OFFSET_MAX, FileName, ServerPath, WebUrl

from ..operations import ACTIVE, FINAL, OperationFields  # noqa: F401 - the lifecycle every area shares
from ..operations import Status as TransferStatus

DID_PATTERN = r"^[A-Za-z0-9_.\-]+:[^\s*?%\x00-\x1f\x7f]+$"


class UrlSpec(BaseModel):
    """A plain file to fetch by URL (e.g. an archive record's access URL)."""

    model_config = ConfigDict(extra="forbid")
    url: WebUrl
    name: FileName | None = Field(None, description="local file name; default from the URL")
    bytes: int | None = Field(None, ge=0, le=INT64_MAX, description="expected size, checked when given")
    checksum: str | None = Field(None, max_length=200, pattern=r"^(md5|adler32|sha1|sha256):[A-Fa-f0-9]+$",
                                 description="algorithm:hex value, checked when given")


class StageBody(BaseModel):
    """POST /staging: what to stage (DIDs, basket items or URLs) and how."""

    # (the schema says what _something checks: at least one of dids, items, urls)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": [k], "properties": {k: {"minItems": 1}}} for k in ("dids", "items", "urls")]})
    dids: list[Annotated[str, Field(pattern=DID_PATTERN)]] = Field(
        default_factory=list, max_length=10_000, description="Rucio DIDs scope:name (files, datasets or containers)")
    items: list[str] = Field(default_factory=list, max_length=10_000, description="basket item ids")
    urls: list[UrlSpec] = Field(default_factory=list, max_length=10_000,
                                description="plain http(s) URLs: strings or {url, name, bytes, checksum}")
    mode: Literal["download", "replica"] = "download"
    instance: str | None = Field(None, max_length=64,
                                 description="Rucio instance name; may be left out when only one is configured")
    destination: ServerPath | None = Field(None, description="download folder under the server root (default: the "
                                                           "instance's download_folder, or 'downloads' for URLs)")
    lifetime: int | None = Field(None, ge=60, le=10 * 365 * 86400,
                                 description="replica mode: seconds the rule lives (default: the instance's)")

    @field_validator("urls", mode="before")
    @classmethod
    def _plain_urls(cls, v):
        return [{"url": u} if isinstance(u, str) else u for u in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _something(self):
        if not (self.dids or self.items or self.urls):
            raise ValueError("give dids, items or urls to stage")
        return self


class TransferFile(BaseModel):
    did: str | None = None
    parents: list[str] = Field(default_factory=list, description="the requested DIDs this file belongs to")
    url: str | None = None
    name: str
    bytes: int | None = None
    bytes_done: int = 0
    state: Literal["queued", "running", "done", "error", "cancelled"] = "queued"
    replica_state: str | None = Field(None, description="replica mode: the replica's state on the destination RSE")
    path: str | None = Field(None, description="local path (relative to the server root when inside it)")
    checksum: str | None = Field(None, description="algorithm:value the file was checked against")
    message: str | None = None


class Progress(BaseModel):
    bytes_done: int = 0
    bytes_total: int | None = None
    files_done: int = 0
    files_total: int = 0
    fraction: float = Field(0.0, ge=0, le=1)


class RuleState(BaseModel):
    ids: list[str]
    rse: str
    state: str = Field(description="OK, REPLICATING or STUCK (the worst of the rules)")
    locks_ok: int = 0
    locks_replicating: int = 0
    locks_stuck: int = 0
    expires_at: datetime | None = None


class TransferInfo(OperationFields):
    id: str
    status: TransferStatus
    mode: Literal["download", "replica", "url"]
    instance: str | None = None
    dids: list[str] = []
    urls: list[str] = []
    items: list[str] = []
    title: str
    destination: str | None = Field(None, description="download folder (relative to the server root) or, "
                                                      "in replica mode, the RSE mount")
    progress: Progress
    files: list[TransferFile] = []
    rule: RuleState | None = None


class TransferList(BaseModel):
    transfers: list[TransferInfo]


class ListParams(BaseModel):
    status: TransferStatus | None = None
    files: bool = Field(False, description="include the per-file list of each transfer")
    limit: int = Field(100, ge=1, le=1000)


class DidFile(BaseModel):
    scope: str
    name: str
    did: str
    bytes: int | None = None
    adler32: str | None = None
    md5: str | None = None
    replicas: dict[str, str] = Field(default_factory=dict, description="RSE -> replica state")
    available: bool = Field(description="at least one replica is AVAILABLE")


class DidContents(BaseModel):
    instance: str
    did: str
    did_type: str
    bytes: int = 0
    files: list[DidFile]
    total: int
    offset: int = 0


class ContentsParams(BaseModel):
    offset: int = Field(0, ge=0, le=OFFSET_MAX)
    limit: int = Field(1000, ge=1, le=10_000)


class InstanceList(BaseModel):
    instances: list[dict]


class ScopeList(BaseModel):
    instance: str
    scopes: list[str]
