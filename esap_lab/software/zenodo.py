"""The OSSR's REST API (Zenodo's records API, also served by InvenioRDM), spoken with requests.

Why not eossr (the ESCAPE library on PyPI)? It is written for curators publishing to zenodo.org:
its base URLs are fixed to zenodo.org and its sandbox (a site's own InvenioRDM cannot be
configured), its requests use a fixed 35 s timeout and reading a codemeta.json uses ``urlopen``
with none at all (a server cannot keep a total deadline), it uses module-level requests calls
with no session to reuse connections, and it pulls in pandas, numpy>=2, remotezip, bs4, markdown,
jsonschema and setuptools_scm at run time for the three GET requests esap-lab needs
(search a community, one record, its files). So this module does those requests itself, through
an esap_lab.outbound session (the server's address and redirect policy): every call blocks, takes
a ``Deadline`` (what is left of the caller's total time) and raises the house's errors
(RemoteError 502 / RemoteTimeout 504 naming the OSSR, NotFound 404).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from .. import outbound
from ..errors import BadRequest, NotFound, RemoteError, RemoteTimeout

SERVICE = "ossr"
# what a request through an outbound.Session raises when the network or the policy fails it
_NETWORK = (requests.RequestException, outbound.DeadlineExceeded, outbound.Aborted, outbound.OutboundRefused)
MAX_JSON = 20 << 20  # bytes of one API answer
MAX_CODEMETA = 2 << 20


class Deadline:
    """The total time an operation may take, shared by all the requests it makes, and the
    outbound session they go through (made on first use; ``close()`` when the operation ends)."""

    def __init__(self, seconds: float, what: str):
        self.seconds = seconds
        self.what = what
        self.end = time.monotonic() + seconds
        self.session: outbound.Session | None = None
        self._lock = threading.Lock()
        # an open as a long operation: bytes downloaded are reported, and a cancel stops it
        self.on_bytes: Callable[[int], None] | None = None
        self.cancelled: threading.Event | None = None

    def step(self, n: int) -> None:
        """``n`` more bytes arrived: raise once the operation is cancelled or out of time, else report them."""
        if self.cancelled is not None and self.cancelled.is_set():
            raise outbound.Aborted()
        if self.remaining() <= 0:
            raise self.expired()
        if self.on_bytes is not None:
            self.on_bytes(n)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> RemoteTimeout:
        return RemoteTimeout(SERVICE, f"The OSSR ({self.what}) did not answer within {self.seconds:g} s.")

    def timeout(self, cap: float | None = None) -> float:
        """Seconds the next network wait may take; raises RemoteTimeout once none are left."""
        left = self.remaining()
        if left <= 0:
            raise self.expired()
        return min(left, cap) if cap else left


class Ossr:
    """One OSSR: a Zenodo (or InvenioRDM) site and the community searched."""

    def __init__(self, base_url: str, community: str, request_timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.community = community
        self.request_timeout = request_timeout
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.netloc)

    @property
    def label(self) -> str:
        return f"{self.base_url}, community {self.community}" if self.community else self.base_url

    def session(self, deadline: Deadline) -> outbound.Session:
        """The operation's session: esap-lab's outbound policy (addresses, redirects), each request
        bounded as a whole by what is left of the operation's deadline."""
        with deadline._lock:
            if deadline.session is None:
                s = outbound.Session(f"the OSSR at {self.base_url}", timeout=self.request_timeout,
                                     deadline=max(deadline.remaining(), 0.001))
                s.headers["Accept"] = "application/json"
                deadline.session = s
            return deadline.session

    # -- errors -------------------------------------------------------------------------------
    def _failed(self, exc: BaseException, deadline: Deadline) -> RemoteError:
        err = outbound.remote_error(f"The OSSR at {self.base_url}", exc, timeout=deadline.seconds,
                                    session=deadline.session)
        if isinstance(err, RemoteTimeout):
            return RemoteTimeout(SERVICE, err.message, reason=err.reason)
        hint = " Check c.EsapLab.software_url, or try again later." if err.reason == "remote-unreachable" else ""
        return RemoteError(SERVICE, err.message + hint, reason=err.reason)

    def _get_json(self, url: str, params: dict[str, Any] | None, deadline: Deadline, what: str) -> Any:
        try:
            with self.session(deadline).get(url, params=params, timeout=deadline.timeout(self.request_timeout),
                                    stream=True) as r:
                if r.status_code == 404:
                    raise NotFound(f"The OSSR at {self.base_url} has no {what}.", reason="unknown-software")
                if r.status_code == 400 and what == "search":
                    raise BadRequest(f"q: the OSSR at {self.base_url} did not accept this query "
                                     f"({_message(r)}).", reason="invalid-query")
                if r.status_code >= 400:
                    raise RemoteError(SERVICE, f"The OSSR at {self.base_url} answered HTTP {r.status_code} "
                                               f"for {what}.")
                body = _read_capped(r, MAX_JSON, deadline)
                deadline.session.ended(r)
        except _NETWORK as e:
            raise self._failed(e, deadline) from e
        try:
            return json.loads(body)
        except ValueError as e:
            raise RemoteError(SERVICE, f"The OSSR at {self.base_url} answered {what} with something that is not "
                                       "JSON: is c.EsapLab.software_url a Zenodo or InvenioRDM site?") from e

    # -- the API --------------------------------------------------------------------------------
    def search(self, q: str, page: int, size: int, deadline: Deadline) -> dict[str, Any]:
        params: dict[str, Any] = {"q": q, "page": page, "size": size}
        if self.community:
            params["communities"] = self.community
        data = self._get_json(f"{self.base_url}/api/records", params, deadline, "search")
        hits = data.get("hits") if isinstance(data, dict) else None
        if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
            raise RemoteError(SERVICE, f"The OSSR at {self.base_url} answered a search without hits.")
        return data

    def record(self, rid: str, deadline: Deadline) -> dict[str, Any]:
        data = self._get_json(f"{self.base_url}/api/records/{quote(rid, safe='')}", None, deadline,
                              f"record {rid}")
        if not isinstance(data, dict) or "metadata" not in data:
            raise RemoteError(SERVICE, f"The OSSR at {self.base_url} answered record {rid} without metadata.")
        return data

    def file_url(self, rid: str, f: dict[str, Any]) -> str:
        """A file's download URL: the record's link when it is on the OSSR's own site (never
        another host named in an answer), else the API's standard one."""
        links = f.get("links") or {}
        for url in (links.get("self"), links.get("download"), links.get("content")):
            if isinstance(url, str) and (urlsplit(url).scheme, urlsplit(url).netloc) == self._origin:
                return url
        key = f.get("key") or f.get("filename") or ""
        return f"{self.base_url}/api/records/{quote(rid, safe='')}/files/{quote(key, safe='')}/content"

    def read_file(self, url: str, deadline: Deadline, limit: int = MAX_CODEMETA) -> bytes:
        """A small file (codemeta.json) in memory."""
        try:
            with self.session(deadline).get(url, timeout=deadline.timeout(self.request_timeout), stream=True,
                                    headers={"Accept": "*/*"}) as r:
                if r.status_code >= 400:
                    raise RemoteError(SERVICE, f"The OSSR at {self.base_url} answered HTTP {r.status_code} for "
                                               f"{url.rsplit('/', 2)[-2] if url.endswith('/content') else url}.")
                body = _read_capped(r, limit, deadline)
                deadline.session.ended(r)
                return body
        except _NETWORK as e:
            raise self._failed(e, deadline) from e

    def download(self, url: str, path: Path, *, size: int | None, checksum: str | None, deadline: Deadline,
                 budget: list[int], name: str) -> int:
        """Stream one file to ``path`` (through ``path.part``, removed on any failure), verified
        against its size and checksum; ``budget`` is [bytes still allowed] shared by the files
        of one open. -> bytes."""
        if size is not None and size > budget[0]:
            raise _too_big(name)
        digest = _hasher(checksum)
        part = path.with_name(path.name + ".part")
        done = 0
        try:
            with self.session(deadline).get(url, stream=True, timeout=deadline.timeout(self.request_timeout),
                                    headers={"Accept": "*/*"}) as r:
                if r.status_code >= 400:
                    raise RemoteError(SERVICE, f"The OSSR at {self.base_url} answered HTTP {r.status_code} for "
                                               f"{name}; nothing was kept.", reason="download-failed")
                with open(part, "wb") as out:
                    for chunk in r.iter_content(1 << 18):  # progress and cancel every 256 KiB
                        done += len(chunk)
                        if done > budget[0]:
                            raise _too_big(name)
                        deadline.step(len(chunk))
                        out.write(chunk)
                        if digest is not None:
                            digest.update(chunk)
                deadline.session.ended(r)
            if size is not None and done != size:
                raise RemoteError(SERVICE, f"{name} from the OSSR at {self.base_url} has {done} bytes, not the "
                                           f"{size} the OSSR publishes; nothing was kept.", reason="download-failed")
            if digest is not None and digest.hexdigest().lower() != checksum.split(":", 1)[1].lower():
                raise RemoteError(SERVICE, f"{name} from the OSSR at {self.base_url} does not match the checksum "
                                           f"the OSSR publishes ({checksum}); nothing was kept.",
                                  reason="checksum-mismatch")
            os.replace(part, path)
        except _NETWORK as e:
            raise self._failed(e, deadline) from e
        finally:
            part.unlink(missing_ok=True)
        budget[0] -= done
        return done


