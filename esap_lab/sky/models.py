"""The sky view: HiPS surveys from the configuration, and the positions of a result's rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid")


class SurveyConfig(BaseModel):
    """One entry of c.EsapLab.hips_surveys."""

    model_config = _STRICT
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = Field(min_length=1, max_length=200)
    url: str | None = Field(None, max_length=2048, description="the HiPS's base URL (with its properties file)")
    path: str | None = Field(None, max_length=4096, description="a HiPS folder on the server's disk, served by "
                                                               "the Jupyter server")
    proxy: bool = Field(False, description="fetch url's tiles through the Jupyter server (a HiPS on a host the "
                                           "browser cannot reach, or that sends no CORS headers)")
    default: bool = Field(False, description="the survey the sky view opens with")


class Survey(BaseModel):
    id: str
    title: str
    url: str | None = Field(None, description="where the browser reads it; none: from this server (hips_url)")
    served: bool = Field(description="served by this server at /sky/hips/{id}/")
    default: bool = False


class SurveyList(BaseModel):
    surveys: list[Survey]


class PositionsParams(BaseModel):
    sort: str | None = Field(None, max_length=256, description="the grid's sort column (positions in its order)")
    order: Literal["asc", "desc"] = "asc"
    limit: int = Field(20_000, ge=1, le=200_000, description="at most this many positions")


class Positions(BaseModel):
    query_id: str
    ra_column: str | None = Field(description="none: the result has no position columns")
    dec_column: str | None
    total: int = Field(description="rows in the result")
    truncated: bool = Field(False, description="only the first limit rows are given")
    rows: list[tuple[int, float, float]] = Field(description="[row in the grid's order, ra, dec] (degrees); rows "
                                                            "without a position are left out")
