"""The software folders in the workspace (``<server root>/software/<name>-<version>/``), and the
"open here" operations (table ``esap_software_opens``): the only code that writes them.

A folder appears whole or not at all: everything is downloaded and unpacked into a hidden
temporary folder beside it (same file system), which is renamed into place at the end and removed
on any failure. Archives are unpacked only when every entry stays inside the folder (no absolute
path, no ``..``); links and special files are not unpacked (listed as skipped). Blocking.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Database
from ..errors import Conflict, EsapError, NotFound, RemoteError
from ..operations import ACTIVE, error_of, operation_fields, transition, utcnow
from .models import OpenOperation, OpenResult

MARKER = ".esap-software.json"
PART = ".part-"
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
README = re.compile(r"^readme(\.(md|rst|txt|markdown))?$", re.IGNORECASE)


class UnsafeArchive(RemoteError):
    def __init__(self, archive: str, entry: str):
        super().__init__("ossr", f"The archive {archive} has an entry that would land outside its folder "
                                 f"({entry!r}): it was not unpacked, and nothing was kept.", reason="unsafe-archive")


def slug(text: str, limit: int = 80) -> str:
    s = re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-._")
    return s[:limit].rstrip("-._") or "software"


def file_name(key: str) -> str:
    """A safe local name for a record's file key (keys are flat names, but an answer is not trusted)."""
    name = key.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._+=,@-]+", "_", name).strip("._")
    return name[:200] or "file"


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


class SoftwareFolders:
    def __init__(self, root_dir: Path, folder: str = "software", max_entries: int = 100_000):
        self.root_dir = Path(root_dir).resolve()
        rel = PurePosixPath(folder)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError("c.EsapLab.software_dir must be a relative folder under the server root")
        self.folder = folder
        self.base = self.root_dir / rel
        self.max_entries = max_entries
        self._swept = False

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root_dir).as_posix()

    def target(self, name: str, version: str | None, rid: str) -> Path:
        return self.base / (slug(name) + "-" + slug(version or f"r{rid}", 40))

    def marker(self, target: Path) -> dict[str, Any] | None:
        try:
            return json.loads((target / MARKER).read_text())
        except (OSError, ValueError):
            return None

    def opened(self, rid: str, base_url: str) -> Path | None:
        """The folder an earlier open of this record made, if it is still there."""
        if not self.base.is_dir():
            return None
        for child in self.base.iterdir():
            if child.name.startswith("."):
                continue
            m = self.marker(child)
            if m and m.get("id") == rid and m.get("ossr") == base_url:
                return child
        return None

    def sweep(self, older_than: float = 3600.0) -> None:
        """Remove temporary folders a stopped server left behind."""
        if self._swept or not self.base.is_dir():
            return
        self._swept = True
        now = time.time()
        for child in self.base.iterdir():
            if child.name.startswith(".") and PART in child.name:
                try:
                    if now - child.stat().st_mtime > older_than:
                        shutil.rmtree(child, ignore_errors=True)
                except OSError:
                    pass

    def install(self, target: Path, fill: Callable[[Path], list[str]], marker: dict[str, Any]) -> list[str]:
        """Make ``target`` whole or not at all: ``fill(tmp)`` writes into a temporary folder beside it
        (-> entries skipped), which then becomes ``target``. -> what fill skipped."""
        if target.exists():
            raise Conflict(f"{self.rel(target)} already exists and was not made from this record: move it away "
                           "first.", reason="folder-exists")
        self.base.mkdir(parents=True, exist_ok=True)
        self.sweep()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{PART}", dir=target.parent))
        try:
            skipped = fill(tmp)
            (tmp / MARKER).write_text(json.dumps(marker, indent=1))
            tmp.chmod(0o755)
            try:
                os.rename(tmp, target)  # atomic; fails when target appeared meanwhile
            except OSError as e:
                raise Conflict(f"{self.rel(target)} appeared while this record was being opened.",
                               reason="folder-exists") from e
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return skipped

    def describe(self, target: Path) -> tuple[str | None, list[str], int]:
        """(its README, its notebooks, how many files), paths relative to the server root."""
        readme = next((self.rel(p) for p in sorted(target.iterdir()) if p.is_file() and README.match(p.name)), None)
        notebooks: list[Path] = []
        files = 0
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for f in filenames:
                if f == MARKER:
                    continue
                files += 1
                if f.endswith(".ipynb") and ".ipynb_checkpoints" not in dirpath:
                    notebooks.append(Path(dirpath) / f)
        notebooks.sort(key=lambda p: (len(p.relative_to(target).parts), str(p)))
        return readme, [self.rel(p) for p in notebooks], files

    # -- archives -----------------------------------------------------------------------------
    def unpack_into(self, archive: Path, into: Path, max_bytes: int) -> list[str]:
        """Unpack ``archive`` and merge its content into ``into`` (an archive whose entries all sit
        in one top folder, as GitHub's release archives do, gives that folder's content). Raises
        UnsafeArchive when an entry would land outside. -> entries skipped."""
        work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=into))
        try:
            if archive.name.lower().endswith(".zip"):
                skipped = self._unzip(archive, work, max_bytes)
            else:
                skipped = self._untar(archive, work, max_bytes)
            entries = list(work.iterdir())
            src = entries[0] if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink() else work
            for entry in sorted(src.iterdir()):
                dest = into / entry.name
                if dest.exists() or entry.name == MARKER:
                    skipped.append(f"{archive.name}: {entry.name} (name already taken)")
                    continue
                os.rename(entry, dest)
            return skipped
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _check_name(self, archive: Path, name: str) -> PurePosixPath:
        n = name.replace("\\", "/")
        p = PurePosixPath(n)
        if n.startswith("/") or re.match(r"^[A-Za-z]:", n) or ".." in p.parts:
            raise UnsafeArchive(archive.name, name)
        return p

    def _unzip(self, archive: Path, work: Path, max_bytes: int) -> list[str]:
        skipped: list[str] = []
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError) as e:
            raise RemoteError("ossr", f"{archive.name} is not a readable zip archive.", reason="bad-archive") from e
        with zf:
            infos = zf.infolist()
            if len(infos) > self.max_entries:
                raise _too_many(archive.name, self.max_entries)
            for info in infos:  # every name checked before anything is written
                self._check_name(archive, info.filename)
            total = 0
            for info in infos:
                rel = self._check_name(archive, info.filename)
                mode = info.external_attr >> 16
                if not rel.parts:
                    continue
                dest = work.joinpath(*rel.parts)
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: written without a Unix type
                    skipped.append(f"{archive.name}: {info.filename} (a link or special file)")
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with zf.open(info) as src, open(dest, "wb") as out:
                        while chunk := src.read(1 << 20):
                            total += len(chunk)
                            if total > max_bytes:
                                raise _unpacked_too_big(archive.name)
                            out.write(chunk)
                except (zipfile.BadZipFile, OSError, EOFError) as e:
                    raise RemoteError("ossr", f"{archive.name} is damaged ({info.filename}).",
                                      reason="bad-archive") from e
                if mode & 0o111:
                    dest.chmod(0o755)
        return skipped

    def _untar(self, archive: Path, work: Path, max_bytes: int) -> list[str]:
        skipped: list[str] = []
        try:
            tf = tarfile.open(archive)  # noqa: SIM115 - closed by the with below; a bad file is told apart here
        except (tarfile.TarError, OSError) as e:
            raise RemoteError("ossr", f"{archive.name} is not a readable tar archive.", reason="bad-archive") from e
        with tf:
            try:
                members = tf.getmembers()
            except (tarfile.TarError, OSError, EOFError) as e:
                raise RemoteError("ossr", f"{archive.name} is damaged.", reason="bad-archive") from e
            if len(members) > self.max_entries:
                raise _too_many(archive.name, self.max_entries)
            for m in members:
                self._check_name(archive, m.name)
            keep = []
            total = 0
            for m in members:
                if m.isdir() or m.isreg():
                    total += m.size if m.isreg() else 0
                    keep.append(m)
                else:
                    skipped.append(f"{archive.name}: {m.name} (a link or special file)")
            if total > max_bytes:
                raise _unpacked_too_big(archive.name)
            try:
                tf.extractall(work, members=keep, filter="data")
            except (tarfile.TarError, OSError, EOFError) as e:
                raise RemoteError("ossr", f"{archive.name} could not be unpacked ({type(e).__name__}).",
                                  reason="bad-archive") from e
        return skipped


