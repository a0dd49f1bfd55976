"""Wiring staging into the server: the manager, the "rucio" archive adapter, and an archive
entry for each Rucio instance the admin did not already list in c.EsapLab.archives."""

from __future__ import annotations

import os
from pathlib import Path

from ..db import Database
from .config import parse_instances
from .dids import RucioArchive
from .manager import StagingManager
from .sessions import RucioSessions


def build_staging(db: Database, data_dir: str | os.PathLike, root_dir: str | os.PathLike,
                  instances: list[dict], deadline: float | None = None) -> StagingManager:
    """``deadline``: seconds a transfer may take in all (None: no limit)."""
    from ..basket.store import BasketStore

    sessions = RucioSessions(parse_instances(instances), Path(data_dir) / "rucio-tokens")
    basket = BasketStore(db)
    return StagingManager(db, sessions, root_dir, basket=basket.get, deadline=deadline)


def archive_factories(staging: StagingManager) -> dict:
    """{"rucio": factory} for the ArchiveRegistry."""
    return {"rucio": lambda cfg, timeout: RucioArchive(cfg, timeout, staging.sessions)}


def rucio_archive_entries(staging: StagingManager, archives: list[dict]) -> list[dict]:
    """Archive entries (type rucio) for the instances no configured archive searches yet."""
    listed = {a.get("rucio_instance") for a in archives if a.get("type") == "rucio"}
    ids = {a.get("id") for a in archives}
    out = []
    for cfg in staging.sessions.instances.values():
        if cfg.name in listed:
            continue
        aid = cfg.name if cfg.name not in ids else f"rucio-{cfg.name}"
        out.append({"id": aid, "title": cfg.label, "type": "rucio", "rucio_instance": cfg.name,
                    "description": f"Rucio data lake at {cfg.rucio_host}: search DIDs, list datasets, stage data."})
    return out
