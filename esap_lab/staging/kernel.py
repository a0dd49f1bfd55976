"""The notebook side of staging: find a transfer, wait for it, get local paths.

Everything goes through the server's REST API (``esap_lab.client``), as the UI does: the
kernel holds no database URL and no Rucio credential.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..errors import EsapError, NotFound
from .models import FINAL, TransferInfo

_RECENT = 500  # transfers searched for one that staged a DID, URL or item


def _client():
    from ..client import client

    return client()


def _absolute(info: TransferInfo) -> TransferInfo:
    """The server shows paths relative to its root; the kernel wants them absolute."""
    from ..client import root_dir

    root = root_dir()
    if root is None:
        return info

    def full(p: str | None) -> str | None:
        return p if p is None or Path(p).is_absolute() else str(Path(root) / p)

    files = [f.model_copy(update={"path": full(f.path)}) for f in info.files]
    return info.model_copy(update={"files": files, "destination": full(info.destination)})


def _info(data: dict) -> TransferInfo:
    return _absolute(TransferInfo.model_validate(data))


def _find(what: Any) -> TransferInfo:
    """The transfer meant by ``what``: a transfer id, a DID, a URL, a basket item or its id
    (the newest transfer that staged it)."""
    ident = getattr(what, "id", what)
    did = getattr(what, "did", None)
    url = getattr(what, "url", None) or getattr(what, "access_url", None)
    c = _client()
    if isinstance(ident, str) and ident and "/" not in ident:
        try:
            return _info(c.get("staging", ident))
        except NotFound:
            pass
    recent = c.get("staging", params={"files": True, "limit": _RECENT})["transfers"]
    wanted = {x for x in (ident, did, url) if isinstance(x, str)}
    for t in recent:  # newest first
        staged = set(t.get("dids", [])) | set(t.get("items", [])) | set(t.get("urls", []))
        staged |= {f.get("did") for f in t.get("files", [])} - {None}
        if wanted & staged:
            return _info(t)
    raise NotFound(f"No transfer stages {what!r}; stage it first (Staging section or POST /staging).")


def get(what: Any) -> TransferInfo:
    return _find(what)


def wait(what: Any, timeout: float | None = None, poll: float = 1.0) -> TransferInfo:
    started = time.monotonic()
    info = _find(what)
    while True:
        if info.status in FINAL:
            if info.status == "error":
                raise EsapError(info.message or f"Transfer {info.id} failed.", status=500,
                                reason=info.reason or "error")
            if info.status == "cancelled":
                raise EsapError(f"Transfer {info.id} was cancelled.", status=409, reason="cancelled")
            return info
        if timeout is not None and time.monotonic() - started > timeout:
            raise TimeoutError(f"Transfer {info.id} is still {info.status} "
                               f"({info.progress.files_done}/{info.progress.files_total} files) after {timeout:g} s.")
        time.sleep(poll)
        info = _info(_client().get("staging", info.id))


def paths(what: Any) -> list[Path]:
    """Local paths of the staged files of ``what``: all files of a transfer (its id or info),
    or only those of one DID, URL or basket item when the transfer staged more."""
    info = get(what)
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
    return [_info(t) for t in _client().get("staging", params={"limit": limit})["transfers"]]