def _too_many(name: str, n: int) -> RemoteError:
    return RemoteError("ossr", f"{name} has more than {n} entries; it was not unpacked.", reason="too-large")


def _unpacked_too_big(name: str) -> RemoteError:
    return RemoteError("ossr", f"{name} unpacks to more than this server accepts (c.EsapLab.software_max_bytes); "
                               "nothing was kept.", reason="too-large")


# -- "open here" operations ----------------------------------------------------------------------
class OpenRecord(Base):
    __tablename__ = "esap_software_opens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(128), index=True)
    ossr: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    files: Mapped[list | None] = mapped_column(JSON)  # the keys asked for; None: all
    status: Mapped[str] = mapped_column(String(16), index=True)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(64))
    error_status: Mapped[int | None] = mapped_column(Integer)
    service: Mapped[str | None] = mapped_column(String(256))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def info(self) -> OpenOperation:
        if self.status == "completed":
            progress = 1.0
        elif self.bytes_total:
            progress = min(0.99, self.bytes_done / self.bytes_total)
        else:
            progress = 0.0
        return OpenOperation(
            id=self.id, record_id=self.record_id, ossr=self.ossr, title=self.title, bytes_done=self.bytes_done,
            bytes_total=self.bytes_total, progress=round(progress, 4),
            result=OpenResult(**self.result) if self.result else None, **operation_fields(self))

    def error(self) -> EsapError:
        return error_of(self, "Opening the record failed.")


class OpenStore:
    """Reads and writes of the open operations; blocking (callers go through ``Database.run``)."""

    def __init__(self, db: Database):
        self.db = db

    def insert(self, rec: OpenRecord) -> OpenOperation:
        with self.db.session() as s:
            s.add(rec)
            s.flush()
            return rec.info()

    def load(self, oid: str) -> OpenRecord:
        with self.db.read() as s:
            rec = s.get(OpenRecord, oid)
            if rec is None:
                raise NotFound(f"No open operation {oid!r}: it never existed or was forgotten.",
                               reason="unknown-open")
            s.expunge(rec)
            return rec

    def update(self, oid: str, values: dict[str, Any]) -> bool:
        """Apply ``values`` unless the operation has ended (a late worker changes nothing)."""
        with self.db.session() as s:
            rec = s.get(OpenRecord, oid)
            return rec is not None and transition(rec, values)

    def active(self) -> list[tuple[str, datetime]]:
        with self.db.read() as s:
            return [(r.id, r.created) for r in s.scalars(select(OpenRecord).where(OpenRecord.status.in_(ACTIVE)))]

    def recent(self, limit: int = 20) -> list[OpenOperation]:
        with self.db.read() as s:
            q = select(OpenRecord).order_by(OpenRecord.created.desc()).limit(limit)
            return [r.info() for r in s.scalars(q)]

    def forget(self, oid: str) -> None:
        with self.db.session() as s:
            rec = s.get(OpenRecord, oid)
            if rec is not None:
                s.delete(rec)

    def now(self) -> datetime:
        return utcnow()
