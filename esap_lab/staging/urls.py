"""Plain files by URL (archive records' access URLs, basket file items): streamed to a
``.part`` file with progress, checked against the size and checksum when they are known, then
renamed into place. Blocking; the staging manager runs it in threads.

Requests go through an esap_lab.outbound.Session: the outbound policy (no loopback, link-local or
private addresses unless the admin allows them; redirects only to the same host), a total
deadline per file, and a cancel that closes the connection at once."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from .. import outbound
from ..errors import EsapError

CHUNK = 1 << 20


class Cancelled(Exception):
    """The transfer was cancelled while this file was being fetched."""


class FetchError(Exception):
    """A file could not be fetched or did not match what was expected."""


class _Adler32:
    def __init__(self):
        self.value = 1

    def update(self, data: bytes) -> None:
        self.value = zlib.adler32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value & 0xFFFFFFFF:08x}"


def checksummer(checksum: str | None):
    if not checksum:
        return None
    algo = checksum.split(":", 1)[0].lower()
    return _Adler32() if algo == "adler32" else hashlib.new(algo)


def file_name(url: str, given: str | None = None) -> str:
    """A safe local file name for ``url``: the given one, else the URL's last path segment."""
    name = given or unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1])
    name = re.sub(r"[^A-Za-z0-9._+=,@-]+", "_", name).strip("._")
    return name[:200] or "file-" + hashlib.sha1(url.encode()).hexdigest()[:12]


def part_path(path: str | os.PathLike) -> Path:
    return Path(str(path) + ".part")


def check_url(url: str) -> None:
    """Refuse (outbound.OutboundRefused, a 400) a URL the outbound policy forbids (blocking: DNS)."""
    outbound.check_url(url)


def fetch(url: str, path: str | os.PathLike, *, size: int | None, checksum: str | None,
          cancelled: threading.Event, progress: Callable[[int], None], timeout: float = 60.0,
          deadline: float | None = None, session: outbound.Session | None = None) -> int:
    """Download ``url`` to ``path``; -> the number of bytes. Raises Cancelled or FetchError.
    ``timeout`` bounds connecting and each read, ``deadline`` (default 10 x timeout) the whole
    file. Setting ``cancelled`` closes the connection within a fraction of a second."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(path)
    digest = checksummer(checksum)
    done = 0
    host = urlparse(url).hostname or url
    deadline = deadline or 10 * timeout
    own = session is None
    http = session or outbound.Session(host, timeout=timeout, deadline=deadline)
    stop = _on_cancel(cancelled, http.abort)
    try:
        if cancelled.is_set():
            raise Cancelled()
        with http.get(url, stream=True, timeout=timeout, headers={"User-Agent": "esap-lab"}) as r:
            if r.status_code >= 400:
                raise FetchError(f"{url} answered HTTP {r.status_code}")
            length = r.headers.get("Content-Length")
            expected = size if size is not None else (
                int(length) if length and not r.headers.get("Content-Encoding") else None)
            with open(part, "wb") as out:
                for chunk in r.iter_content(CHUNK):
                    if cancelled.is_set():
                        raise Cancelled()
                    out.write(chunk)
                    if digest is not None:
                        digest.update(chunk)
                    done += len(chunk)
                    progress(done)
        if expected is not None and done != expected:
            raise FetchError(f"{url}: got {done} bytes, expected {expected}")
        if digest is not None:
            want = checksum.split(":", 1)[1].lower()
            got = digest.hexdigest().lower()
            if got != want:
                raise FetchError(f"{url}: checksum mismatch ({checksum.split(':')[0]} {got}, expected {want})")
        os.replace(part, path)
        return done
    except (Cancelled, FetchError):
        raise
    except Exception as e:
        if cancelled.is_set() or http.aborted:
            raise Cancelled() from e
        if isinstance(e, EsapError) and not isinstance(e, outbound.OutboundRefused):
            raise  # e.g. raised by ``progress`` (a size limit): the caller's own error
        err = outbound.remote_error(host, e, timeout=deadline, session=http)
        raise FetchError(f"{url}: {err.message}") from e
    finally:
        stop()
        if own:
            http.close()
        part.unlink(missing_ok=True)


def _on_cancel(cancelled: threading.Event, abort: Callable[[], None]) -> Callable[[], None]:
    """Run ``abort`` as soon as ``cancelled`` is set (until the returned function is called)."""
    if hasattr(cancelled, "on_cancel"):  # an esap_lab.executors.CancelToken: no thread needed
        cancelled.on_cancel(abort)
        return lambda: None
    finished = threading.Event()

    def watch():
        while not finished.is_set():
            if cancelled.wait(0.25):
                abort()
                return

    threading.Thread(target=watch, name="esap-url-cancel", daemon=True).start()
    return finished.set
