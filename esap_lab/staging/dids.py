"""Rucio as an archive: DID search (query kind "did") and the contents of a dataset or container.

``RucioArchive`` is the adapter the archive registry builds for ``{"type": "rucio",
"rucio_instance": "<name>"}`` archives; its results go through the same query manager, result
store and grid as IVOA results, and its rows carry what a basket DID item needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import requests

from ..archives.config import ArchiveConfig
from ..archives.models import Column, DidQuery
from ..archives.results import ResultTable
from ..errors import BadRequest, EsapError
from .models import DidContents, DidFile
from .sessions import RucioSessions

DEFAULT_MAXREC = 10_000
DID_COLUMNS = [
    Column(name="did", datatype="char", description="data identifier scope:name"),
    Column(name="scope", datatype="char", description="Rucio scope"),
    Column(name="name", datatype="char", description="name in the scope"),
    Column(name="did_type", datatype="char", description="FILE, DATASET or CONTAINER"),
    Column(name="bytes", datatype="long", unit="byte", description="size (files; collections once counted)"),
    Column(name="length", datatype="long", description="number of files (collections, once counted)"),
    Column(name="instance", datatype="char", description="the Rucio instance"),
]


def did_parts(did: str) -> tuple[str, str]:
    scope, sep, name = did.partition(":")
    if not sep or not scope or not name:
        raise BadRequest(f"{did!r} is not a DID: write scope:name.", reason="bad-did")
    return scope, name


class RucioArchive:
    """One archive entry of type rucio, searching the DIDs of one Rucio instance."""

    def __init__(self, cfg: ArchiveConfig, timeout: float, sessions: RucioSessions):
        self.cfg = cfg
        self.timeout = cfg.timeout or timeout
        self.sessions = sessions
        if not cfg.rucio_instance:
            raise BadRequest(f"Archive {cfg.id!r} is of type rucio but names no rucio_instance.")
        self.instance = sessions.config(cfg.rucio_instance)

    @property
    def capabilities(self) -> list[str]:
        return ["did"]

    @property
    def services(self) -> dict[str, str]:
        return {"did": str(self.instance.rucio_host)}

    def check(self) -> bool:
        try:
            r = requests.get(str(self.instance.rucio_host).rstrip("/") + "/ping", timeout=3,
                             verify=self.instance.ca_cert or True)
            return r.status_code < 500
        except requests.RequestException:
            return False

    def run(self, request, *, remote: str | None, on_remote: Callable, cancelled: threading.Event) -> ResultTable:
        if not isinstance(request, DidQuery):
            raise BadRequest(f"Archive {self.cfg.title!r} answers only DID searches (kind \"did\").")
        return self.sessions.run(self.instance.name, self._search, request, cancelled)

    def _search(self, client, q: DidQuery, cancelled: threading.Event) -> ResultTable:
        maxrec = q.maxrec or DEFAULT_MAXREC
        for key, value in q.filters.items():
            if not isinstance(value, str | int | float | bool):
                raise BadRequest(f"The metadata filter {key!r} needs one value (text or number); use "
                                 f"{key}.gte / {key}.lte / {key}.ne for comparisons.", reason="bad-did-filter")
        filters = {**{k: v for k, v in q.filters.items() if k != "name"}, "name": q.name}
        rows: dict[str, list] = {c.name: [] for c in DID_COLUMNS}
        overflow = False
        try:
            found = client.list_dids(q.scope, filters, did_type=q.type, long=True)
            for n, d in enumerate(found):
                if n >= maxrec:
                    overflow = True
                    break
                if cancelled.is_set():
                    break
                rows["did"].append(f"{d['scope']}:{d['name']}")
                rows["scope"].append(d["scope"])
                rows["name"].append(d["name"])
                rows["did_type"].append(d.get("did_type"))
                rows["bytes"].append(d.get("bytes"))
                rows["length"].append(d.get("length"))
                rows["instance"].append(self.instance.name)
        except EsapError:
            raise
        except Exception as e:  # a filter the server cannot apply is the user's to fix
            from rucio.common.exception import InvalidMetadata, KeyNotFound, UnsupportedKeyType

            if isinstance(e, InvalidMetadata | KeyNotFound | UnsupportedKeyType | ValueError):
                raise BadRequest(f"Rucio instance {self.instance.name} cannot filter on "
                                 f"{sorted(q.filters)}: {e}", reason="bad-did-filter") from None
            raise
        _count_collections(client, rows, cancelled)
        types = {"bytes": pa.int64(), "length": pa.int64()}
        table = pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in rows.items()})
        return ResultTable(table=table, columns=list(DID_COLUMNS), overflow=overflow)


SIZED_AT_MOST = 200  # collections whose size and file count are asked for, one call each


def _count_collections(client, rows: dict[str, list], cancelled: threading.Event) -> None:
    """Size and number of files of the datasets and containers found (Rucio's search leaves them
    empty until its counters run), for a result small enough to ask each of them."""
    todo = [i for i, t in enumerate(rows["did_type"]) if t in ("DATASET", "CONTAINER") and rows["bytes"][i] is None]
    if not todo or len(todo) > SIZED_AT_MOST:
        return

    def ask(i: int) -> None:
        if cancelled.is_set():
            return
        try:
            d = client.get_did(rows["scope"][i], rows["name"][i], dynamic_depth="FILE")
        except Exception:  # noqa: BLE001 - a count is a nicety; the row stays without it
            return
        rows["bytes"][i], rows["length"][i] = d.get("bytes"), d.get("length")

    with ThreadPoolExecutor(min(8, len(todo)), thread_name_prefix="esap-lab-did-sizes") as pool:
        list(pool.map(ask, todo))


def list_contents(sessions: RucioSessions, instance: str, did: str, offset: int = 0,
                  limit: int = 1000) -> DidContents:
    """The files of a DID (recursively for containers) with sizes, checksums and where each has
    replicas in which state (blocking)."""
    scope, name = did_parts(did)

    def work(client) -> DidContents:
        meta = client.get_did(scope, name)
        kind = meta.get("type") or meta.get("did_type") or "UNKNOWN"
        files = [meta] if kind == "FILE" else list(client.list_files(scope, name))
        files.sort(key=lambda f: (f["scope"], f["name"]))
        total = len(files)
        page = files[offset:offset + limit]
        states: dict[tuple[str, str], dict[str, str]] = {}
        if page:
            for rep in client.list_replicas([{"scope": f["scope"], "name": f["name"]} for f in page],
                                            all_states=True, ignore_availability=True):
                states[(rep["scope"], rep["name"])] = dict(rep.get("states") or {})
        out = []
        for f in page:
            reps = states.get((f["scope"], f["name"]), {})
            out.append(DidFile(scope=f["scope"], name=f["name"], did=f"{f['scope']}:{f['name']}",
                               bytes=f.get("bytes"), adler32=f.get("adler32"), md5=f.get("md5"),
                               replicas=reps, available=any(s == "AVAILABLE" for s in reps.values())))
        return DidContents(instance=instance, did=did, did_type=kind, files=out, total=total, offset=offset,
                           bytes=sum(f.get("bytes") or 0 for f in files))

    return sessions.run(instance, work)