def _hasher(checksum: str | None):
    """A hashlib object for "algo:hex" (md5 is what Zenodo publishes); None when there is nothing
    to check or the algorithm is unknown here."""
    if not checksum or ":" not in checksum:
        return None
    try:
        return hashlib.new(checksum.split(":", 1)[0].lower())
    except ValueError:
        return None


def _message(r: requests.Response) -> str:
    try:
        text = str(r.json().get("message") or "")
    except (ValueError, AttributeError):
        text = ""
    return " ".join(text.split())[:300] or f"HTTP {r.status_code}"


def _too_big(name: str) -> RemoteError:
    return RemoteError(SERVICE, f"{name} is larger than this server accepts (c.EsapLab.software_max_bytes); "
                                "nothing was kept.", reason="too-large")


def _read_capped(r: requests.Response, limit: int, deadline: Deadline) -> bytes:
    chunks, n = [], 0
    for chunk in r.iter_content(1 << 16):
        n += len(chunk)
        if n > limit:
            raise RemoteError(SERVICE, f"An answer of the OSSR is larger than {limit >> 20} MB.")
        if deadline.remaining() <= 0:
            raise deadline.expired()
        chunks.append(chunk)
    return b"".join(chunks)


# -- Zenodo's metadata --------------------------------------------------------------------------
_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(?:p|br|div|li|ul|ol|h\d)\b[^>]*>", re.IGNORECASE)


