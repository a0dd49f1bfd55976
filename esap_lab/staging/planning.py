"""Planning a transfer: what the request names (DIDs, basket items, URLs), checked against Rucio
before anything starts, and where each file goes.

Where files go (download mode): under the destination folder (default: the instance's
``download_folder``),

- a dataset's or container's files into ``<scope>/<name>/`` of the DID asked for;
- a file asked for by itself into ``<scope>/``;
- plain URLs into the folder itself.

Two files never share a path: within a transfer, a file whose name is taken goes into a
subfolder named after its own scope (Rucio) or gets a ``-2``, ``-3``... suffix (URLs); a URL
file never replaces a file that is already on disk (it gets the next free suffix).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import executors
from ..errors import BadRequest, Conflict
from ..outbound import OutboundRefused
from . import urls as urlfetch
from .dids import did_parts
from .models import StageBody, UrlSpec

REPLICA_CHUNK = 50


class Planner:
    def __init__(self, root: Path, sessions: Any, basket: Any = None):
        self.root = root
        self.sessions = sessions
        self.basket = basket  # callable: item id -> basket item (blocking); None: items unsupported

    def under_root(self, folder: str) -> Path:
        """``folder`` (relative to the server root, or absolute) if it lies under the root."""
        p = Path(folder).expanduser()
        p = (p if p.is_absolute() else self.root / p).resolve()
        if p != self.root and self.root not in p.parents:
            raise BadRequest(f"The destination {folder!r} is outside the server's root folder; "
                             "choose a folder you can see in the file browser.", reason="destination-outside-root")
        return p

    async def expand(self, db, body: StageBody) -> tuple[list[str], list[UrlSpec], str | None]:
        """DIDs, URLs and the Rucio instance from the body, basket items resolved."""
        dids = list(dict.fromkeys(body.dids))
        urls = list(body.urls)
        fields = [f"urls.{i}.url" for i in range(len(urls))]  # where each URL came from, for errors
        instances = {body.instance} if body.instance else set()
        if body.items:
            if self.basket is None:
                raise BadRequest("Staging basket items is not available on this server.", reason="no-basket")
            for iid in dict.fromkeys(body.items):
                item = await db.run(self.basket, iid)
                before = len(urls)
                kind = getattr(item, "kind", None)
                if kind == "did":
                    dids.append(item.did)
                    if item.instance:
                        instances.add(item.instance)
                elif kind == "file":
                    urls.append(url_spec(item.url, iid, name=item.name, bytes=item.size,
                                         checksum=item.checksum if known_checksum(item.checksum) else None))
                elif kind == "record":
                    found = record_urls(item)
                    if not found:
                        raise BadRequest(f"items.{body.items.index(iid)}: \u201c{item.title or iid}\u201d has no file to "
                                         f"download: its rows from {item.archive} carry no access URL (catalogue rows). "
                                         f"Stage image or spectrum rows, files or Rucio DIDs; use catalogue rows in "
                                         f"a notebook or save them as a table.", reason="nothing-to-stage")
                    urls += [url_spec(u, iid) for u in found]
                else:
                    title = getattr(item, "title", None) or iid
                    raise BadRequest(f"items.{body.items.index(iid)}: \u201c{title}\u201d is a {kind}, which has no "
                                     f"file to download: run it and stage rows of its result that link to data.",
                                     reason="nothing-to-stage")
                fields += [f"items.{body.items.index(iid)}"] * (len(urls) - before)
        if urls:  # refused here, before anything is planned or stored, not when the file is fetched
            await executors.run("outbound-check", check_urls, list(zip(fields, (u.url for u in urls))))
        dids = list(dict.fromkeys(dids))
        seen: set[str] = set()
        urls = [u for u in urls if not (u.url in seen or seen.add(u.url))]
        if len(instances) > 1:
            raise BadRequest("The DIDs come from several Rucio instances "
                             f"({', '.join(sorted(instances))}); stage them one instance at a time.",
                             reason="several-instances")
        instance = next(iter(instances), None)
        if dids:
            instance = self.sessions.config(instance).name
        return dids, urls, instance

    @staticmethod
    def title(dids: list[str], urls: list[UrlSpec], mode: str, cfg) -> str:
        what = dids + [u.url.rsplit("/", 1)[-1] for u in urls]
        head = what[0] if what else "nothing"
        more = f" and {len(what) - 1} more" if len(what) > 1 else ""
        where = f" → {cfg.destination_rse}" if mode == "replica" else ""
        return f"{head}{more}{where}"

    @staticmethod
    def plan_dids(client, cfg, dids: list[str], mode: str, destination: str) -> tuple[list[dict], list[dict]]:
        """Check the DIDs and list their files with replicas (blocking; inside sessions.call).
        -> (files, the DIDs as {scope, name} for rules)."""
        refs, file_refs, parents, folders = [], {}, {}, {}
        for did in dids:
            scope, name = did_parts(did)
            meta = client.get_did(scope, name)  # DataIdentifierNotFound -> 404
            refs.append({"scope": scope, "name": name})
            is_file = meta.get("type") == "FILE"
            inside = [meta] if is_file else client.list_files(scope, name)
            for f in inside:
                key = f"{f['scope']}:{f['name']}"
                file_refs.setdefault(key, {"scope": f["scope"], "name": f["name"]})
                parents.setdefault(key, []).append(f"{scope}:{name}")
                # the folder of the first DID asked for that holds the file
                folders.setdefault(key, (scope,) if is_file else (scope, name))
        files: dict[str, dict] = {}
        lost: list[str] = []
        taken: set[str] = set()
        for rep in replicas(client, list(file_refs.values())):
            did = f"{rep['scope']}:{rep['name']}"
            if did in files:
                continue
            states = rep.get("states") or {}
            pfns = sorted(((p, m) for p, m in (rep.get("pfns") or {}).items()
                           if states.get(m.get("rse")) == "AVAILABLE"),
                          key=lambda pm: (pm[1].get("type") != "DISK", pm[1].get("priority") or 0))
            at_target = mode == "replica" and states.get(cfg.destination_rse) in ("AVAILABLE", "COPYING")
            if not pfns and not at_target:
                lost.append(did)
            adler, md5 = rep.get("adler32"), rep.get("md5")
            base = path = None
            if mode == "download":
                base, path = download_path(destination, folders.get(did, (rep["scope"],)), rep["scope"],
                                           rep["name"], taken)
            files[did] = {
                "did": did, "parents": parents.get(did, []),
                "name": rep["name"], "bytes": rep.get("bytes"), "bytes_done": 0, "state": "queued",
                "checksum": f"adler32:{adler}" if adler else (f"md5:{md5}" if md5 else None),
                "adler32": adler, "md5": md5, "scope": rep["scope"],
                "pfns": [[p, m.get("rse")] for p, m in pfns], "path": path, "base_dir": base,
            }
        if not files:
            raise Conflict(f"{', '.join(dids)} contain(s) no files (Rucio instance {cfg.name}).",
                           reason="no-files")
        if lost:
            shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
            raise Conflict(f"No replica is available for {len(lost)} file(s): {shown} (Rucio instance {cfg.name}).",
                           reason="no-replica")
        return list(files.values()), refs

    @staticmethod
    def plan_urls(urls: list[UrlSpec], destination: str, taken: set[str]) -> list[dict]:
        """Where each URL's file goes: its name in ``destination``, or the next free ``-N``
        suffix when another file of this transfer, or a file on disk, has the name."""
        out = []
        for u in urls:
            name = urlfetch.file_name(u.url, u.name)
            path = Path(destination) / name
            n = 2
            while str(path) in taken or path.exists() or urlfetch.part_path(path).exists():
                stem, dot, ext = name.partition(".")
                path = Path(destination) / f"{stem}-{n}{dot}{ext}"
                n += 1
            taken.add(str(path))
            out.append({"url": u.url, "name": path.name, "bytes": u.bytes, "bytes_done": 0, "state": "queued",
                        "checksum": u.checksum, "path": str(path)})
        return out


def check_urls(urls: list[tuple[str, str]]) -> None:
    """Refuse (a 400 naming the field) the first URL the outbound policy forbids: a non-http(s)
    scheme, a loopback, link-local or private address the admin has not allowed. Blocking (DNS),
    each host resolved once; nothing is sent to any host."""
    seen: set[tuple] = set()
    for field, url in urls:
        try:
            parts = urlsplit(url)
            host = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            host = None
        if host is not None and host in seen:
            continue
        try:
            urlfetch.check_url(url)
        except OutboundRefused as e:
            raise OutboundRefused(f"{field}: {e.message}") from None
        if host is not None:
            seen.add(host)


def replicas(client, refs: list[dict]) -> list[dict]:
    """list_replicas of many files, asked in chunks at once: the server's time grows with the
    number of files, and it answers several requests in parallel."""
    chunks = [refs[i:i + REPLICA_CHUNK] for i in range(0, len(refs), REPLICA_CHUNK)]

    def ask(chunk: list[dict]) -> list[dict]:
        return list(client.list_replicas(chunk, all_states=True, ignore_availability=False))

    if len(chunks) <= 1:
        return ask(refs) if refs else []
    with ThreadPoolExecutor(min(8, len(chunks)), thread_name_prefix="esap-lab-replicas") as pool:
        return [rep for part in pool.map(ask, chunks) for rep in part]


def download_path(destination: str, folder: tuple[str, ...], scope: str, name: str,
                  taken: set[str]) -> tuple[str, str]:
    """-> (the base folder rucio's DownloadClient writes into, the file's path): the file's name
    under ``<destination>/<folder...>``, or under a subfolder named after the file's own scope
    when another file of the transfer already has that path. Never outside the destination
    (names may hold slashes; a leading one is dropped as rucio's DownloadClient does)."""
    rel = Path(name.lstrip("/"))
    if ".." in rel.parts or any(".." in Path(p).parts or "/" in p for p in folder):
        raise BadRequest(f"The file name {scope}:{name} cannot be used as a local path.", reason="bad-file-name")
    base = Path(destination).joinpath(*folder)
    candidates = [base, base / scope] + [base / f"{scope}-{n}" for n in range(2, 100)]
    for b in candidates:
        if str(b / rel) not in taken:
            taken.add(str(b / rel))
            return str(b), str(b / rel)
    raise BadRequest(f"Too many files named {name} in one transfer.", reason="bad-file-name")


def url_spec(url: str, iid: str, **fields) -> UrlSpec:
    if not url.lower().startswith(("http://", "https://")):
        raise BadRequest(f"Basket item {iid} points at {url}: only http(s) URLs can be downloaded here "
                         "(stage Rucio data by its DID).", reason="unsupported-url")
    return UrlSpec(url=url, **{k: v for k, v in fields.items() if v is not None})


def known_checksum(checksum: str | None) -> bool:
    return bool(checksum) and checksum.split(":", 1)[0].lower() in ("md5", "adler32", "sha1", "sha256")


def record_urls(item) -> list[str]:
    if getattr(item, "access_url", None):
        return [item.access_url]
    col = getattr(item, "access_url_column", None)
    if col:
        return [str(r[col]) for r in item.rows if r.get(col)]
    return []
