"""The configured archives, each behind an adapter that knows how to query it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from .. import executors
from ..errors import NotFound
from .config import ArchiveConfig
from .ivoa import IvoaArchive
from .models import ArchiveInfo


class Archive(Protocol):
    """What the query manager needs of an archive adapter (see IvoaArchive)."""

    cfg: ArchiveConfig

    @property
    def capabilities(self) -> list[str]: ...

    @property
    def services(self) -> dict[str, str]: ...

    def check(self) -> bool: ...

    def run(self, request, *, remote, on_remote, cancelled) -> Any: ...


# type -> factory(cfg, timeout); other areas register theirs (e.g. "rucio").
AdapterFactory = Callable[[ArchiveConfig, float], Archive]


class ArchiveRegistry:
    CHECK_TTL = 300.0  # seconds a reachability check is trusted
    CHECK_DEADLINE = 12.0  # seconds GET /archives waits for one archive's check (a thread may be busy)

    def __init__(self, configs: list[ArchiveConfig], timeout: float,
                 factories: dict[str, AdapterFactory] | None = None):
        factories = {"ivoa": IvoaArchive, **(factories or {})}
        self._archives: dict[str, Archive] = {}
        for cfg in configs:
            if cfg.type not in factories:
                continue  # e.g. a Rucio archive while no Rucio support is configured
            self._archives[cfg.id] = factories[cfg.type](cfg, timeout)
        self._checked: dict[str, tuple[float, bool]] = {}

    def get(self, archive_id: str) -> Archive:
        try:
            return self._archives[archive_id]
        except KeyError:
            known = ", ".join(self._archives) or "none"
            raise NotFound(f"No archive {archive_id!r} is configured. Known archives: {known}.",
                           reason="unknown-archive") from None

    def __iter__(self):
        return iter(self._archives.values())

    def info(self, archive: Archive, reachable: bool | None = None) -> ArchiveInfo:
        c = archive.cfg
        return ArchiveInfo(id=c.id, title=c.title, description=c.description, type=c.type,
                           capabilities=archive.capabilities, services=archive.services,
                           reachable=reachable, details=getattr(archive, "details", {}))

    async def list(self, check: bool = True) -> list[ArchiveInfo]:
        """Every archive; with ``check``, whether each answers (checked in parallel, cached)."""
        archives = list(self)
        if not check:
            return [self.info(a) for a in archives]
        now = time.monotonic()

        async def reachable(a: Archive) -> bool:
            hit = self._checked.get(a.cfg.id)
            if hit and now - hit[0] < self.CHECK_TTL:
                return hit[1]
            try:  # in the archive's own threads: a slow archive delays only its own answer
                ok = await executors.run(f"archive:{a.cfg.id}", a.check, timeout=self.CHECK_DEADLINE)
            except TimeoutError:
                ok = False
            self._checked[a.cfg.id] = (time.monotonic(), ok)
            return ok

        states = await asyncio.gather(*(reachable(a) for a in archives))
        return [self.info(a, ok) for a, ok in zip(archives, states, strict=True)]
