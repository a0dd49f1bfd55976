"""SAMP: signed table links for SAMP clients, and tables SAMP clients send back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid")


class LinkBody(BaseModel):
    model_config = _STRICT
    query_id: str = Field(min_length=1, max_length=64, description="the stored result to send")
    rows: list[int] | None = Field(None, max_length=100_000, description="only these rows (from 0, stored order)")
    format: Literal["votable", "fits"] = "votable"


class SignedLink(BaseModel):
    url: str = Field(description="where a SAMP client fetches the table: no token, valid until expires")
    expires: float = Field(description="Unix time after which the link answers 403")
    mtype: str = Field(description="the SAMP message to send with it (table.load.votable / table.load.fits)")
    table_id: str = Field(description="the samp.table-id to send: new for each link (TOPCAT refuses one it "
                                      "has loaded already)")
    name: str = Field(description="a name for the table in the receiving tool")




class ReceivedParams(BaseModel):
    """POST /samp/received?name=: the request body is the VOTable a SAMP client sent."""

    name: str = Field("samp_table", min_length=1, max_length=200, description="the name the client gave it")
    format: Literal["votable", "fits"] = "votable"
    sender: str | None = Field(None, max_length=200, description="the SAMP client that sent it")


class Received(BaseModel):
    table_id: str
    table_name: str
    row_count: int
    item_id: str = Field(description="the basket item (a table) it landed as")
