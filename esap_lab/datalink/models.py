"""DataLink of one result row, and SODA cutouts of it (request bodies and answers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..fields import ServerPath

_STRICT = ConfigDict(extra="forbid")


class LinkParam(BaseModel):
    name: str
    value: Any = Field(None, description="the value the service fixes (e.g. ID), or its default")
    unit: str | None = None
    ucd: str | None = None
    description: str | None = None


class ServiceInfo(BaseModel):
    """A processing service (SODA) a link points at."""

    id: str
    url: str = Field(description="its access URL")
    standard: str | None = Field(None, description="e.g. ivo://ivoa.net/std/SODA#sync-1.0")
    soda: bool = Field(description="a SODA service: it cuts out by CIRCLE / POLYGON / BAND / TIME")
    params: list[LinkParam] = []


class Link(BaseModel):
    semantics: str = Field(description="#this, #preview, #cutout, #proc, #progenitor, #auxiliary, ...")
    url: str | None = Field(None, description="the link's access URL (none for a service link)")
    service: str | None = Field(None, description="id of the service (in services) for a service link")
    content_type: str | None = None
    content_length: int | None = None
    description: str | None = None
    error: str | None = Field(None, description="why the archive gives no link here")


class RowLinks(BaseModel):
    query_id: str
    row: int
    archive: str = Field(description="the archive whose DataLink service answered (a merged result's row: its own)")
    datalink: str = Field(description="the DataLink document these links come from")
    ra: float | None = Field(None, description="the row's position (degrees), the default cutout centre")
    dec: float | None = None
    size: float | None = Field(None, description="the row's field of view (degrees), when the result says")
    links: list[Link]
    services: list[ServiceInfo]




class CutoutBody(BaseModel):
    model_config = _STRICT
    query_id: str = Field(min_length=1, max_length=64, description="the query whose row is cut out")
    row: int = Field(ge=0, description="the row (from 0, in stored order)")
    ra: float | None = Field(None, ge=0, lt=360, description="centre (degrees); default the row's position")
    dec: float | None = Field(None, ge=-90, le=90)
    radius: float | None = Field(None, gt=0, le=10, description="circle radius (degrees); default a quarter of "
                                                               "the row's field, else 0.05")
    target: Literal["workspace", "basket"] = Field("workspace", description="workspace: a FITS file under the "
                                                   "server root; basket: a file item whose URL is the cutout")
    path: ServerPath | None = Field(None, min_length=1, description="workspace: the file to write (default "
                                    "cutouts/<name>.fits); its folder is made when absent")
    overwrite: bool = False


class Cutout(BaseModel):
    target: Literal["workspace", "basket"]
    url: str = Field(description="the SODA request that makes this cutout")
    ra: float
    dec: float
    radius: float
    path: str | None = Field(None, description="workspace: the file written (relative to the server root)")
    bytes: int | None = None
    item_id: str | None = Field(None, description="basket: the item added")
