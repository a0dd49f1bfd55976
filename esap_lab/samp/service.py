"""SAMP support on the server side: short-lived signed URLs a SAMP client (TOPCAT, Aladin, DS9)
fetches a table from without any token, and tables sent back by SAMP clients saved as one of
my tables and put into the basket.

A link is ``<payload>.<signature>``: the payload (query, rows, format, expiry) in base64url
JSON, signed with HMAC-SHA256 under a key that lives in this server process only (links end
with it). Verifying takes constant time over the signature and checks the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import time

from ..errors import EsapError

DEFAULT_TTL = 600.0


class Forbidden(EsapError):
    status = 403
    reason = "link-invalid"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedLinks:
    def __init__(self, ttl: float = DEFAULT_TTL, key: bytes | None = None):
        self.ttl = ttl
        self._key = key or os.urandom(32)

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def sign(self, query_id: str, rows: list[int] | None, fmt: str, now: float | None = None) -> tuple[str, float]:
        expires = round((now if now is not None else time.time()) + self.ttl, 3)
        payload = _b64(json.dumps({"q": query_id, "r": rows, "f": fmt, "e": expires, "n": _b64(os.urandom(6))},
                                  separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}", expires

    @staticmethod
    def table_id(query_id: str, token: str) -> str:
        """The samp.table-id sent with a link: new for each link, as TOPCAT refuses a table-id
        it has loaded already ("send again", or another selection of the same result, would
        be lost)."""
        return f"esap-{query_id[:8]}-{hashlib.sha256(token.encode()).hexdigest()[:12]}"

    def verify(self, token: str, now: float | None = None) -> dict:
        """The link's payload; Forbidden when it was not signed here, was changed, or expired."""
        payload, _, mac = token.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(payload)):
            raise Forbidden("This table link is not valid (not signed by this server, or changed).")
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            raise Forbidden("This table link is not valid.") from None
        if (now if now is not None else time.time()) > float(data.get("e", 0)):
            raise Forbidden("This table link has expired; send the table again from esap-lab.",
                            reason="link-expired")
        return data


def table_name(text: str) -> str:
    """A SAMP table's name as one of my tables' names (an SQL identifier)."""
    base = re.sub(r"\.(vot|xml|fits?)$", "", text.rsplit("/", 1)[-1], flags=re.IGNORECASE)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_").lower()[:48] or "table"
    if not name[0].isalpha():
        name = "t_" + name
    if name.startswith("result_"):
        name = "samp_" + name
    return "samp_" + name if not name.startswith("samp_") else name


async def receive(tables, basket, data: bytes, name: str, fmt: str, sender: str | None):
    """Save a table a SAMP client sent as one of my tables (a free name) and add it to the basket."""
    from ..basket.models import TableFields
    from ..errors import Conflict
    from ..tables.models import UploadParams

    if tables is None or basket is None:
        raise EsapError("This server has no tables or no basket to receive SAMP tables into.", status=400,
                        reason="no-tables")
    base = table_name(name)
    info = None
    for n in range(50):
        candidate = base if n == 0 else f"{base}_{n + 1}"
        params = UploadParams(name=candidate, format=fmt,
                              description=f"Sent over SAMP by {sender or 'a SAMP client'} ({name})"[:2000])
        try:
            info = await tables.upload(params, data)
            break
        except Conflict:
            continue
    if info is None:
        raise EsapError(f"No free table name for {base!r}.", status=409, reason="name-taken")
    added = await basket.add([TableFields(kind="table", table_id=info.id, name=info.name, project=info.project,
                                          row_count=info.row_count, source=f"samp:{sender or 'client'}",
                                          title=f"{info.name} (from {sender or 'SAMP'})")])
    item = added.items[0]
    item = getattr(item, "root", item)
    return info, item.id