def plain_text(text: Any) -> str:
    """Zenodo descriptions are HTML: their text, paragraphs kept as line breaks."""
    if not isinstance(text, str):
        return ""
    text = _BLOCK.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _license(v: Any) -> str | None:
    if isinstance(v, dict):
        v = v.get("id") or v.get("title")
        if isinstance(v, dict):  # InvenioRDM: {"en": "..."}
            v = next(iter(v.values()), None)
    return str(v) if v else None


def zenodo_fields(rec: dict[str, Any], ossr: Ossr) -> dict[str, Any]:
    """The fields of SoftwareRecord from a record as Zenodo's records API serialises it."""
    md = rec.get("metadata") or {}
    rid = str(rec.get("id") or rec.get("recid") or "")
    links = rec.get("links") or {}
    rtype = md.get("resource_type")
    files = []
    raw_files = rec.get("files")
    if isinstance(raw_files, dict):  # InvenioRDM: {"entries": {key: {...}}} or [...]
        entries = raw_files.get("entries") or {}
        raw_files = list(entries.values()) if isinstance(entries, dict) else entries
    for f in raw_files or []:
        if not isinstance(f, dict):
            continue
        key = f.get("key") or f.get("filename")
        if not isinstance(key, str) or not key:
            continue
        size = f.get("size", f.get("filesize"))
        files.append({"key": key, "size": size if isinstance(size, int) else None,
                      "checksum": f.get("checksum") if isinstance(f.get("checksum"), str) else None,
                      "url": ossr.file_url(rid, f)})
    creators = md.get("creators") or []
    title = str(md.get("title") or rec.get("title") or f"record {rid}")
    return {
        "id": rid,
        "ossr": ossr.base_url,
        "title": title,
        "name": title,
        "description": plain_text(md.get("description")),
        "version": str(md["version"]) if md.get("version") else None,
        "license": _license(md.get("license")),
        "keywords": [str(k) for k in md.get("keywords") or [] if isinstance(k, str | int | float)],
        "authors": [str(c.get("name") or "") for c in creators if isinstance(c, dict) and c.get("name")],
        "programming_language": [],
        "runtime_platform": [],
        "doi": rec.get("doi") or md.get("doi"),
        "url": links.get("self_html") or links.get("html"),
        "published": md.get("publication_date"),
        "resource_type": (rtype.get("type") or rtype.get("id")) if isinstance(rtype, dict) else None,
        "files": files,
    }


def codemeta_file(fields: dict[str, Any]) -> dict[str, Any] | None:
    """The record's top-level codemeta.json, if it has one."""
    return next((f for f in fields["files"] if f["key"].lower() == "codemeta.json"), None)
