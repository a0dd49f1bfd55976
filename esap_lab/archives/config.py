"""Configured archives: what a hub admin writes in ``c.EsapLab.archives``."""

from __future__ import annotations

import logging
from typing import Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

# the public archives a fresh install offers, each with its published URLs (kept importable from here)
from .defaults import DEFAULT_ARCHIVES  # noqa: F401

log = logging.getLogger("esap_lab.archives")


class ArchiveAuth(BaseModel):
    """Credentials for an archive. Only the NAME of an environment variable or file is
    configured; the secret itself is read on the server when needed and never sent out."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["basic", "bearer"]
    username: str | None = None
    password_env: str | None = None
    token_env: str | None = None
    token_file: str | None = None


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str
    description: str = ""
    type: Literal["ivoa", "rucio"] = "ivoa"
    tap: HttpUrl | None = None
    scs: HttpUrl | None = None
    sia2: HttpUrl | None = None
    sia: HttpUrl | None = None
    ssa: HttpUrl | None = None
    # Rucio archives: the name of an entry of c.EsapLab.rucio_instances.
    rucio_instance: str | None = None
    # Above this MAXREC a TAP query with "async" unset runs asynchronously (UWS).
    sync_maxrec: int = 20000
    timeout: float | None = Field(None, gt=0, description="seconds; default c.EsapLab.query_timeout")
    auth: ArchiveAuth | None = None


def parse_archives(entries: list[dict]) -> list[ArchiveConfig]:
    """Validate the admin's list. A wrong entry is left out, with a warning in the server log
    naming it and what is wrong; the other archives (and the rest of esap-lab) work on."""
    out: list[ArchiveConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        name = entry.get("id") if isinstance(entry, dict) else None
        where = f"c.EsapLab.archives[{i}]" + (f" ({name!r})" if isinstance(name, str) else "")
        try:
            cfg = ArchiveConfig.model_validate(entry)
        except pydantic.ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}"
                                 for err in e.errors(include_url=False))
            log.warning("esap-lab: %s is invalid and left out: %s", where, problems)
            continue
        if cfg.id in seen:
            log.warning("esap-lab: %s is left out: the id %r is used by an archive before it", where, cfg.id)
            continue
        seen.add(cfg.id)
        out.append(cfg)
    return out
