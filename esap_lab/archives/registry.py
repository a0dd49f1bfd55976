"""The archives, each behind an adapter that knows how to query it: those the administrator
configured (read-only) and those this user added (e.g. found in the registry), kept in the
user's state (store.UserArchiveStore)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from .. import executors
from ..errors import Conflict, EsapError, NotFound
from .config import ArchiveConfig
from .ivoa import IvoaArchive
from .models import ArchiveBody, ArchiveInfo

log = logging.getLogger("esap_lab.archives")


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
        self._timeout = timeout
        self._archives: dict[str, Archive] = {}
        for cfg in configs:
            if cfg.type not in factories:
                continue  # e.g. a Rucio archive while no Rucio support is configured
            self._archives[cfg.id] = factories[cfg.type](cfg, timeout)
        self._checked: dict[str, tuple[float, bool]] = {}
        self._obscore: dict[str, bool] = {}  # whether a TAP archive has ivoa.obscore (probed with the check)
        self._user: dict[str, str | None] = {}  # the user's archives: id -> the ivoid it came from
        self._store = None

    # -- the user's own archives ---------------------------------------------------------------
    def attach_store(self, store) -> None:
        """Load the archives this user added before (a store.UserArchiveStore) and keep new ones there."""
        self._store = store
        for entry in store.list():
            ivoid = entry.pop("_ivoid", None)
            try:
                cfg = ArchiveConfig.model_validate(entry)
            except Exception as e:  # noqa: BLE001 - a stored entry a newer version would refuse
                log.warning("esap-lab: the user's archive %r is left out: %s", entry.get("id"), e)
                continue
            if cfg.id in self._archives:
                log.warning("esap-lab: the user's archive %r is left out: the administrator configured an "
                            "archive with that id since", cfg.id)
                continue
            self._archives[cfg.id] = IvoaArchive(cfg, self._timeout)
            self._user[cfg.id] = ivoid

    def is_user(self, archive_id: str) -> bool:
        return archive_id in self._user

    def _free_id(self, body: ArchiveBody) -> str:
        if body.id:
            taken = self._archives.get(body.id)
            if taken is not None:
                whose = "one of yours" if body.id in self._user else "configured by the administrator"
                raise Conflict(f"An archive with id {body.id!r} exists already ({whose}: {taken.cfg.title!r}); "
                               "choose another id.", reason="archive-exists")
            return body.id
        base = re.sub(r"[^A-Za-z0-9_.-]+", "-", body.title).strip("-._").lower()[:56] or "archive"
        candidate, n = base, 1
        while candidate in self._archives:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    async def add_user(self, body: ArchiveBody) -> ArchiveInfo:
        """Add an archive of this user's (kept in the user's state)."""
        if self._store is None:
            raise EsapError("Adding archives needs the server's state database.", reason="no-store", status=409)
        same = next((a for a in self if body.ivoid and self._user.get(a.cfg.id) == body.ivoid), None)
        if same is not None:
            raise Conflict(f"{body.title!r} is your archive {same.cfg.id!r} already.", reason="archive-exists")
        config = {"id": self._free_id(body), "title": body.title, "description": body.description,
                  **{k: str(v) for k in ("tap", "scs", "sia2", "sia", "ssa") if (v := getattr(body, k))}}
        cfg = ArchiveConfig.model_validate(config)
        await asyncio.to_thread(self._store.add, config, body.ivoid)
        self._archives[cfg.id] = archive = IvoaArchive(cfg, self._timeout)
        self._user[cfg.id] = body.ivoid
        return self.info(archive)

    async def remove_user(self, archive_id: str) -> None:
        """Remove an archive this user added; the administrator's stay (403). Its past queries stay."""
        archive = self.get(archive_id)
        if archive_id not in self._user:
            raise EsapError(f"Archive {archive.cfg.title!r} ({archive_id}) is configured by the administrator: "
                            "it is read-only and cannot be removed here.", reason="archive-read-only", status=403)
        if self._store is not None:
            await asyncio.to_thread(self._store.remove, archive_id)
        self._archives.pop(archive_id, None)
        self._user.pop(archive_id, None)
        self._checked.pop(archive_id, None)
        self._obscore.pop(archive_id, None)

    def has_obscore(self, archive_id: str) -> bool | None:
        """Whether the archive's TAP service has ivoa.obscore (None: not known yet)."""
        return self._obscore.get(archive_id)

    def get(self, archive_id: str) -> Archive:
        try:
            return self._archives[archive_id]
        except KeyError:
            known = ", ".join(self._archives) or "none"
            raise NotFound(f"No archive {archive_id!r} is configured. Known archives: {known}.",
                           reason="unknown-archive") from None

    def __iter__(self):
        return iter(list(self._archives.values()))

    def info(self, archive: Archive, reachable: bool | None = None) -> ArchiveInfo:
        c = archive.cfg
        capabilities = list(archive.capabilities)
        if self._obscore.get(c.id) and "obscore" not in capabilities:
            capabilities.append("obscore")
        return ArchiveInfo(id=c.id, title=c.title, description=c.description, type=c.type,
                           capabilities=capabilities, services=archive.services,
                           reachable=reachable, details=getattr(archive, "details", {}),
                           origin="user" if c.id in self._user else "config", ivoid=self._user.get(c.id))

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
                if ok and "tap" in a.services and hasattr(a, "session"):
                    self._obscore[a.cfg.id] = await executors.run(f"archive:{a.cfg.id}", _has_obscore, a,
                                                                  timeout=self.CHECK_DEADLINE)
            except TimeoutError:
                ok = False
            self._checked[a.cfg.id] = (time.monotonic(), ok)
            return ok

        states = await asyncio.gather(*(reachable(a) for a in archives))
        return [self.info(a, ok) for a, ok in zip(archives, states, strict=True)]


def _has_obscore(archive) -> bool:
    """Whether the archive's TAP service lists ivoa.obscore in its TAP_SCHEMA (one small query)."""
    import pyvo

    try:
        with archive.session(timeout=min(5.0, archive.timeout)) as session:
            service = pyvo.dal.TAPService(archive.services["tap"], session=session)
            rows = service.run_sync("SELECT table_name FROM TAP_SCHEMA.tables WHERE schema_name = 'ivoa'")
            return any(str(name).lower() == "ivoa.obscore" for name in rows.to_table()["table_name"])
    except Exception:  # noqa: BLE001 - no TAP_SCHEMA, or unreachable: no ObsCore offered
        return False
