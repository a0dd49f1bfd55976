"""Request and response models of batch jobs (the REST bodies and the OpenAPI schemas)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..operations import OperationFields

from ..fields import ServerPath

JobStatus = Literal["queued", "waiting-for-data", "running", "completed", "failed", "cancelled"]
FINAL_STATUSES = ("completed", "failed", "cancelled")
ACTIVE_STATUSES = ("queued", "waiting-for-data", "running")

_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d{1,3}):(\d{2})(?::(\d{2}))?$")


def walltime_seconds(value: str) -> int:
    """'90' (minutes), 'HH:MM', 'HH:MM:SS' or 'D-HH:MM[:SS]' -> seconds."""
    value = value.strip()
    if value.isdigit():
        return int(value) * 60
    m = _WALLTIME.match(value)
    if not m:
        raise ValueError("wall time is minutes, HH:MM, HH:MM:SS or D-HH:MM:SS")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


class Resources(BaseModel):
    """What the job asks of the batch system; a backend ignores what it cannot express."""

    model_config = ConfigDict(extra="forbid")
    cpus: int | None = Field(None, ge=1, le=1024, description="CPU cores")
    memory: int | None = Field(None, ge=1, le=16_777_216, description="memory in MB")
    walltime: str | None = Field(None, description="wall time: minutes, HH:MM, HH:MM:SS or D-HH:MM:SS")
    partition: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                  description="Slurm partition or batch queue; default: the backend's")

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, v):
        if v is not None:
            walltime_seconds(v)
        return v


class SubmitBody(BaseModel):
    """POST /jobs."""

    model_config = ConfigDict(extra="forbid")
    notebook: ServerPath = Field(min_length=1, description="path of a notebook under the server root")
    backend: str = Field("local", min_length=1, max_length=64, description="a configured backend's name")
    parameters: dict[str, Any] = Field(default_factory=dict,
                                       description="papermill parameters (names of the notebook's parameters cell)")
    resources: Resources = Field(default_factory=Resources)
    basket: list[str] | None = Field(
        None, description="ids of basket items to pass to the job; their snapshot is stored with the job and "
                          "passed to the notebook as the parameter `esap_basket`")
    wait_for: list[str] = Field(default_factory=list, description="staging transfer ids: the job starts (state "
                                                                  "waiting-for-data) when all have completed")
    name: str | None = Field(None, max_length=200, description="a label; default: the notebook's name")


class JobInfo(OperationFields):
    id: str
    name: str
    notebook: str = Field(description="the submitted notebook, relative to the server root")
    backend: str
    backend_type: str
    native_id: str | None = Field(None, description="the batch system's job id")
    status: JobStatus
    native_state: str | None = Field(None, description="the state as the batch system names it")
    parameters: dict[str, Any]
    resources: dict[str, Any]
    basket: list[dict[str, Any]] | None = None
    wait_for: list[str] = []
    workdir: str = Field(description="the job's folder, relative to the server root")
    output: str | None = Field(None, description="the executed notebook, relative to the server root")
    resubmitted_from: str | None = None
    submitted: datetime | None = Field(None, description="when the batch system accepted it")


class JobList(BaseModel):
    jobs: list[JobInfo]


class ListParams(BaseModel):
    status: str | None = Field(None, description="comma-separated statuses to keep")
    backend: str | None = None
    limit: int = Field(200, ge=1, le=5000)


class BackendInfo(BaseModel):
    name: str
    type: str
    title: str
    available: bool | None = Field(None, description="null: not checked")
    message: str | None = Field(None, description="why the backend is not available")
    resources: list[str] = Field(description="resources this backend understands")
    partitions: list[str] = []
    default: bool = False


class BackendList(BaseModel):
    backends: list[BackendInfo]


class BackendParams(BaseModel):
    check: bool = True


class LogParams(BaseModel):
    tail: int = Field(65536, ge=0, le=10_000_000, description="at most this many characters of each stream")


class JobLog(BaseModel):
    id: str
    status: JobStatus
    stdout: str = ""
    stderr: str = ""
    events: list[dict[str, Any]] = Field([], description="state changes seen: time, status, native state")


class JobOutput(BaseModel):
    id: str
    status: JobStatus
    notebook: str | None = Field(None, description="the executed notebook, relative to the server root")
    files: list[str] = Field([], description="every file of the job folder, relative to the server root")
