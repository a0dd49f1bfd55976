"""The notebook side of staging: find a transfer, wait for it, get local paths.

The kernel reads the server's database (ESAP_LAB_DB_URL, exported by the server to its
kernels), the same way the basket does; no token, no HTTP.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from ..db import Database
from ..errors import EsapError, NotFound
from .models import FINAL, TransferInfo
from .store import TransferRecord

_db: Database | None = None


def _database() -> Database:
    global _db
    from ..basket.store import kernel_db_url

    url = kernel_db_url()
    if _db is None or _db.url != url:
        _db = Database(url)
        if not inspect(_db.engine).has_table(TransferRecord.__tablename__):
            _db.migrate()
    return _db


def _find(what: Any) -> TransferRecord:
    """The transfer meant by ``what``: a transfer id, a DID, a URL, a basket item or its id
    (the newest transfer that staged it)."""
    ident = getattr(what, "id", what)
    did = getattr(what, "did", None)
    url = getattr(what, "url", None) or getattr(what, "access_url", None)
    if isinstance(what, TransferInfo):
        ident = what.id
    db = _database()
    with db.read() as s:
        if isinstance(ident, str):
            rec = s.get(TransferRecord, ident)
            if rec is not None:
                return rec
        recent = list(s.scalars(select(TransferRecord).order_by(TransferRecord.created.desc()).limit(500)))
    wanted = {x for x in (ident, did, url) if isinstance(x, str)}
    for rec in recent:
        req = rec.request or {}
        staged = set(req.get("dids", [])) | set(req.get("items", [])) | {u["url"] for u in req.get("urls", [])}
        staged |= {f.get("did") for f in rec.files} - {None}
        if wanted & staged:
            return rec
    raise NotFound(f"No transfer stages {what!r}; stage it first (Staging section or POST /staging).")


def _root() -> Path | None:
    return None  # the kernel sees absolute paths


def get(what: Any) -> TransferInfo:
    return _find(what).info(_root())


def wait(what: Any, timeout: float | None = None, poll: float = 1.0) -> TransferInfo:
    started = time.monotonic()
    while True:
        rec = _find(what)
        if rec.status in FINAL:
            if rec.status == "error":
                raise rec.error()
            if rec.status == "cancelled":
                raise EsapError(f"Transfer {rec.id} was cancelled.", status=409, reason="cancelled")
            return rec.info(_root())
        if timeout is not None and time.monotonic() - started > timeout:
            raise TimeoutError(f"Transfer {rec.id} is still {rec.status} "
                               f"({rec.files_done}/{rec.files_total} files) after {timeout:g} s.")
        time.sleep(poll)
        what = rec.id


def paths(what: Any) -> list[Path]:
    """Local paths of the staged files of ``what``: all files of a transfer (its id or info),
    or only those of one DID, URL or basket item when the transfer staged more."""
    info = get(what)  # from the database: absolute paths
    files = [f for f in info.files if f.path and f.state == "done"]
    if isinstance(what, TransferInfo) or what == info.id:
        return [Path(f.path) for f in files]
    did = getattr(what, "did", None) or (what if isinstance(what, str) and ":" in what else None)
    url = getattr(what, "url", None) or getattr(what, "access_url", None) or (
        what if isinstance(what, str) and "://" in what else None)
    if did is None and url is None:
        return [Path(f.path) for f in files]  # e.g. a basket item id: the transfer made for it
    return [Path(f.path) for f in files
            if (did and (f.did == did or did in f.parents)) or (url and f.url == url)]


def transfers(limit: int = 20) -> list[TransferInfo]:
    db = _database()
    with db.read() as s:
        q = select(TransferRecord).order_by(TransferRecord.created.desc()).limit(limit)
        return [r.info(_root(), with_files=False) for r in s.scalars(q)]
